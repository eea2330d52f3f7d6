"""One statistical reading (issue 18): stored once, the same in every reader.

The fixture (one_reading_fixture.py) stores ``p_adjusted``/``p_family``/``too_few`` with
the bias suite's own post-processing; here the run table, the bias summary and the gates
must show exactly those stored numbers (the dashboard: tests/dashboard/
test_dash_one_reading.py), and a planted over-correction must read as significant in the
negative direction.
"""

from __future__ import annotations

import re

import pytest
from one_reading_fixture import ALPHA, PLANTED, fixture_report, holm_by_hand

from audit.gates import Gate, Policy, evaluate
from audit.suites._summaries._holm import significant
from audit.suites._summaries.bias import summary_text
from audit.summary import run_table, significance_lines


@pytest.fixture(scope="module")
def rep():
    return fixture_report()


def _tested(rep, variant):
    return [r for r in rep.results if r.variant == variant and r.p_value is not None]


def test_stored_reading_is_holm_per_family_by_hand(rep):
    # Families: variant x test kind (weat, seat). Raw weat: weat1, 4, 5, 8 and tiny (m=5).
    for variant in ("raw", "debiased"):
        tested = _tested(rep, variant)
        for kind in ("weat", "seat"):
            fam = [r for r in tested if r.check.startswith(kind + "/")]
            assert [r.p_adjusted for r in fam] == pytest.approx(
                holm_by_hand([r.p_value for r in fam])
            )
            assert {r.p_family for r in fam} == {f"holm:bias/{variant}/{kind} (m={len(fam)})"}
    # weat4: raw p 0.021 -> Holm over 5 = 0.084 (3rd smallest: (5-2) * 0.028 = 0.084 wins
    # the running max over 3 * 0.021 = 0.063): not significant, in every reader below.
    weat4 = next(r for r in rep.results if r.check == "weat/weat4" and r.variant == "raw")
    assert weat4.p_adjusted == pytest.approx(0.084)
    tiny = next(r for r in rep.results if r.check == "weat/tiny")
    assert tiny.too_few is not None and "6 partitions" in tiny.too_few
    assert all(r.too_few is None for r in rep.results if r.check != "weat/tiny")


def _p4(v):
    # audit.summary's format for 4 digits
    return "-" if v is None else (f"{v:.1e}" if v != 0 and abs(v) < 1e-4 else f"{v:.4f}")


def test_run_table_shows_the_stored_adjusted_p_and_its_verdict(rep):
    table, left = run_table(rep.results, max_rows=None)
    assert left == 0
    lines = table.splitlines()
    header = re.split(r"\s{2,}", lines[0].strip())
    col = header.index("p_adj")
    rows = [re.split(r"\s{2,}", ln.strip()) for ln in lines[2:]]
    tested = [r for r in rep.results if r.p_value is not None]
    by_key = {(row[0], row[2]): row for row in rows if row[1] == "effect_size"}
    for r in tested:
        row = by_key[(r.check, r.variant)]
        assert row[col] == _p4(r.p_adjusted)
        want = (
            "too few samples"
            if r.too_few
            else ("significant" if significant(r, ALPHA) else "not significant")
        )
        assert row[-1] == want
    lines = significance_lines(rep.results, ALPHA)
    for fam in {r.p_family for r in tested}:
        members = [r for r in tested if r.p_family == fam and not r.too_few]
        n_sig = sum(significant(r, ALPHA) for r in members)
        assert any(
            ln.startswith(f"{n_sig} of {len(members)} significant") and fam in ln for ln in lines
        )


def test_bias_summary_shows_the_same_adjusted_p_and_marks(rep):
    text = summary_text(rep.results)
    for r in _tested(rep, "raw"):
        if r.check == "weat/tiny":
            continue
        line = next(ln for ln in text.splitlines() if ln.startswith(r.check + " "))
        p = r.p_adjusted
        shown = f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"
        assert shown in line
        mark = "*" if significant(r, ALPHA) else " "
        assert f"{r.value:+.2f}{mark}" in line
    tiny = next(ln for ln in text.splitlines() if ln.startswith("weat/tiny "))
    assert "too few" in tiny and "+1.90?" in tiny
    assert "too few samples: weat/tiny effect_size [raw]" in text


def test_gate_judges_by_the_stored_adjusted_p(rep):
    pol = Policy(
        gate=[
            Gate(
                name="assoc",
                check=["weat/*", "seat/*"],
                variant=["raw", "debiased"],
                max_abs=0.8,
                when="significant",
            )
        ]
    )
    (gate,) = evaluate(pol, rep)
    for ev in gate.evidence:
        r = next(x for x in rep.results if (x.check, x.variant) == (ev["check"], ev["variant"]))
        assert ev["p_adjusted"] == r.p_adjusted and ev["p_family"] == r.p_family
        breach = abs(r.value) > 0.8
        assert ev["passed"] == (not breach or not significant(r, ALPHA))
    failing = {(e["check"], e["variant"]) for e in gate.evidence if not e["passed"]}
    # weat4/5 (d 0.95, 0.90) are not significant after Holm: the summary and the gate agree.
    assert ("weat/weat4", "raw") not in failing and ("weat/weat5", "raw") not in failing
    assert ("seat/weat7", "debiased") in failing  # the over-correction fails the gate


def test_planted_over_correction_is_significant_the_other_way(rep):
    raw_d, _, deb_d, _ = PLANTED["seat/weat7"]
    deb = next(r for r in rep.results if r.check == "seat/weat7" and r.variant == "debiased")
    delta = next(r for r in rep.results if r.check == "seat/weat7" and r.variant == "delta")
    assert deb.value == deb_d < 0 < raw_d and deb.test.sidedness == "two-sided"
    assert significant(deb, ALPHA)  # Holm over seat debiased (m=2): 2 * 0.0002 = 0.0004
    assert deb.p_adjusted == pytest.approx(0.0004)
    assert delta.details["sign_reversed"] is True
    # weat8 also flips sign (+0.30 -> -0.75) but is not significant: no over-correction.
    w8 = next(r for r in rep.results if r.check == "weat/weat8" and r.variant == "delta")
    assert w8.details["sign_reversed"] is False
    text = summary_text(rep.results)
    assert "OVER-CORRECTED seat/weat7: d +0.11 raw -> -1.35 debiased" in text
    assert "OVER-CORRECTED weat/weat8" not in text
