"""Fixture run directories for the dashboard tests, and an AppTest factory.

Each runs directory is built here from the report schema (complete, partial, empty,
corrupt JSON, newer schema, failed run); tests compare what the pages render with the
numbers in these files, read back with the json module.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
pytest.importorskip("altair")

from dash_helpers import APP
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from audit.report import SCHEMA_VERSION, EmbedderInfo, GateResult, Report, Result
from dashboard._demo import (
    BASELINE_ID,
    CANDIDATE_ID,
    PARTIAL_ID,
    RUNNING_ID,
    write_demo_runs,
)


@pytest.fixture(autouse=True)
def _loopback_address() -> Iterator[None]:
    # `audit dashboard` passes --server.address 127.0.0.1; AppTest has no command line.
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "127.0.0.1")
    yield
    st_config.set_option("server.address", before)


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "runs"
    write_demo_runs(root)
    return root


def _copy(demo_root: Path, dest: Path, names: list[str]) -> Path:
    dest.mkdir(parents=True)
    for name in names:
        shutil.copytree(demo_root / name, dest / name)
    return dest


@pytest.fixture
def complete_runs(demo_root: Path, tmp_path: Path) -> Path:
    """Baseline and candidate, each with all four suites (the candidate fails 2 gates)."""
    return _copy(demo_root, tmp_path / "complete", [BASELINE_ID, CANDIDATE_ID])


@pytest.fixture
def partial_runs(demo_root: Path, tmp_path: Path) -> Path:
    """A bias-only run and a run with no report.json yet."""
    return _copy(demo_root, tmp_path / "partial", [PARTIAL_ID, RUNNING_ID])


@pytest.fixture
def empty_runs(tmp_path: Path) -> Path:
    path = tmp_path / "empty"
    path.mkdir()
    (path / ".cache").mkdir()  # the embedding cache folder is not a run
    return path


def small_report(run_id: str, **kw: object) -> Report:
    fields: dict = {
        "run_id": run_id,
        "created_at": "2026-04-01T00:00:00+00:00",
        "tool_version": "0.1.0",
        "suite": "bias",
        "embedder": EmbedderInfo(spec="hash", name="hash", modalities=["text"], dim=16),
        "results": [
            Result(suite="bias", check="weat/weat1", metric="effect_size", value=0.5, dim=16)
        ],
    }
    fields.update(kw)
    return Report(**fields)


@pytest.fixture
def corrupt_runs(tmp_path: Path) -> Path:
    """One good run, one report.json cut off mid-file, one that is JSON but not a report."""
    root = tmp_path / "corrupt"
    small_report("good").save(root / "good" / "report.json")
    (root / "broken").mkdir(parents=True)
    (root / "broken" / "report.json").write_text('{"schema_version": 1, "run_id": "bro')
    (root / "alien").mkdir()
    (root / "alien" / "report.json").write_text(json.dumps({"schema_version": 1, "x": 1}))
    return root


@pytest.fixture
def newer_runs(tmp_path: Path) -> Path:
    """One good run and one written by a future tool (schema_version 2, unknown fields)."""
    root = tmp_path / "newer"
    small_report("good").save(root / "good" / "report.json")
    future = json.loads(small_report("future").model_dump_json())
    future["schema_version"] = SCHEMA_VERSION + 1  # newer than this tool reads
    future["provenance"] = {"signed": True}  # a field version 1 does not know
    (root / "future").mkdir()
    (root / "future" / "report.json").write_text(json.dumps(future))
    return root


@pytest.fixture
def failed_run(tmp_path: Path) -> Path:
    """A run that crashed after the bias suite, and a gate with a hostile message."""
    root = tmp_path / "failed"
    gate = GateResult(
        name="weat",
        check="weat/weat1",
        metric="effect_size",
        op="<=",
        threshold=0.2,
        value=0.5,
        passed=False,
        message="see ![x](http://tracker.invalid/p.png) <b>now</b> :red[alarm]",
        evidence=[{"check": "weat/weat1", "value": 0.5, "nested": {"k": [1, 2]}}],
    )
    small_report(
        "crashed",
        status="error",
        errors=["RuntimeError: boom in retrieval", "Traceback (most recent call last): ..."],
        gates=[gate],
    ).save(root / "crashed" / "report.json")
    return root


@pytest.fixture
def incomplete_run(tmp_path: Path) -> Path:
    """A run with an errored check (status incomplete) and an item left out."""
    from audit.report import CheckError, SkippedItem

    root = tmp_path / "incomplete"
    small_report(
        "partial",
        status="incomplete",
        check_errors=[CheckError(suite="bias", check="skew/:red[x]", error="ValueError: bad")],
        skipped_items=[SkippedItem(dataset="beir:/d", side="corpus", id="c7", reason="empty file")],
    ).save(root / "partial" / "report.json")
    return root


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Start the app on a runs directory (optionally with query parameters) and run it."""

    def start(runs: Path, **query: str) -> AppTest:
        monkeypatch.setenv("MME_AUDIT_RUNS", str(runs))
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.query_params.update(query)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return start
