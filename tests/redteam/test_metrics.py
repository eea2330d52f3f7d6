"""Metrics checked against brute-force and independent computations."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from redteam.metrics import (
    cosine_drift,
    edit_distance,
    evaluate_attack,
    perturbation_norms,
    ranks_of,
    recall_at_k,
    topk_indices,
)


def _levenshtein_recursive(a: str, b: str) -> int:
    @cache
    def d(i: int, j: int) -> int:
        if i == 0 or j == 0:
            return i + j
        return min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))

    return d(len(a), len(b))


@pytest.mark.parametrize("seed", range(20))
def test_edit_distance_matches_recursive_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = "".join(rng.choice(list("abc\u200b"), size=rng.integers(0, 9)))
    b = "".join(rng.choice(list("abc\u200b"), size=rng.integers(0, 9)))
    assert edit_distance(a, b) == _levenshtein_recursive(a, b)


def test_transposition_distance() -> None:
    assert edit_distance("abcd", "bacd") == 2
    assert edit_distance("abcd", "bacd", transpositions=True) == 1
    assert edit_distance("", "abc", transpositions=True) == 3


def test_ranks_and_topk_brute_force() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(30, 9)).astype(float)  # many ties
    items = rng.integers(0, 9, size=30)
    ranks = ranks_of(scores, items)
    top = topk_indices(scores, 9)
    for i in range(30):
        order = sorted(range(9), key=lambda j: (-scores[i, j], j))  # ties: lower index first
        assert ranks[i] == order.index(items[i])
        assert list(top[i]) == order
    assert recall_at_k(scores, items, 3) == pytest.approx(np.mean(ranks < 3))


def test_drift_norms_and_report() -> None:
    rng = np.random.default_rng(1)
    g = rng.standard_normal((5, 4))
    clean = g[[0, 1, 2]] + 0.01 * rng.standard_normal((3, 4))
    attacked = np.stack([g[3], clean[1], g[0]])  # q0 -> item 3, q1 unchanged, q2 -> item 0
    rep = evaluate_attack(clean, attacked, g, relevant=[0, 1, 2], k=1)
    assert rep.recall_clean == 1.0 and rep.recall_attacked == pytest.approx(1 / 3)
    assert (rep.n_eligible, rep.n_success) == (3, 2)
    rep_t = evaluate_attack(clean, attacked, g, target=[3, 4, 0], k=1)
    assert (rep_t.n_eligible, rep_t.n_success) == (3, 2)
    drift = cosine_drift(clean, attacked)
    a = clean / np.linalg.norm(clean, axis=1, keepdims=True)
    b = attacked / np.linalg.norm(attacked, axis=1, keepdims=True)
    assert np.allclose(drift, 1 - np.einsum("ij,ij->i", a, b))
    assert drift[1] == pytest.approx(0.0, abs=1e-12)
    x = rng.random((2, 3, 4, 4))
    y = x.copy()
    y[0, 1, 2, 3] += 0.25
    y[1] -= 0.1
    n = perturbation_norms(x, y)
    assert np.allclose(n["linf"], [0.25, 0.1]) and np.allclose(n["l2"], [0.25, 0.1 * np.sqrt(48)])


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match=r"relevant= .* or target="):
        evaluate_attack(np.eye(2), np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="k must be"):
        topk_indices(np.eye(3), 5)
