"""Membership inference: chance on an index without the probes, perfect on exact copies,
and the ROC numbers against independent formulas (Mann-Whitney U, a hand-drawn ROC)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from redteam.privacy._membership import (
    index_membership,
    membership_attack,
    top1_scores,
    tpr_at_fpr,
)

DIM = 32


def _unit(rng: np.random.Generator, n: int, d: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_probes_absent_from_index_give_chance() -> None:
    """Neither side is in the index: AUC near 0.5, its CI covers 0.5, p not small."""
    rng = np.random.default_rng(1)
    index = _unit(rng, 400)
    res = index_membership(_unit(rng, 200), _unit(rng, 200), index=index, n_bootstrap=300)
    assert res.auc_ci[0] <= 0.5 <= res.auc_ci[1]
    assert abs(res.auc - 0.5) < 0.1
    assert res.p_value > 0.01
    assert (res.n_members, res.n_nonmembers) == (200, 200)


def test_exact_copies_are_found() -> None:
    """Members are exact copies of indexed rows: top-1 cosine 1, AUC 1, TPR@1%FPR 1."""
    rng = np.random.default_rng(2)
    index = _unit(rng, 300)
    members, nonmembers = index[:150], _unit(rng, 150)
    res = index_membership(members, nonmembers, index=index, n_bootstrap=200)
    assert res.auc == 1.0 and res.tpr_at_fpr == 1.0
    assert res.auc_ci == pytest.approx((1.0, 1.0)) and res.tpr_at_fpr_ci == pytest.approx(
        (1.0, 1.0)
    )
    assert res.mean_score_members == pytest.approx(1.0)
    # p-value of a perfect separation: the exact Mann-Whitney p is 1 / C(n1 + n0, n1);
    # the normal approximation scipy uses is tiny too
    assert res.p_value < 1e-30


def test_near_duplicates_and_variants() -> None:
    """Noisy copies separate less than exact ones; the best variant per item counts."""
    rng = np.random.default_rng(3)
    index = _unit(rng, 300)
    nonmembers, noise = _unit(rng, 100), rng.standard_normal((100, DIM))
    aucs = [
        index_membership(index[:100] + s * noise, nonmembers, index=index, n_bootstrap=50).auc
        for s in (0.0, 0.15, 0.3)
    ]
    # exact copies 1; a near-duplicate at cosine ~0.78 (1/sqrt(1 + 32 * 0.15^2)) is still
    # above nearly every non-member's best neighbour; at ~0.59 the two overlap
    assert aucs[0] == 1.0 and 0.95 < aucs[1] < 1.0 and 0.6 < aucs[2] < 0.9
    members = index[:100] + 0.25 * noise
    # variants: an unrelated "paraphrase" plus the near-duplicate -> the max of the two
    useless = _unit(rng, 100)
    stacked = np.stack([useless, members], axis=1)
    by_hand = np.maximum(
        (useless @ index.T).max(axis=1),
        ((members / np.linalg.norm(members, axis=1, keepdims=True)) @ index.T).max(axis=1),
    )
    np.testing.assert_allclose(top1_scores(stacked, index=index), by_hand, atol=1e-12)


def test_padding_rows_and_search_endpoint() -> None:
    """NaN rows pad items with fewer variants; a search() endpoint gives the same scores."""
    rng = np.random.default_rng(4)
    index = _unit(rng, 50)
    probes = np.stack([_unit(rng, 6), _unit(rng, 6)], axis=1)
    probes[2, 1] = np.nan
    expected = (probes[:, 0] @ index.T).max(axis=1)
    expected[[0, 1, 3, 4, 5]] = np.maximum(
        expected[[0, 1, 3, 4, 5]], (probes[[0, 1, 3, 4, 5], 1] @ index.T).max(axis=1)
    )
    np.testing.assert_allclose(top1_scores(probes, index=index), expected, atol=1e-12)

    calls: list[int] = []

    def search(q: np.ndarray) -> np.ndarray:  # a top-3 endpoint, best first
        calls.append(len(q))
        return -np.sort(-(q @ index.T), axis=1)[:, :3]

    np.testing.assert_allclose(top1_scores(probes, search=search), expected, atol=1e-12)
    assert calls == [11]  # one batched call, the padding row never sent
    probes[3] = np.nan
    with pytest.raises(ValueError, match="probe item 3 has no variant"):
        top1_scores(probes, index=index)
    with pytest.raises(ValueError, match="exactly one"):
        top1_scores(probes[:, 0], index=index, search=search)


def test_auc_and_p_value_against_mann_whitney() -> None:
    """AUC equals U / (n1 n0) and roc_auc_score, ties included; p is scipy's one-sided U."""
    rng = np.random.default_rng(5)
    pos = np.round(rng.normal(0.6, 1.0, 80), 1)  # rounding makes ties across the classes
    neg = np.round(rng.normal(0.0, 1.0, 70), 1)
    res = membership_attack(pos, neg, n_bootstrap=200, random_state=0)
    u = stats.mannwhitneyu(pos, neg, alternative="greater")
    assert res.auc == pytest.approx(u.statistic / (80 * 70), abs=1e-12)
    truth = np.r_[np.ones(80), np.zeros(70)]
    assert res.auc == pytest.approx(roc_auc_score(truth, np.r_[pos, neg]), abs=1e-12)
    assert res.p_value == pytest.approx(u.pvalue)
    assert res.auc_ci[0] < res.auc < res.auc_ci[1]
    assert res.tpr_at_fpr_ci[0] <= res.tpr_at_fpr <= res.tpr_at_fpr_ci[1]
    # same seed, same intervals
    again = membership_attack(pos, neg, n_bootstrap=200, random_state=0)
    assert again == res


