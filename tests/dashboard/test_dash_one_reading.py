"""The dashboard's bias page shows the stored adjusted p-values of the one-reading fixture
(issue 18; the other readers: tests/suites/test_one_reading.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from dash_helpers import goto, plain

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "suites"))
from one_reading_fixture import ALPHA, fixture_report

from audit.suites._summaries._holm import significant


def test_bias_page_counts_and_shows_the_stored_adjusted_p(app, tmp_path: Path) -> None:
    rep = fixture_report()
    rep.save(tmp_path / "runs" / rep.run_id / "report.json")
    at = goto(app(tmp_path / "runs"), "bias")
    table = next(d.value for d in at.dataframe if "p_adjusted" in d.value.columns)
    table = table[table["p_value"].notna()]  # the delta rows carry no test
    tested = [r for r in rep.results if r.metric == "effect_size" and r.p_value is not None]
    assert len(table) == len(tested)
    shown = {(c, v): p for c, v, p in table[["check", "variant", "p_adjusted"]].itertuples(False)}
    for r in tested:
        assert shown[(r.check, r.variant)] == pytest.approx(r.p_adjusted, abs=0)
    readable = [r for r in tested if r.too_few is None]
    n_sig = sum(significant(r, ALPHA) for r in readable)
    caption = next(plain(str(c.value)) for c in at.caption if "tests significant" in c.value)
    assert caption.startswith(
        f"{n_sig} of {len(readable)} tests significant at {ALPHA} by the stored adjusted p-value"
    )
    for fam in {r.p_family for r in tested}:
        assert fam in caption
    assert "1 with too few samples to read" in caption


def test_demo_reports_store_what_the_suites_family_rule_gives() -> None:
    # The demo may not import the suite's rule (contract "dashboard"); it must agree with it.
    from audit.suites._summaries._holm import adjust_families
    from dashboard._demo import _bias

    stored = _bias(0.0)
    again = [r.model_copy(update={"p_adjusted": None, "p_family": None}) for r in stored]
    adjust_families(again)
    assert [(r.p_adjusted, r.p_family) for r in stored] == [
        (r.p_adjusted, r.p_family) for r in again
    ]
    assert any(r.p_adjusted is not None for r in stored)
