"""The two shipped models: pinned hashes verified before loading, outputs as their packages give."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from audit.items import Item
from audit.safety import (
    NUDENET_SHA256,
    PROFANITY_SHA256,
    NudityChecker,
    ProfanityChecker,
)
from audit.safety._image import nudenet_file
from audit.safety._profanity_export import PICKLE_SHA256, linear_arrays, package_data_dir
from audit.safety._text import profanity_data_dir
from audit.weights import WeightsError, sha256_file

skimage_data = pytest.importorskip("skimage.data")


def test_pinned_hashes_are_the_shipped_files():
    assert sha256_file(nudenet_file()) == NUDENET_SHA256
    for name, digest in PROFANITY_SHA256.items():
        assert sha256_file(profanity_data_dir() / name) == digest
    for name, digest in PICKLE_SHA256.items():  # the wheel the arrays were exported from
        assert sha256_file(package_data_dir() / name) == digest


def test_shipped_profanity_arrays_are_the_packages_model():
    """Re-export from the (hash-verified) pickles: the shipped npz holds the same arrays."""
    fresh = linear_arrays()
    with np.load(profanity_data_dir() / "profanity_linear.npz", allow_pickle=False) as shipped:
        assert sorted(shipped.files) == sorted(fresh)
        for key, value in fresh.items():
            np.testing.assert_array_equal(shipped[key], value)


def test_profanity_model_loads_without_importing_the_package():
    """``import profanity_check`` would unpickle before any hash check: it must not run."""
    code = (
        "import sys; from audit.safety import ProfanityChecker;"
        "c = ProfanityChecker(); p = c.probabilities(['have a nice day', 'this is shit']);"
        "print(round(p[0], 6), round(p[1], 6), 'profanity_check' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    low, high, imported = out.stdout.split()
    assert imported == "False"
    assert float(low) < 0.5 < float(high)


def test_profanity_probabilities_equal_the_package_predict_prob():
    """Peer check: our loading path gives the package's own numbers."""
    texts = ["have a nice day", "you are a fucking idiot", "what the hell", "kill the process"]
    texts += ["", "ThE BeSt Of ShIt", "damn damn damn nice", "unknownwordzzz only"]
    ours = ProfanityChecker().probabilities(texts)
    code = (
        "import json, sys; from profanity_check import predict_prob;"
        f"print(json.dumps(predict_prob({texts!r}).tolist()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    theirs = [float(x) for x in out.stdout.strip()[1:-1].split(",")]
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_a_tampered_model_file_refuses_to_load(monkeypatch):
    monkeypatch.setitem(PROFANITY_SHA256, "profanity_linear.npz", "0" * 64)
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        ProfanityChecker().probabilities(["hello"])


def test_tampered_detector_refuses_to_load(tmp_path):
    copy = tmp_path / "320n.onnx"
    shutil.copy(nudenet_file(), copy)
    with copy.open("ab") as fh:
        fh.write(b"\0")
    checker = NudityChecker(model_path=copy)
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        checker.image_findings(Image.new("RGB", (32, 32)))


def test_nudity_checker_matches_nudenet_on_a_file_and_passes_benign_photos(tmp_path):
    """Our in-memory path gives NudeNet's own file-path scores (channel order right), and
    benign photos do not hit the exposed-nudity labels."""
    from nudenet import NudeDetector

    astronaut = Image.fromarray(skimage_data.astronaut())
    path = tmp_path / "astronaut.png"
    astronaut.save(path)
    reference = NudeDetector().detect(str(path))  # OpenCV reads the file itself
    face = max(d["score"] for d in reference if d["class"] == "FACE_FEMALE")
    faces = NudityChecker(labels=("FACE_FEMALE",), category="face", threshold=0.5)
    f = faces.check(Item("a", "image", path.read_bytes()))
    assert not f.allowed and f.score == pytest.approx(face, abs=1e-6)
    exposed = NudityChecker()
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        img = Image.fromarray(np.asarray(getattr(skimage_data, name)())).convert("RGB")
        (finding,) = exposed.image_findings(img)
        assert not finding.hit, (name, finding.reason)
