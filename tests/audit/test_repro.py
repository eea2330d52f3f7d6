"""report.json records what reproducing it needs (issue 23): the ``reproducibility`` block."""

from __future__ import annotations

import json
import platform
import sys
import types
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from audit._version import __version__
from audit.cli import EXIT_RUN_FAILED, main
from audit.embedders import EMBEDDERS, EmbedderEntry
from audit.embedders.local import LocalEmbedder
from audit.report import load_report


class BrokenLocal(LocalEmbedder):
    """``local`` (same fingerprint) whose backend fails at once: a fast run, no models."""

    def _embed_batch(self, modality: str, items: list, purpose: str) -> np.ndarray:
        raise RuntimeError("backend broke")


@pytest.fixture(autouse=True)
def broken_local(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("repro_broken_local")
    module.BrokenLocal = BrokenLocal  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    entry = EmbedderEntry(f"{module.__name__}:BrokenLocal", "")
    monkeypatch.setitem(EMBEDDERS._entries, "brokenlocal", entry)


def _run(tmp_path: Path, config: str) -> dict:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(config)
    # The backend fails after the pipeline is built; the report is written all the same
    # (a failed run must be reproducible too).
    code = main(["run", "--suite", "bias", "--embedder", "brokenlocal", "--config", str(cfg),
                 "--out", str(tmp_path / "r")])  # fmt: skip
    assert code == EXIT_RUN_FAILED
    (path,) = (tmp_path / "r").glob("*/report.json")
    assert load_report(path).reproducibility  # the model reads it back
    return json.loads(path.read_text())["reproducibility"]


def test_report_records_version_fingerprint_engine_seed_threads_and_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    with threadpool_limits(limits=1, user_api="blas"):
        repro = _run(tmp_path, 'seed = 11\n[suite.bias]\ntests = ["weat6"]\n')
    assert repro["tool_version"] == __version__
    assert repro["embedder_fingerprint"] == LocalEmbedder().fingerprint
    assert repro["engine"] == "inprocess" and repro["engine_options"] == {}
    assert repro["seed"] == 11
    threads = repro["threads"]
    assert threads["env"]["OMP_NUM_THREADS"] == "3"
    blas = [p for p in threads["threadpools"] if p["api"] == "blas"]
    assert blas and all(p["threads"] == 1 for p in blas)  # the limit set above
    assert repro["platform"]["machine"] == platform.machine()
    assert repro["platform"]["python"] == platform.python_version()
    assert repro["packages"]["numpy"] == np.__version__
    assert repro["packages"]["ctranslate2"] == metadata.version("ctranslate2")


def test_old_reports_without_the_block_still_load(tmp_path: Path) -> None:
    _run(tmp_path, '[suite.bias]\ntests = ["weat6"]\n')
    (path,) = (tmp_path / "r").glob("*/report.json")
    data = json.loads(path.read_text())
    del data["reproducibility"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    assert load_report(old).reproducibility == {}
