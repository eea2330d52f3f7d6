"""Significance helpers of fairness.probes: skew null, group-gap test, cluster bootstrap, Holm."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from fairness.probes import (
    cluster_bootstrap_ci,
    group_gap_test,
    holm_bonferroni,
    load_neutral_queries,
    max_skew_at_k,
    min_skew_at_k,
    ndkl,
    neutral_query_sets,
    skew_at_k,
    skew_permutation_test,
    uniform_target,
)


@pytest.mark.parametrize("eps", [None, 0.05])
def test_skew_test_equals_scalar_functions_with_absent_groups(eps):
    rng = np.random.default_rng(3)
    gallery = ["a"] * 6 + ["b"] * 4 + ["c"] * 2
    rankings = np.stack([rng.permutation(len(gallery)) for _ in range(25)])
    rankings[0, :4] = [0, 1, 2, 3]  # top 4 all "a": b and c absent
    target = uniform_target(gallery)
    res = skew_permutation_test(gallery, rankings, target, 4, n_permutations=0, eps=eps)
    labels = np.array(gallery)
    for i, row in enumerate(rankings):
        ranked = list(labels[row])
        expect = skew_at_k(ranked, target, 4, eps=eps)
        assert res.skew[i] == pytest.approx([expect[g] for g in res.groups])
        assert res.max_skew[i] == pytest.approx(max_skew_at_k(ranked, target, 4, eps=eps))
        assert res.min_skew[i] == pytest.approx(min_skew_at_k(ranked, target, 4, eps=eps))
        assert res.ndkl[i] == pytest.approx(ndkl(ranked, target, 4))
    floor = 0.25 if eps is None else eps
    assert res.skew[0] == pytest.approx([math.log(3), math.log(3 * floor), math.log(3 * floor)])
    counts = [sum(g not in set(labels[row[:4]]) for row in rankings) for g in "abc"]
    assert res.absent.tolist() == counts
    assert math.isnan(res.p_max_skew)


def test_skew_test_exact_zero_floor_gives_minus_inf():
    ranking = np.array([[0, 1, 2]])
    target = {"a": 0.5, "b": 0.5}
    res = skew_permutation_test(["a", "a", "b"], ranking, target, 2, n_permutations=0, eps=0.0)
    assert res.min_skew[0] == -math.inf and res.max_skew[0] == pytest.approx(math.log(2))


def test_skew_null_mean_matches_enumeration():
    # Gallery of 6 items (3 a, 3 b); one fixed ranking; k = 2. Under shuffled labels the
    # expected MaxSkew@2 is an average over all C(6,3) labelings, computed here by hand.
    gallery = ["a", "a", "a", "b", "b", "b"]
    ranking = np.array([[0, 1, 2, 3, 4, 5]])
    target = {"a": 0.5, "b": 0.5}
    exact = []
    for a_pos in itertools.combinations(range(6), 3):
        labels = ["a" if i in a_pos else "b" for i in range(6)]
        exact.append(max_skew_at_k(labels, target, 2))
    res = skew_permutation_test(gallery, ranking, target, 2, n_permutations=20_000)
    assert res.null_mean["max_skew"] == pytest.approx(np.mean(exact), abs=0.01)
    # The observed top 2 is all "a" (MaxSkew ln 2). Labelings whose first two items share
    # a group reach ln 2 too: 4 with both "a" and 4 with both "b" of 20, so p is about 0.4.
    assert res.max_skew[0] == pytest.approx(math.log(2))
    assert res.p_max_skew == pytest.approx(8 / 20, abs=0.015)


def test_skew_test_rejects_bad_input():
    with pytest.raises(ValueError, match="missing from target"):
        skew_permutation_test(["a", "z"], np.array([[0, 1]]), {"a": 1.0}, 1)
    with pytest.raises(ValueError, match="outside the gallery"):
        skew_permutation_test(["a", "b"], np.array([[0, 5]]), {"a": 0.5, "b": 0.5}, 1)
    with pytest.raises(ValueError, match="k must be"):
        skew_permutation_test(["a", "b"], np.array([[0, 1]]), {"a": 0.5, "b": 0.5}, 3)
    with pytest.raises(TypeError, match="integer"):
        skew_permutation_test(["a", "b"], np.array([[0.0, 1.0]]), {"a": 0.5, "b": 0.5}, 1)


def _brute_gap_p(values: np.ndarray) -> float:
    n, m = values.shape
    observed = np.ptp(values.mean(axis=0))
    hits = total = 0
    for combo in itertools.product(itertools.permutations(range(m)), repeat=n):
        arranged = np.array([values[i, list(p)] for i, p in enumerate(combo)])
        hits += np.ptp(arranged.mean(axis=0)) >= observed - 1e-12
        total += 1
    return hits / total


def test_group_gap_test_exact_matches_brute_force_and_sampled_agrees():
    rng = np.random.default_rng(0)
    values = rng.random((4, 3))
    values[:, 0] += 0.4
    exact = group_gap_test(values)
    assert exact.method == "exact" and exact.n_permutations == 6**4
    assert exact.p_value == pytest.approx(_brute_gap_p(values))
    assert exact.gap == pytest.approx(np.ptp(values.mean(axis=0)))
    sampled = group_gap_test(values, exact_max=0, n_permutations=20_000, random_state=1)
    assert sampled.method == "sampled"
    assert sampled.p_value == pytest.approx(exact.p_value, abs=0.015)


def test_group_gap_test_rejects_nan_and_one_group():
    with pytest.raises(ValueError, match="NaN"):
        group_gap_test(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="n_groups >= 2"):
        group_gap_test(np.ones((3, 1)))


def test_cluster_bootstrap_resamples_whole_clusters():
    values = [0.0, 0.0, 1.0, 1.0]
    lo, hi = cluster_bootstrap_ci(values, ["x", "x", "y", "y"], n_bootstrap=500)
    # Only whole clusters are drawn: the mean is 0, 0.5 or 1, never 0.25 or 0.75.
    assert {lo, hi} <= {0.0, 0.5, 1.0}
    lo_i, hi_i = cluster_bootstrap_ci(values, None, n_bootstrap=2000, confidence=0.5)
    assert lo_i in (0.25, 0.5) and hi_i in (0.5, 0.75)
    with pytest.raises(ValueError, match="labels"):
        cluster_bootstrap_ci(values, ["x"], n_bootstrap=10)


def test_holm_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max
    assert holm_bonferroni(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_bonferroni([0.9, 0.5]) == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError):
        holm_bonferroni([0.1, 1.5])


def test_neutral_professions_queries():
    qs = load_neutral_queries("professions")
    meta = neutral_query_sets()["professions"]
    assert len(qs) == len(meta["words"]) * len(meta["templates"]) == 60
    assert len({q.id for q in qs}) == 60
    texts = {q.text for q in qs}
    assert "a photo of an artist." in texts and "a picture of a judge." in texts
    assert "an office worker" in texts
    assert meta["provenance"]["templates"]
    with pytest.raises(ValueError, match="unknown neutral query set"):
        load_neutral_queries("nope")
