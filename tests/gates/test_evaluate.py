"""Each selector and operator on fixture reports, with verdicts worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from gate_fixtures import one_gate, report, res

from audit.config import ConfigError
from audit.gates import Gate, Policy, apply_policy, evaluate, select


def _gate(rep, **kw):
    (g,) = evaluate(one_gate(**kw), rep)
    return g


def _failing(g) -> list[str]:
    return [e["check"] for e in g.evidence if not e["passed"]]


MIXED = [
    res("weat/weat1", 0.2),
    res("weat/weat2", -1.1),
    res("seat/c1", 0.9, modality="text", dim=256),
    res("retr/a", 0.71, suite="retrieval", metric="recall@10", modality="text->image", group="f"),
    res("retr/b", 0.42, suite="retrieval", metric="ndcg@10", modality="text->image", group="m"),
    res("retr/c", 0.55, suite="retrieval", metric="recall@10", variant="debiased", modality=None),
]


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        ({}, ["weat/weat1", "weat/weat2", "seat/c1", "retr/a", "retr/b", "retr/c"]),
        ({"suite": "bias"}, ["weat/weat1", "weat/weat2", "seat/c1"]),
        ({"suite": "retr*"}, ["retr/a", "retr/b", "retr/c"]),
        ({"check": "weat/*"}, ["weat/weat1", "weat/weat2"]),
        ({"check": "weat/weat[2-9]"}, ["weat/weat2"]),
        ({"check": ["seat/*", "retr/?"]}, ["seat/c1", "retr/a", "retr/b", "retr/c"]),
        ({"check": "WEAT/*"}, []),  # case-sensitive on every platform
        ({"metric": "recall@*"}, ["retr/a", "retr/c"]),
        ({"metric": ["ndcg@10", "effect_size"], "suite": "retrieval"}, ["retr/b"]),
        ({"variant": "debiased"}, ["retr/c"]),
        ({"modality": "text->*"}, ["retr/a", "retr/b"]),
        ({"modality": "*"}, ["weat/weat1", "weat/weat2", "seat/c1", "retr/a", "retr/b"]),
        ({"dim": 256}, ["seat/c1"]),
        ({"dim": [256, 384], "check": "seat/*"}, ["seat/c1"]),
        ({"group": "f"}, ["retr/a"]),
        ({"group": "*"}, ["retr/a", "retr/b"]),  # null groups never match a set selector
    ],
)
def test_selectors(selectors, expected):
    gate = Gate(name="g", max=99, **selectors)
    assert [r.check for r in select(gate, MIXED)] == expected


def test_min_max_and_max_abs():
    rep = report([res("a", 0.3), res("b", -0.9), res("c", 0.7)])
    g = _gate(rep, max=0.5)
    assert not g.passed and _failing(g) == ["c"] and g.value == 0.7 and g.op == "<="
    g = _gate(rep, max=0.7)  # the bound itself passes
    assert g.passed and g.value == 0.7
    g = _gate(rep, min=-0.5)
    assert not g.passed and _failing(g) == ["b"] and g.value == -0.9 and g.op == ">="
    g = _gate(rep, max_abs=0.8)
    assert not g.passed and _failing(g) == ["b"] and g.value == -0.9 and g.op == "abs<="
    g = _gate(rep, max_abs=0.95)
    values = np.array([0.3, -0.9, 0.7])
    assert g.passed and g.value == values[np.argmax(np.abs(values))]
    assert g.selected == 3 and len(g.evidence) == 3
    assert {"check", "metric", "variant", "dim", "modality", "group", "value"} <= set(g.evidence[0])


def test_field_and_null_values():
    rep = report([res("a", 0.5, n=40), res("b", 0.5, n=12), res("c", None, n=30)])
    g = _gate(rep, metric="effect_size", field="n", min=16)
    assert not g.passed and _failing(g) == ["b"] and g.metric == "effect_size:n"
    g = _gate(rep, max=1.0)  # a null value cannot show the gate holds
    assert not g.passed and _failing(g) == ["c"] and "null" in g.message


def test_min_results_counts_the_selection():
    rep = report([res(f"weat/weat{i}", 0.1) for i in range(1, 6)])
    g = _gate(rep, check="weat/*", min_results=5)
    assert g.passed and g.value == 5 and g.op == "count>="
    g = _gate(rep, check="weat/*", min_results=6)
    assert not g.passed and "fewer than the 6 required" in g.message


def test_significance_aware_gate():
    """A large effect fails only when significant: insignificant passes, significant fails."""
    big_insignificant = res("weat/weat8", 1.4, p=0.20)
    big_significant = res("weat/weat6", 1.1, p=0.01)
    small_significant = res("weat/weat1", 0.3, p=0.0001)
    rep = report([big_insignificant, big_significant, small_significant])
    kw = dict(max_abs=0.8, when="significant")
    assert _gate(report([big_insignificant]), **kw).passed
    assert not _gate(report([big_significant]), **kw).passed
    g = _gate(rep, **kw)
    assert not g.passed and _failing(g) == ["weat/weat6"]
    assert g.value == 1.1  # the deciding value is the failing one, not the larger excused one
    reasons = {e["check"]: e["reason"] for e in g.evidence}
    assert "not significant" in reasons["weat/weat8"]
    # A per-gate alpha below the p-value excuses it; a policy-wide alpha applies otherwise.
    assert _gate(rep, alpha=0.005, **kw).passed
    pol = one_gate(**kw)
    pol = pol.model_copy(update={"policy": pol.policy.model_copy(update={"alpha": 0.25})})
    assert sorted(_failing(evaluate(pol, rep)[0])) == ["weat/weat6", "weat/weat8"]
    # No p-value: the breach stands (missing evidence never passes).
    g = _gate(report([res("x", 1.2)]), **kw)
    assert not g.passed and "no p-value" in g.message


def test_ci_aware_gate():
    rows = [
        res("straddles", 1.0, ci=(0.6, 1.4)),  # breach, but the CI reaches 0.8: pass
        res("beyond", 1.0, ci=(0.85, 1.2)),  # the whole CI above 0.8: fail
        res("negative", -1.0, ci=(-1.3, -0.9)),  # max_abs: the whole CI below -0.8: fail
        res("within", 0.5, ci=(0.9, 1.0)),  # no point breach: pass whatever the CI
    ]
    g = _gate(report(rows), max_abs=0.8, when="ci")
    assert _failing(g) == ["beyond", "negative"]
    g = _gate(report(rows), max=0.8, when="ci")
    assert _failing(g) == ["beyond"]
    g = _gate(
        report([res("low", 0.2, ci=(0.1, 0.29)), res("ok", 0.2, ci=(0.1, 0.5))]), min=0.3, when="ci"
    )
    assert _failing(g) == ["low"]
    g = _gate(report([res("noci", 1.0)]), max=0.8, when="ci")
    assert not g.passed and "no confidence interval" in g.message


def test_significance_reads_the_stored_adjusted_p_value():
    # Issue 18: the gate used to re-run Holm over its own selection (a fourth reading).
    # Now it reads the p_adjusted the suite stored. The numbers are the same as before
    # when the family is the gate's selection: Holm by hand over 0.01, 0.04, 0.03, 0.005
    # (m = 4): sorted 4*0.005, 3*0.01, 2*0.03, 1*0.04 -> 0.02, 0.03, 0.06, 0.06 (monotone).
    from audit.suites._summaries._holm import adjust_families

    rows = [
        res(f"weat/t{i}", 1.0, p=q, adjusted=False) for i, q in enumerate([0.01, 0.04, 0.03, 0.005])
    ]
    # Without a stored adjustment a breach stands (missing evidence never passes).
    g = _gate(report(rows), max=0.8, when="significant")
    assert len(_failing(g)) == 4 and "no stored adjusted p-value" in g.message
    adjust_families(rows)
    assert [r.p_adjusted for r in rows] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    for kw in ({}, {"correction": "holm"}):  # "holm" names the stored adjustment
        g = _gate(report(rows), max=0.8, when="significant", **kw)
        assert _failing(g) == ["weat/t0", "weat/t3"]
        assert [e["p_adjusted"] for e in g.evidence] == [r.p_adjusted for r in rows]
    # A stored value that disagrees with the gate's own selection still decides: the gate
    # reads, it does not recompute (t1's family was larger elsewhere in the run).
    rows[0] = rows[0].model_copy(
        update={"p_adjusted": 0.2, "p_family": "holm:bias/raw/weat (m=20)"}
    )
    g = _gate(report(rows), max=0.8, when="significant")
    assert _failing(g) == [
        "weat/t3"
    ] and "adjusted 0.2, holm:bias/raw/weat (m=20)" in g.message + str(g.evidence[0]["reason"])


@pytest.mark.parametrize("method", ["none", "bonferroni"])
def test_gate_own_corrections_are_rejected(method):
    with pytest.raises(ValueError, match=r"no longer supported.*p_adjusted"):
        Gate(name="g", max=0.8, when="significant", correction=method)


def test_empty_selection_is_an_error_unless_allowed():
    rep = report([res("weat/weat1", 0.2), res("weat/weat2", 0.3)])
    with pytest.raises(ConfigError) as info:
        _gate(rep, check="waet/*", max=1)
    msg = str(info.value)
    assert "gate 'g' selects no result" in msg and "did you mean 'weat/*'" in msg
    with pytest.raises(ConfigError, match="did you mean 'bias'"):
        _gate(rep, suite="bais", max=1)
    with pytest.raises(ConfigError, match=r"metric = 'effect-size'.*did you mean 'effect_size'"):
        _gate(rep, metric="effect-size", max=1)
    with pytest.raises(ConfigError, match="dim = '512'"):
        _gate(rep, dim=512, max=1)
    g = _gate(rep, check="waet/*", max=1, allow_empty=True)
    assert g.passed and g.selected == 0 and g.value is None and "skipped" in g.message


def test_all_empty_gates_are_named_in_one_error():
    pol = Policy(
        gate=[
            Gate(name="ok", max=1),
            Gate(name="typo1", check="waet/*", max=1),
            Gate(name="typo2", suite="bais", max=1),
        ]
    )
    with pytest.raises(ConfigError) as info:
        evaluate(pol, report([res("weat/weat1", 0.2)]))
    assert "'typo1'" in str(info.value) and "'typo2'" in str(info.value)


def test_apply_policy_sets_status_and_keeps_the_input():
    rep = report([res("a", 0.3)])
    passed = apply_policy(rep, one_gate(max=0.5))
    failed = apply_policy(rep, one_gate(max=0.2))
    assert (passed.status, failed.status) == ("passed", "failed")
    assert rep.status == "no-gates" and rep.gates == []
    with pytest.raises(ValueError, match="failed; its results are incomplete"):
        apply_policy(report([res("a", 0.3)], status="error"), one_gate(max=1))


# Regression gates ---------------------------------------------------------------------


def _regression(cur, base, **kw):
    (g,) = evaluate(one_gate(**kw), report(cur, run_id="new"), baseline=report(base, run_id="old"))
    return g


def _r(check, value, **kw):
    return res(check, value, suite="retrieval", metric="recall@10", **kw)


def test_regression_fails_on_a_worse_run_and_passes_on_an_equal_one():
    base = [_r("q/a", 0.80), _r("q/b", 0.60)]
    equal = [_r("q/a", 0.80), _r("q/b", 0.60)]
    worse = [_r("q/a", 0.80), _r("q/b", 0.55)]
    assert _regression(equal, base, max_drop=0.0).passed
    g = _regression(worse, base, max_drop=0.02)
    assert not g.passed and _failing(g) == ["q/b"]
    assert g.value == pytest.approx(0.05) and g.op == "drop<="
    (ev,) = [e for e in g.evidence if not e["passed"]]
    assert ev["baseline"] == 0.60 and ev["value"] == 0.55 and ev["change"] == pytest.approx(0.05)
    assert _regression(worse, base, max_drop=0.06).passed
    # Relative: 0.05 / 0.60 = 8.3 % drop.
    g = _regression(worse, base, max_drop=0.08, change="relative")
    assert not g.passed and g.value == pytest.approx(0.05 / 0.60) and g.op == "rel-drop<="
    assert _regression(worse, base, max_drop=0.09, change="relative").passed
    # An improvement is never a drop.
    assert _regression([_r("q/a", 0.9), _r("q/b", 0.9)], base, max_drop=0.0).passed


def test_max_increase_and_magnitude():
    base = [res("weat/weat6", 0.5), res("weat/weat7", -0.4)]
    cur = [res("weat/weat6", 0.55), res("weat/weat7", -0.7)]  # weat7 grows in |d| by 0.3
    g = _regression(cur, base, max_increase=0.1)  # signed: weat7 went down, weat6 +0.05
    assert g.passed and g.value == pytest.approx(0.05)
    g = _regression(cur, base, max_increase=0.1, magnitude=True)
    assert not g.passed and _failing(g) == ["weat/weat7"] and g.value == pytest.approx(0.3)


def test_regression_matching_missing_and_new_results():
    base = [_r("q/a", 0.8), _r("q/b", 0.6), _r("q/a", 0.7, dim=128)]
    cur = [_r("q/a", 0.8), _r("q/b", 0.6), _r("q/new", 0.1)]  # dim 128 vanished
    g = _regression(cur, base, max_drop=0.0)
    assert not g.passed and "missing from this run" in g.message
    reasons = {(e["check"], e["dim"]): e["reason"] for e in g.evidence}
    assert "new" in reasons[("q/new", 384)] and "missing" in reasons[("q/a", 128)]
    assert _regression(cur, base, max_drop=0.0, allow_missing=True).passed
    # Results are matched on the whole key: the same check at another size is another result.
    with pytest.raises(ConfigError):  # nothing compared is an empty selection
        _regression([_r("q/a", 0.7, dim=128)], [_r("q/a", 0.8)], max_drop=0.0, allow_missing=True)


def test_regression_edge_cases():
    kw = dict(suite="retrieval", max_drop=0.0)
    with pytest.raises(ConfigError, match="none in baseline old"):
        _regression([_r("q/a", 0.8)], [res("weat/weat1", 0.1)], **kw)
    g = _regression([_r("q/a", 0.8)], [res("w", 0.1)], allow_empty=True, **kw)
    assert g.passed and g.selected == 0
    # Without a selector the baseline's bias result is in scope, and missing here: a failure.
    g = _regression([_r("q/a", 0.8)], [res("weat/weat1", 0.1)], max_drop=0.0)
    assert not g.passed and _failing(g) == ["weat/weat1"]
    g = _regression([_r("q/a", 0.1)], [_r("q/a", 0.0)], max_increase=0.5, change="relative")
    assert not g.passed and "relative change is undefined" in g.message
    g = _regression([_r("q/a", None)], [_r("q/a", 0.5)], max_drop=1.0)
    assert not g.passed and "null" in g.message
    with pytest.raises(ConfigError, match="pass --baseline"):
        evaluate(one_gate(max_drop=0.1), report([_r("q/a", 0.8)]))
    with pytest.raises(ConfigError, match="baseline run old failed"):
        evaluate(
            one_gate(max_drop=0.1),
            report([_r("q/a", 0.8)]),
            baseline=report([_r("q/a", 0.8)], run_id="old", status="error"),
        )


def test_baseline_with_other_sampling_settings_warns(caplog):
    cur = report([_r("q/a", 0.8)], run_id="new")
    same = report([_r("q/a", 0.8)], run_id="old")
    other = same.model_copy(update={"config": {"seed": 1, "quick": True}})
    pol = one_gate(max_drop=0.0)
    with caplog.at_level("WARNING", logger="audit.gates"):
        evaluate(pol, cur, baseline=same)
    assert not caplog.records
    with caplog.at_level("WARNING", logger="audit.gates"):
        evaluate(pol, cur, baseline=other)
    assert "differ in seed, quick" in caplog.text
