"""report.json records what reproducing it needs (issue 23): the ``reproducibility`` block."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from audit._version import __version__
from audit.cli import EXIT_RUN_FAILED, main
from audit.embedders.local import LocalEmbedder
from audit.report import load_report


def _run(tmp_path: Path, config: str) -> dict:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(config)
    # weat99 does not exist: the run fails at once, after the pipeline is built, and the
    # report is written all the same (a failed run must be reproducible too).
    code = main(["run", "--suite", "bias", "--config", str(cfg), "--out", str(tmp_path / "r")])
    assert code == EXIT_RUN_FAILED
    (path,) = (tmp_path / "r").glob("*/report.json")
    assert load_report(path).reproducibility  # the model reads it back
    return json.loads(path.read_text())["reproducibility"]


def test_report_records_version_fingerprint_engine_seed_threads_and_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    with threadpool_limits(limits=1, user_api="blas"):
        repro = _run(tmp_path, 'seed = 11\n[suite.bias]\ntests = ["weat99"]\n')
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
    _run(tmp_path, '[suite.bias]\ntests = ["weat99"]\n')
    (path,) = (tmp_path / "r").glob("*/report.json")
    data = json.loads(path.read_text())
    del data["reproducibility"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    assert load_report(old).reproducibility == {}