def test_tpr_at_fpr_by_hand() -> None:
    """ROC curves drawn by hand (10 negatives, so FPR moves in steps of 0.1)."""
    truth = np.r_[np.ones(4), np.zeros(10)].astype(bool)
    neg = np.arange(10) / 10.0  # 0.0 .. 0.9
    # descending: .95P .9N .85P .8N .75P .7N ... .1N .05P .0N -> ROC points
    # (0,0) (0,.25) (.1,.25) (.1,.5) (.2,.5) (.2,.75) (.3,.75) ... (.9,.75) (.9,1) (1,1)
    s1 = np.r_[np.array([0.95, 0.85, 0.75, 0.05]), neg]
    assert tpr_at_fpr(s1, truth, 0.0) == pytest.approx(0.25)  # top of the FPR-0 run
    assert tpr_at_fpr(s1, truth, 0.05) == pytest.approx(0.25)  # (0,.25)-(.1,.25) is flat
    assert tpr_at_fpr(s1, truth, 0.1) == pytest.approx(0.5)  # top of the FPR-.1 run
    assert tpr_at_fpr(s1, truth, 0.25) == pytest.approx(0.75)
    # the top negative outscores every positive: nothing is caught below FPR 0.1
    # descending: 1.0N .95P .92P .9N .8N .7N .6N .5N .4N .35P .3N .2N .1N .05P -> ROC
    # (0,0) (.1,0) (.1,.25) (.1,.5) (.2,.5) ... (.7,.5) (.7,.75) (.8,.75) ... (1,.75) (1,1)
    s2 = np.r_[np.array([0.95, 0.92, 0.35, 0.05]), np.linspace(0.1, 1.0, 10)]
    assert tpr_at_fpr(s2, truth, 0.0) == pytest.approx(0.0)
    assert tpr_at_fpr(s2, truth, 0.05) == pytest.approx(0.0)
    assert tpr_at_fpr(s2, truth, 0.15) == pytest.approx(0.5)
    assert tpr_at_fpr(s2, truth, 0.75) == pytest.approx(0.75)


def test_tpr_interpolates_within_a_sloped_segment() -> None:
    """Tied positive/negative scores make a diagonal ROC segment: interpolate along it."""
    # two negatives and two positives all at 0.5 plus one clear positive and 8 low negatives
    pos = np.array([0.9, 0.5, 0.5])
    neg = np.r_[np.array([0.5, 0.5]), np.full(8, 0.1)]
    truth = np.r_[np.ones(3), np.zeros(10)].astype(bool)
    # ROC points: (0, 0), (0, 1/3) [0.9], (0.2, 1) [0.5 admits 2 pos + 2 neg], (1, 1)
    # FPR 0.1 is halfway along (0, 1/3)-(0.2, 1): TPR = 1/3 + 0.5 * 2/3 = 2/3
    assert tpr_at_fpr(np.r_[pos, neg], truth, 0.1) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"member_scores": [0.1]}, "member_scores must be a 1-D array of at least 2"),
        ({"nonmember_scores": [0.1, np.nan]}, "nonmember_scores contains NaN"),
        ({"target_fpr": 1.5}, "target_fpr must be in"),
        ({"confidence": 1.0}, "confidence must be in"),
        ({"n_bootstrap": 1}, "n_bootstrap must be"),
    ],
)
def test_bad_input_names_the_item(kwargs: dict, match: str) -> None:
    """Bad input raises a ValueError naming the argument and the reason."""
    args = {"member_scores": [0.9, 0.8], "nonmember_scores": [0.1, 0.2]} | kwargs
    with pytest.raises(ValueError, match=match):
        membership_attack(**args)


def test_as_dict_is_json_ready() -> None:
    """as_dict() round-trips through json with the intervals as lists."""
    import json

    res = membership_attack([0.9, 0.8, 0.3], [0.1, 0.2, 0.4], n_bootstrap=50)
    back = json.loads(json.dumps(res.as_dict()))
    assert back["auc"] == pytest.approx(res.auc)
    assert back["auc_ci"] == list(res.auc_ci)
    assert back["n_members"] == 3
