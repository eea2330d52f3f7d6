"""Association test (WEAT/SEAT/EAT) statistics against hand and independent computations."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pytest
from scipy import stats

from fairness.probes import AssociationResult, association_test, s_scores
from fairness.probes._permutation import subset_sums

# --- independent reference: plain Python, loops over itertools.combinations -------------


def _cos(u: list[float], v: list[float]) -> float:
    dot = sum(a * b for a, b in zip(u, v, strict=True))
    return dot / (math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v)))


def _s_ref(w: list[float], A: list[list[float]], B: list[list[float]]) -> float:
    return sum(_cos(w, a) for a in A) / len(A) - sum(_cos(w, b) for b in B) / len(B)


def _reference(X, Y, A, B, ddof=1):
    """Effect size, S, and strict / inclusive exact p-values by brute force."""
    X, Y, A, B = (np.asarray(M, dtype=float).tolist() for M in (X, Y, A, B))
    s = [_s_ref(w, A, B) for w in X + Y]
    sx, sy = s[: len(X)], s[len(X) :]
    S = sum(sx) - sum(sy)
    sd = statistics.stdev(s) if ddof == 1 else statistics.pstdev(s)
    d = (statistics.fmean(sx) - statistics.fmean(sy)) / sd
    greater = greater_eq = total = 0
    for xi in itertools.combinations(range(len(s)), len(X)):
        in_x = set(xi)
        Si = sum(s[i] for i in in_x) - sum(s[i] for i in range(len(s)) if i not in in_x)
        greater += Si > S + 1e-9
        greater_eq += Si >= S - 1e-9
        total += 1
    return d, S, greater / total, greater_eq / total


# --- the paper example: A = e1, B = e2, s(w) = cos(w, e1) - cos(w, e2) ------------------

A1 = np.array([[1.0, 0.0]])
B1 = np.array([[0.0, 1.0]])
# s: (1,0) -> 1, (3,0) -> 1 (scale-free), (0,2) -> -1, (1,1) -> 0.
X1 = np.array([[1.0, 0.0], [3.0, 0.0]])
Y1 = np.array([[0.0, 2.0], [1.0, 1.0]])


def test_hand_example_effect_size_statistic_and_p_values() -> None:
    # Caliskan's one-sided definition (alternative="greater"); the two-sided default
    # has its own tests below.
    # On paper: s_X = (1, 1), s_Y = (-1, 0); S = 2 - (-1) = 3; pooled mean 0.25,
    # sum of squares 2.75, sample var 2.75/3, so d = 1.5 / sqrt(2.75/3).
    res = association_test(X1, Y1, A1, B1, n_bootstrap=0, alternative="greater")
    assert isinstance(res, AssociationResult)
    assert res.statistic == pytest.approx(3.0)
    assert res.effect_size == pytest.approx(1.5 / math.sqrt(2.75 / 3))
    assert res.effect_size == pytest.approx(1.5666989036012806)
    # The 6 partitions of {1, 1, -1, 0} give S_i = 3, -1, -1, 1, 1, -3: none above 3.
    assert res.p_value_method == "exact"
    assert res.n_permutations == 6
    assert res.p_value == 0.0
    assert res.ties == "strict"
    incl = association_test(X1, Y1, A1, B1, n_bootstrap=0, alternative="greater", ties="inclusive")
    assert incl.p_value == pytest.approx(1 / 6)  # the observed partition only
    assert math.isnan(res.ci_low) and math.isnan(res.ci_high)
    assert res.n_targets == (2, 2) and res.n_attributes == (1, 1)


def test_ddof_zero_vs_one() -> None:
    d1 = association_test(X1, Y1, A1, B1, n_bootstrap=0).effect_size
    d0 = association_test(X1, Y1, A1, B1, n_bootstrap=0, ddof=0).effect_size
    assert d0 == pytest.approx(1.5 / math.sqrt(2.75 / 4))  # population std by hand
    n = 4
    assert d0 == pytest.approx(d1 * math.sqrt(n / (n - 1)))


def test_ties_between_distinct_partitions() -> None:
    # Caliskan's one-sided definition (alternative="greater"); the two-sided default
    # has its own tests below.
    # s_X = (1, 0), s_Y = (1, -1): S = 1. Partitions' S_i: 1 (observed), 3, -1, 1 (a
    # different partition tying with it), -3, -1.
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[2.0, 0.0], [0.0, 1.0]])
    strict = association_test(X, Y, A1, B1, n_bootstrap=0, alternative="greater")
    incl = association_test(X, Y, A1, B1, n_bootstrap=0, alternative="greater", ties="inclusive")
    assert strict.statistic == pytest.approx(1.0)
    assert strict.p_value == pytest.approx(1 / 6)
    assert incl.p_value == pytest.approx(3 / 6)


def test_ties_tolerate_rounding() -> None:
    # Caliskan's one-sided definition (alternative="greater"); the two-sided default
    # has its own tests below.
    # 0.1 + 0.2 != 0.3 in floating point, yet these partitions tie mathematically.
    s_vals = [0.1, 0.2, 0.3, 0.0]  # X = {0.1, 0.2}, Y = {0.3, 0.0}: S = 0
    vecs = []
    for v in s_vals:
        # Against A = e1, B = e2 a unit w = (c, sqrt(1 - c^2)) has s = c - sqrt(1 - c^2);
        # c = (v + sqrt(2 - v^2)) / 2 solves s = v.
        c = (v + math.sqrt(2 - v * v)) / 2
        vecs.append([c, math.sqrt(1 - c * c)])
    X, Y = np.array(vecs[:2]), np.array(vecs[2:])
    np.testing.assert_allclose(s_scores(np.array(vecs), A1, B1), s_vals, atol=1e-12)
    _, S, p_strict, p_incl = _reference(X, Y, A1, B1)
    res = association_test(X, Y, A1, B1, n_bootstrap=0, alternative="greater")
    res_incl = association_test(
        X, Y, A1, B1, n_bootstrap=0, alternative="greater", ties="inclusive"
    )
    assert S == pytest.approx(0.0, abs=1e-12)
    # {0.1,0.2} vs {0.3,0.0} and {0.3,0.0} vs {0.1,0.2} both give S_i = 0.
    assert res.p_value == pytest.approx(p_strict) == pytest.approx(2 / 6)
    assert res_incl.p_value == pytest.approx(p_incl) == pytest.approx(4 / 6)


@pytest.mark.parametrize(("n_x", "n_y"), [(4, 4), (5, 3), (2, 6), (1, 1)])
def test_matches_bruteforce_reference(n_x: int, n_y: int) -> None:
    # Caliskan's one-sided definition (alternative="greater"); the two-sided default
    # has its own tests below.
    rng = np.random.default_rng(n_x * 10 + n_y)
    X, Y = rng.normal(size=(n_x, 3)), rng.normal(size=(n_y, 3))
    A, B = rng.normal(size=(3, 3)), rng.normal(size=(2, 3))
    d, S, p_strict, p_incl = _reference(X, Y, A, B)
    d0 = _reference(X, Y, A, B, ddof=0)[0]
    res = association_test(X, Y, A, B, n_bootstrap=0, alternative="greater")
    assert res.statistic == pytest.approx(S, abs=1e-12)
    assert res.effect_size == pytest.approx(d, rel=1e-10)
    assert res.p_value == pytest.approx(p_strict)
    assert res.n_permutations == math.comb(n_x + n_y, n_x)
    incl = association_test(X, Y, A, B, n_bootstrap=0, alternative="greater", ties="inclusive")
    assert incl.p_value == pytest.approx(p_incl)
    assert association_test(X, Y, A, B, n_bootstrap=0, ddof=0).effect_size == pytest.approx(d0)


@pytest.mark.parametrize(("n", "r"), [(1, 1), (4, 1), (6, 3), (9, 7), (12, 5)])
def test_subset_sums_enumerate_every_subset(n: int, r: int) -> None:
    s = np.random.default_rng(n + r).normal(size=n)
    expected = sorted(sum(s[i] for i in c) for c in itertools.combinations(range(n), r))
    got = subset_sums(s, r)
    assert got.size == math.comb(n, r)
    np.testing.assert_allclose(np.sort(got), expected, rtol=0, atol=1e-12)


def test_s_scores_match_reference_and_ignore_norms() -> None:
    rng = np.random.default_rng(3)
    W, A, B = rng.normal(size=(6, 4)), rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    expected = [_s_ref(w, A.tolist(), B.tolist()) for w in W.tolist()]
    np.testing.assert_allclose(s_scores(W, A, B), expected, rtol=1e-12)
    scaled = s_scores(W * rng.uniform(0.1, 10, size=(6, 1)), A * 7.0, B * 0.01)
    np.testing.assert_allclose(scaled, expected, rtol=1e-12)


def test_exact_p_matches_scipy_permutation_test() -> None:
    # Caliskan's one-sided definition (alternative="greater"); the two-sided default
    # has its own tests below.
    rng = np.random.default_rng(11)
    X, Y = rng.normal(size=(8, 6)) + 0.3, rng.normal(size=(8, 6))
    A, B = rng.normal(size=(5, 6)) + 0.3, rng.normal(size=(5, 6))
    s = s_scores(np.vstack([X, Y]), A, B)
    ref = stats.permutation_test(
        (s[:8], s[8:]),
        lambda x, y, axis: x.sum(axis=axis) - y.sum(axis=axis),
        permutation_type="independent",
        alternative="greater",
        n_resamples=np.inf,
        vectorized=True,
    )
    # scipy counts S_i >= S (the observed partition included): our "inclusive" rule.
    res = association_test(X, Y, A, B, n_bootstrap=0, alternative="greater", ties="inclusive")
    assert res.p_value_method == "exact" and res.n_permutations == 12_870
    assert res.p_value == pytest.approx(ref.pvalue, abs=1e-12)


@pytest.mark.parametrize(("n_x", "n_y", "shift"), [(8, 8, 0.15), (8, 8, 0.5), (7, 10, 0.5)])
def test_sampled_agrees_with_exact_within_monte_carlo_error(
    n_x: int, n_y: int, shift: float
) -> None:
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(n_x, 10)) + shift, rng.normal(size=(n_y, 10))
    A, B = rng.normal(size=(8, 10)) + shift, rng.normal(size=(8, 10))
    exact = association_test(X, Y, A, B, n_bootstrap=0, ties="inclusive")
    n = 20_000
    sampled = association_test(X, Y, A, B, n_bootstrap=0, exact_max=10, n_permutations=n)
    assert exact.p_value_method == "exact" and sampled.p_value_method == "sampled"
    assert sampled.n_permutations == n
    assert 0.01 < exact.p_value < 0.99  # a case where the comparison means something
    se = math.sqrt(exact.p_value * (1 - exact.p_value) / n)
    assert abs(sampled.p_value - exact.p_value) < 4 * se + 1 / n


def test_sampled_p_value_has_plus_one_correction() -> None:
    # Caliskan's one-sided definition (alternative="greater"); the two-sided default
    # has its own tests below.
    # Perfect separation: no random partition of 12 vs 12 reaches S (the observed one is
    # 1 of 2.7 million), so p = (1 + 0) / (1 + n), never 0.
    X = np.tile([1.0, 0.0], (12, 1)) + np.linspace(0, 0.1, 12)[:, None] * [0, 1]
    Y = np.tile([0.0, 1.0], (12, 1)) + np.linspace(0, 0.1, 12)[:, None] * [1, 0]
    res = association_test(X, Y, A1, B1, n_permutations=999, n_bootstrap=0, alternative="greater")
    assert res.p_value_method == "sampled"
    assert res.p_value == pytest.approx(1 / 1000)


def test_bootstrap_ci_contains_effect_for_clear_effect() -> None:
    rng = np.random.default_rng(2)
    e1, e2 = np.eye(8)[0], np.eye(8)[1]
    X = rng.normal(size=(20, 8)) + 2 * e1
    Y = rng.normal(size=(20, 8)) + 2 * e2
    A = rng.normal(size=(10, 8)) * 0.3 + e1
    B = rng.normal(size=(10, 8)) * 0.3 + e2
    res = association_test(X, Y, A, B, n_bootstrap=4000, confidence=0.9)
    assert res.effect_size > 1.0
    assert 0.0 < res.ci_low < res.effect_size < res.ci_high
    assert res.p_value < 1e-3
    # Independent check: scipy's percentile bootstrap of the same statistic.
    s = s_scores(np.vstack([X, Y]), A, B)

    def d(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
        pooled = np.concatenate([x, y], axis=axis)
        return (x.mean(axis=axis) - y.mean(axis=axis)) / pooled.std(axis=axis, ddof=1)

    ref = stats.bootstrap(
        (s[:20], s[20:]),
        d,
        n_resamples=4000,
        confidence_level=0.9,
        method="percentile",
        rng=np.random.default_rng(0),
    )
    assert res.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.1)
    assert res.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.1)


def test_random_state_reproducible() -> None:
    rng = np.random.default_rng(9)
    X, Y, A, B = (rng.normal(size=(9, 4)) for _ in range(4))
    kw = {"exact_max": 0, "n_permutations": 500, "n_bootstrap": 200}
    r1 = association_test(X, Y, A, B, random_state=4, **kw)
    r2 = association_test(X, Y, A, B, random_state=4, **kw)
    r3 = association_test(X, Y, A, B, random_state=np.random.default_rng(4), **kw)
    assert r1 == r2 == r3


def test_constant_s_gives_nan_effect_size() -> None:
    X = np.array([[1.0, 1.0], [2.0, 2.0]])
    Y = np.array([[3.0, 3.0]])
    with pytest.warns(RuntimeWarning, match="zero spread"):
        res = association_test(X, Y, A1, B1, n_bootstrap=10)
    assert math.isnan(res.effect_size)
    assert res.statistic == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((np.empty((0, 2)), Y1, A1, B1), {}, ValueError, "X is empty"),
        ((X1, Y1, A1, np.empty((0, 2))), {}, ValueError, "B is empty"),
        ((X1, Y1, np.ones((1, 3)), B1), {}, ValueError, "X has dim 2 but A has dim 3"),
        ((X1, Y1, A1, [[np.nan, 1.0]]), {}, ValueError, "B contains NaN"),
        ((X1, [[0.0, np.inf]], A1, B1), {}, ValueError, "Y contains NaN or infinite"),
        ((np.ones(2), Y1, A1, B1), {}, ValueError, "X must be a 2-D array"),
        ((X1, Y1, [[0.0, 0.0]], B1), {}, ValueError, "A row 0 has zero norm"),
        ((X1, [["a", "b"]], A1, B1), {}, TypeError, "Y must be a numeric"),
        ((X1, Y1, A1, B1), {"ddof": 2}, ValueError, "ddof"),
        ((X1, Y1, A1, B1), {"confidence": 1.0}, ValueError, "confidence"),
        ((X1, Y1, A1, B1), {"ties": "maybe"}, ValueError, "ties"),
        ((X1, Y1, A1, B1), {"n_permutations": 0}, ValueError, "n_permutations"),
        ((X1, Y1, A1, B1), {"n_bootstrap": 1.5}, TypeError, "n_bootstrap"),
    ],
)
def test_input_validation(args, kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        association_test(*args, **kwargs)


def test_s_scores_validation_names_argument() -> None:
    with pytest.raises(ValueError, match="W is empty"):
        s_scores(np.empty((0, 2)), A1, B1)
    with pytest.raises(ValueError, match="W has dim 3 but B has dim 2"):
        s_scores(np.ones((2, 3)), np.ones((1, 3)), B1)


# --- two-sided default (issue 18): an association in either direction is significant ---


def _scipy_two_sided(s: np.ndarray, n_x: int):
    return stats.permutation_test(
        (s[:n_x], s[n_x:]),
        lambda x, y, axis: x.sum(axis=axis) - y.sum(axis=axis),
        permutation_type="independent",
        alternative="two-sided",
        n_resamples=np.inf,
        vectorized=True,
    )


@pytest.mark.parametrize("shift", [0.3, -0.3, 0.0])
def test_two_sided_exact_p_matches_scipy(shift: float) -> None:
    # scipy's two-sided p is min(1, 2 min(P[S_i >= S], P[S_i <= S])) over all partitions,
    # the "inclusive" counting; computed independently of this package's enumeration.
    rng = np.random.default_rng(23)
    X, Y = rng.normal(size=(8, 6)) + shift, rng.normal(size=(8, 6))
    A, B = rng.normal(size=(5, 6)) + 0.3, rng.normal(size=(5, 6))
    s = s_scores(np.vstack([X, Y]), A, B)
    ref = _scipy_two_sided(s, 8)
    res = association_test(X, Y, A, B, n_bootstrap=0, ties="inclusive")
    assert res.alternative == "two-sided" and res.p_value_method == "exact"
    assert res.p_value == pytest.approx(ref.pvalue, abs=1e-12)
    assert res.direction == ("X~A" if res.effect_size > 0 else "X~B")


def test_two_sided_is_the_default_and_doubles_the_smaller_tail_by_hand() -> None:
    # Hand example (above): S_i over the 6 partitions = 3, -1, -1, 1, 1, -3; S = 3.
    # inclusive: P[S_i >= 3] = 1/6, P[S_i <= 3] = 1, two-sided = 2/6.
    # strict: P[S_i > 3] = 0, so two-sided = 0 (read as p < 1/6, as the one-sided test).
    res = association_test(X1, Y1, A1, B1, n_bootstrap=0)
    incl = association_test(X1, Y1, A1, B1, n_bootstrap=0, ties="inclusive")
    assert res.alternative == "two-sided" and res.p_value == 0.0
    assert incl.p_value == pytest.approx(2 / 6)
    # Swapping X and Y flips the direction, keeps the two-sided p, and the one-sided
    # "greater" test no longer sees it (the blind spot of issue 18).
    flipped = association_test(Y1, X1, A1, B1, n_bootstrap=0, ties="inclusive")
    assert flipped.p_value == pytest.approx(incl.p_value)
    assert flipped.effect_size == pytest.approx(-incl.effect_size)
    assert (incl.direction, flipped.direction) == ("X~A", "X~B")
    kw = {"n_bootstrap": 0, "ties": "inclusive"}
    assert association_test(Y1, X1, A1, B1, alternative="greater", **kw).p_value == 1.0
    assert association_test(Y1, X1, A1, B1, alternative="less", **kw).p_value == pytest.approx(
        1 / 6
    )


def test_two_sided_flags_a_strong_negative_association() -> None:
    # An over-corrected space: X now sits clearly closer to B. One-sided "greater" reads
    # it as nothing (p near 1); two-sided reads it as significant, direction X~B.
    rng = np.random.default_rng(3)
    e = np.eye(8)[0]
    A, B = rng.normal(size=(6, 8)) + 2 * e, rng.normal(size=(6, 8)) - 2 * e
    X, Y = rng.normal(size=(8, 8)) - 1.5 * e, rng.normal(size=(8, 8)) + 1.5 * e
    res = association_test(X, Y, A, B, n_bootstrap=0, ties="inclusive")
    one = association_test(X, Y, A, B, n_bootstrap=0, alternative="greater")
    assert res.effect_size < -1.0 and res.direction == "X~B"
    assert res.p_value < 0.01 and one.p_value > 0.99
    s = s_scores(np.vstack([X, Y]), A, B)
    assert res.p_value == pytest.approx(_scipy_two_sided(s, 8).pvalue, abs=1e-12)


def test_two_sided_sampled_agrees_with_scipy_within_monte_carlo_error() -> None:
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(9, 6)) - 0.25, rng.normal(size=(9, 6))
    A, B = rng.normal(size=(5, 6)) + 0.3, rng.normal(size=(5, 6))
    s = s_scores(np.vstack([X, Y]), A, B)
    exact = _scipy_two_sided(s, 9).pvalue  # all C(18, 9) = 48,620 partitions
    n = 20_000
    res = association_test(X, Y, A, B, n_bootstrap=0, exact_max=10, n_permutations=n)
    assert res.p_value_method == "sampled"
    se = math.sqrt(exact * (1 - exact) / n)
    assert abs(res.p_value - exact) < 2 * 4 * se + 2 / n  # two tails: twice the error


def test_alternative_is_validated() -> None:
    with pytest.raises(ValueError, match="alternative must be"):
        association_test(X1, Y1, A1, B1, n_bootstrap=0, alternative="both")  # type: ignore[arg-type]
