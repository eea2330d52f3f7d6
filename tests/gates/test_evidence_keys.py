"""Each gate evidence entry carries ``key``: the judged result's stored identity, the same
string the verdict stores, so readers select evidence by key (issue 18).

Expected keys are written out by hand from the fixture results.
"""

from __future__ import annotations

from gate_fixtures import one_gate, report, res

from audit.gates import apply_policy, evaluate, parse_policy
from audit.report import evidence_key

RESULTS = [
    res("weat/weat3", 0.9, p=0.001),
    res("weat/weat10", 0.05, p=0.5),
    res("weat/weat1", 2.0, p=0.001),  # not selected by the list below
    res("retr/a", 0.40, suite="retrieval", metric="ndcg@10", modality="text->image", group="f"),
    res("retr/a", 0.70, suite="retrieval", metric="ndcg@10", modality="text->image", group="m"),
]


def test_threshold_gate_evidence_keys_name_each_selected_result() -> None:
    (g,) = evaluate(
        one_gate(check=["weat/weat[3-9]", "weat/weat10"], max_abs=0.5, when="significant"),
        report(RESULTS),
    )
    assert [e["key"] for e in g.evidence] == [
        "bias:weat/weat3:effect_size:raw:text:384:-",
        "bias:weat/weat10:effect_size:raw:text:384:-",
    ]
    assert [e["passed"] for e in g.evidence] == [False, True]


def test_group_results_keep_their_group_in_the_key() -> None:
    (g,) = evaluate(one_gate(suite="retrieval", metric="ndcg@*", min=0.5), report(RESULTS))
    assert {e["key"]: e["passed"] for e in g.evidence} == {
        "retrieval:retr/a:ndcg@10:raw:text->image:384:f": False,
        "retrieval:retr/a:ndcg@10:raw:text->image:384:m": True,
    }


def test_regression_evidence_keys_include_results_missing_from_this_run() -> None:
    base = report([res("q/a", 0.8, suite="retrieval", metric="mrr", modality=None)], run_id="old")
    cur = report([res("q/b", 0.8, suite="retrieval", metric="mrr", modality=None)], run_id="new")
    (g,) = evaluate(one_gate(suite="retrieval", max_drop=0.1), cur, baseline=base)
    assert sorted(e["key"] for e in g.evidence) == [
        "retrieval:q/a:mrr:raw:-:384:-",  # in the baseline only: its key all the same
        "retrieval:q/b:mrr:raw:-:384:-",
    ]


def test_verdict_evidence_is_a_subset_of_the_gates_evidence_keys() -> None:
    policy = parse_policy(
        """
[[gate]]
name = "social"
suite = "bias"
check = ["weat/weat[3-9]", "weat/weat10"]
metric = "effect_size"
max_abs = 0.5
when = "significant"
dimension = "fairness"
"""
    )
    rep = apply_policy(report(RESULTS), policy)
    fairness = next(d for d in rep.verdict.dimensions if d.dimension == "fairness")
    assert fairness.status == "fail"
    gate_keys = {e["key"] for e in rep.gates[0].evidence if not e["passed"]}
    assert fairness.evidence == ["bias:weat/weat3:effect_size:raw:text:384:-"]
    assert set(fairness.evidence) == gate_keys
    # One function writes both: the schema's evidence_key, also on a dict entry.
    assert evidence_key(rep.gates[0].evidence[0]) == rep.gates[0].evidence[0]["key"]


def _hub(defense: str | None, value: float, eps: float | None = None):
    r = res("index/hub", value, suite="redteam", metric="attack_success_rate", dim=None)
    r = r.model_copy(update={"variant": "raw" if defense is None else "defended"})
    details = {"budget": 1} | ({"defense": defense} if defense else {})
    return r.model_copy(update={"details": details | ({"eps": eps} if eps else {})})


def test_results_told_apart_only_by_defense_or_budget_get_distinct_keys() -> None:
    # The red-team suite stores one result per defense (and per budget) of a check; they
    # share every key field, so the setting in details is part of the identity.
    results = [_hub(None, 0.52), _hub("hubness", 0.0), _hub("csls", 0.30), _hub("mp", 0.27)]
    (g,) = evaluate(one_gate(suite="redteam", variant="defended", max=0.25), report(results))
    assert [(e["key"], e["value"], e["passed"]) for e in g.evidence] == [
        (
            "redteam:index/hub:attack_success_rate:defended:text:-:-@defense=hubness,budget=1",
            0.0,
            True,
        ),
        (
            "redteam:index/hub:attack_success_rate:defended:text:-:-@defense=csls,budget=1",
            0.30,
            False,
        ),
        (
            "redteam:index/hub:attack_success_rate:defended:text:-:-@defense=mp,budget=1",
            0.27,
            False,
        ),
    ]
    assert [evidence_key(r) for r in results[1:]] == [e["key"] for e in g.evidence]
    assert "defense=csls" in g.message  # the message says which defense failed


def test_a_regression_gate_compares_each_defense_with_the_same_defense() -> None:
    base = report([_hub("csls", 0.30), _hub("mp", 0.10)], run_id="base")
    cur = report([_hub("csls", 0.31), _hub("mp", 0.40)])
    (g,) = evaluate(one_gate(suite="redteam", max_increase=0.05), cur, baseline=base)
    got = {e["setting"]: (e["baseline"], e["passed"]) for e in g.evidence}
    assert got == {"defense=csls,budget=1": (0.30, True), "defense=mp,budget=1": (0.10, False)}
