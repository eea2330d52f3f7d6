"""Shared steps of the generators: a clean output folder, speech synthesis, the card."""

from __future__ import annotations

import importlib.metadata
import io
import json
import logging
import platform
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audit.datasets._beir import write_beir
from audit.datasets._dataset import Dataset
from audit.items import Item

log = logging.getLogger(__name__)

BUILTIN_ROOT = Path(__file__).resolve().parent.parent
ESPEAK = "/usr/bin/espeak-ng"
VOICE_DIR = Path("/usr/lib/x86_64-linux-gnu/espeak-ng-data/voices/!v")
SAMPLE_RATE = 16_000


def fresh_folder(name: str) -> Path:
    """Empty ``builtin/<name>/`` (only ever inside the built-in folder) with ``media/``."""
    root = (BUILTIN_ROOT / name).resolve()
    if root.parent != BUILTIN_ROOT or not re.fullmatch(r"[a-z0-9-]+", name):
        raise ValueError(f"refusing to write outside {BUILTIN_ROOT}: {name!r}")
    if root.exists():
        shutil.rmtree(root)
    (root / "media").mkdir(parents=True)
    return root


def versions(*packages: str) -> dict[str, str]:
    """Installed versions of Python and Debian packages used to make a dataset."""
    out = {"python": platform.python_version()}
    for package in packages:
        if package.startswith("deb:"):
            name = package[4:]
            result = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True
            )
            out[name] = result.stdout.strip() or "unknown"
        else:
            out[package] = importlib.metadata.version(package)
    return out


def speak(text: str, voice: str, *, speed: int = 175) -> np.ndarray:
    """espeak-ng speech as float32 mono at 16 kHz, leading/trailing silence trimmed."""
    import soundfile as sf
    from scipy.signal import resample_poly

    raw = subprocess.run(
        [ESPEAK, "-v", voice, "-s", str(speed), "--stdout", text], capture_output=True, check=True
    ).stdout
    samples, rate = sf.read(io.BytesIO(raw), dtype="float32")
    if rate != 22_050:
        raise RuntimeError(f"espeak-ng wrote {rate} Hz, expected 22050")
    samples = resample_poly(samples, 320, 441).astype(np.float32)  # 22.05 kHz -> 16 kHz
    voiced = np.flatnonzero(np.abs(samples) > 0.01)
    samples = samples[max(voiced[0] - 800, 0) : voiced[-1] + 1600]  # keep 50 ms / 100 ms
    return samples / np.abs(samples).max() * 0.89


def voice_gender(variant: str) -> str:
    """The gender an espeak-ng voice variant file declares (``male``/``female``)."""
    for line in (VOICE_DIR / variant).read_text(encoding="utf-8").splitlines():
        if line.startswith("gender"):
            return line.split()[1]
    raise ValueError(f"voice variant {variant} declares no gender")


def write_dataset(
    root: Path,
    corpus: Sequence[Item],
    queries: Sequence[Item],
    qrels: Mapping[str, Mapping[str, int]],
    card: dict[str, Any],
    readme: str,
) -> Dataset:
    """Write the BEIR files, ``card.json`` (with sizes) and ``README.md``; return it."""
    dataset = Dataset(
        name=card["name"],
        root=root,
        corpus=list(corpus),
        queries=list(queries),
        qrels={q: dict(j) for q, j in qrels.items()},
        card=card,
    )
    dataset.validate()
    if not any((root / "media").iterdir()):
        (root / "media").rmdir()  # text-only datasets have no media
    media_bytes = sum(p.stat().st_size for p in root.glob("media/*") if p.is_file())
    card["size"] = {
        **{k: v for k, v in dataset.describe().items() if k in ("corpus", "queries", "judgements")},
        "media_bytes": media_bytes,
    }
    card["modality_pair"] = dataset.modality_pair
    card["attributes"] = {
        name: sorted(dataset.groups(name)) for name in card.get("group_attributes", [])
    }
    write_beir(dataset, root)
    (root / "README.md").write_text(readme.strip() + "\n\n" + _card_table(card), encoding="utf-8")
    log.info("%s: %s", card["name"], json.dumps(card["size"]))
    return dataset


def _card_table(card: Mapping[str, Any]) -> str:
    size = card["size"]
    rows = [
        ("Modality pair", card["modality_pair"]),
        (
            "Corpus / queries / judgements",
            f"{size['corpus']} / {size['queries']} / {size['judgements']}",
        ),
        ("Media size", f"{size['media_bytes'] / 1e6:.2f} MB"),
        ("Group attributes", ", ".join(card.get("group_attributes", [])) or "none"),
        ("License", card["license"]["summary"]),
        ("Made by", f"`{card['provenance']['generator']}`"),
        ("Tools", ", ".join(f"{k} {v}" for k, v in card["provenance"]["tools"].items())),
    ]
    lines = ["## Card", "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return "\n".join(lines) + "\n"


def ofl_notice() -> str:
    """The SIL OFL 1.1 text as Debian ships it for fonts-noto-color-emoji."""
    text = Path("/usr/share/doc/fonts-noto-color-emoji/copyright").read_text(encoding="utf-8")
    start = text.index("License:   SIL-1.1\n This Font Software")
    body = text[start:].split("\n", 1)[1]
    lines = []
    for line in body.splitlines():
        if line and not line.startswith(" "):
            break
        lines.append("" if line.strip() == "." else line[1:])
    header = "Noto Color Emoji - Copyright 2013-2017 Google Inc., Arjen Nienhuis\n\n"
    return header + "\n".join(lines).strip() + "\n"
