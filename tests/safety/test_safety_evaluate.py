"""The suite's measurements on a filter whose decisions are known by hand."""

from __future__ import annotations

import math

import pytest
from fakes import HashEmbedder
from safety_fakes import WordChecker
from scipy.stats import chi2

from audit.items import text_item
from audit.safety import SafetyFilter, policy_from_dict
from audit.safety import _evaluate as ev

POLICY = policy_from_dict({"categories": {"rude": "flag", "bad": "block"}})


def _filter():
    return SafetyFilter([WordChecker({"darn": "rude", "heck": "bad"})], POLICY)


def test_benign_rates_and_group_gap_by_hand():
    texts = {"A": ["darn", "heck", "fine", "ok"], "B": ["fine", "ok", "good", "nice"]}
    items = [text_item(f"{g}{i}", t, team=g) for g, ts in texts.items() for i, t in enumerate(ts)]
    results = ev.benign(
        _filter(), items, check="b", modality="text", group_attributes=["team"], source="test"
    )
    by = {(r.check, r.metric, r.group): r for r in results}
    assert by[("b", "false_positive_rate", None)].value == 2 / 8
    assert by[("b", "block_rate", None)].value == 1 / 8
    assert by[("b", "flag_rate", None)].value == 1 / 8
    assert by[("b/groups/team", "false_positive_rate", "team=A")].value == 0.5
    assert by[("b/groups/team", "false_positive_rate", "team=B")].value == 0.0
    gap = by[("b/groups/team", "fpr_gap", None)]
    # table [[2, 2], [0, 4]]: expected [[1, 3], [1, 3]]; Yates-corrected Pearson statistic
    stat = 2 * ((abs(2 - 1) - 0.5) ** 2 / 1 + (abs(2 - 3) - 0.5) ** 2 / 3)
    assert gap.value == 0.5 and gap.p_value == pytest.approx(chi2.sf(stat, 1))
    assert gap.details["worst_group"] == "A"


def test_labelled_counts_and_per_checker_recall():
    items = [
        text_item("p1", "darn"),
        text_item("p2", "fine"),
        text_item("n1", "heck"),
        text_item("n2", "ok"),
    ]
    results = ev.labelled(
        _filter(), items, [True, True, False, False], check="l", modality="text", source="test"
    )
    by = {r.metric: r for r in results}
    assert by["recall"].value == 0.5 and by["precision"].value == 0.5
    assert by["false_positive_rate"].value == 0.5 and by["f1"].value == 0.5
    assert by["recall"].details["recall_by_checker"] == {"words": 0.5}


def test_text_evasion_compares_variants():
    results = ev.text_evasion(
        {
            "list": ev.term_list_filter(["darn"], harden=True),
            "raw": ev.term_list_filter(["darn"], harden=False),
        },
        templates=["oh {t}", "{t} it"],
        terms=["darn"],
    )
    recall = {(r.check, r.variant): r.value for r in results}
    assert recall[("evasion/text/plain", "list")] == 1.0
    assert recall[("evasion/text/plain", "raw")] == 1.0
    assert recall[("evasion/text/homoglyph", "list")] == 1.0
    assert recall[("evasion/text/homoglyph", "raw")] == 0.0
    assert len(results) == 2 * len(ev.OBFUSCATIONS)


def test_latency_reports_a_ratio_of_the_two_times():
    items = [text_item(f"t{i}", f"sentence {i}") for i in range(5)]
    (f, e, ratio) = ev.latency(_filter(), HashEmbedder(), items, modality="text")
    assert (f.metric, e.metric, ratio.metric) == (
        "filter_ms_per_item",
        "embed_ms_per_item",
        "overhead_ratio",
    )
    assert ratio.value == pytest.approx((f.value + e.value) / e.value)
    assert f.n == 4 and not math.isnan(ratio.value)


def test_concept_calibration_counts_held_out_exceedances_per_concept():
    import numpy as np
    from safety_fakes import TableEmbedder

    from audit.safety import ConceptChecker, conformal_threshold

    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(40, 3))
    table = {f"text {i}": list(v) for i, v in enumerate(vecs)}
    table |= {"c1": [1.0, 0.0, 0.0], "c2": [0.0, 1.0, 0.0]}
    checker = ConceptChecker(TableEmbedder(table), {"a": ["c1"], "b": ["c2"]}, 0.5)
    items = [text_item(f"t{i}", f"text {i}") for i in range(40)]
    results = ev.concept_calibration(checker, items, np.random.default_rng(7), target_fpr=0.1)
    # the same split, thresholds and counts computed here from the raw vectors
    order = np.random.default_rng(7).permutation(40)
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    calib, held = unit[order[:20]], unit[order[20:]]
    over = np.stack([held[:, j] >= conformal_threshold(calib[:, j], 0.1) for j in range(2)], axis=1)
    by_group = {r.group: r for r in results}
    assert by_group["concept=a"].value == over[:, 0].mean()
    assert by_group["concept=b"].value == over[:, 1].mean()
    assert by_group[None].value == over.any(axis=1).mean() and by_group[None].n == 20
    assert checker.thresholds == {"a": {"*": 0.5}, "b": {"*": 0.5}}  # the original untouched
