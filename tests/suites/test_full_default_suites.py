"""Every suite at its default (full, not ``--quick``) settings on the default ``local`` embedder.

Issue 16: only ``--quick`` was exercised, and the full red-team run failed (exit 3) when
``typo-drop`` at 8 edits emptied one-word queries. This runs the four suites as a user
would, through the CLI entry point with a fresh runs folder (cold cache), and requires a
clean run: exit 0, a report without errors, results from every suite. Slow (tens of
minutes on two shared CPU cores); CI runs it in ``make test``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.cli import EXIT_OK, main
from audit.report import load_report

SUITES = ("bias", "retrieval", "safety", "redteam")


@pytest.mark.slow
def test_every_suite_completes_at_default_settings_on_local(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    code = main(["run", "--suite", ",".join(SUITES), "--out", str(out), "--no-progress"])
    reports = sorted(out.glob("*/report.json"))
    assert len(reports) == 1, reports
    report = load_report(reports[0])
    assert report.errors == [], report.errors
    assert report.status == "no-gates"  # no policy given: ok means no error, no gate run
    assert code == EXIT_OK
    assert report.embedder.spec == "local" and report.config["quick"] is False
    assert report.config["suites"] == list(SUITES)
    for suite in SUITES:
        mine = [r for r in report.results if r.suite == suite]
        measured = [r for r in mine if r.metric != "skipped" and r.value is not None]
        assert measured, f"suite {suite} produced no measured result"
        assert f"suite/{suite}" in report.timings
    # The case of issue 16: full settings reach typo-drop at 8 edits, which wipes out
    # one-word queries of builtin:passages; they are counted, and the attack is scored.
    drop8 = {
        (r.metric, r.variant): r
        for r in report.results
        if r.check == "text/typo-drop" and r.details.get("budget") == 8
    }
    assert drop8[("queries_destroyed", "raw")].value >= 1
    asr = drop8[("attack_success_rate", "raw")]
    assert asr.value is not None and asr.details["n_destroyed"] >= 1
    assert drop8[("recall@1_attacked", "raw")].value is not None
