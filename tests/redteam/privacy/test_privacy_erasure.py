"""Erasure check: a projection removing a planted direction, scored on held-out items.

Two independent attributes are planted along e1 and e2. Projecting out e1 must bring the
first to chance while the second stays at its Bayes rate Phi(delta/2); a projection
fitted on the fit split alone leaves what its estimated direction misses, which is
computed here in closed form.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from redteam.privacy import erasure_check

DELTA = 2.0


def _world(n: int = 1200, d: int = 6, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n)
    b = rng.integers(0, 2, n)
    X = rng.standard_normal((n, d))
    X[:, 0] += (a - 0.5) * DELTA
    X[:, 1] += (b - 0.5) * DELTA
    return X, a, b


def _without(u: np.ndarray):
    u = u / np.linalg.norm(u)
    return lambda X: X - np.outer(X @ u, u)


def test_removing_the_planted_direction_erases_only_that_attribute() -> None:
    X, a, b = _world()
    e1 = np.eye(X.shape[1])[0]
    r = erasure_check(
        X,
        a,
        _without(e1),
        others={"b": b},
        attribute="a",
        n_folds=3,
        n_permutations=19,
        n_bootstrap=300,
    )
    bayes = norm.cdf(DELTA / 2)
    assert r.n_fit + r.n_heldout == len(a) and not r.fitted
    raw, moved = r.target.raw, r.target.transformed
    assert raw.balanced_accuracy_ci[0] <= bayes <= raw.balanced_accuracy_ci[1]
    assert raw.p_value == pytest.approx(1 / 20)
    assert moved.balanced_accuracy_ci[0] <= 0.5 <= moved.balanced_accuracy_ci[1]
    assert moved.roc_auc_ci[0] <= 0.5 <= moved.roc_auc_ci[1]
    assert moved.p_value > 0.05
    (other,) = r.others
    assert other.attribute == "b" and other.raw.n == r.n_heldout
    for s in (other.raw, other.transformed):
        assert s.balanced_accuracy_ci[0] <= bayes <= s.balanced_accuracy_ci[1]


def test_projection_fitted_on_the_fit_split_leaks_what_it_missed() -> None:
    X, a, _ = _world()
    seen: dict[str, np.ndarray] = {}

    def mean_difference(X_fit: np.ndarray, y_fit: np.ndarray):
        u = X_fit[y_fit == "1"].mean(axis=0) - X_fit[y_fit == "0"].mean(axis=0)
        seen["u"], seen["n"] = u / np.linalg.norm(u), np.array(len(X_fit))
        return _without(u)

    r = erasure_check(
        X, a, fit_transform=mean_difference, n_folds=3, n_permutations=5, n_bootstrap=300
    )
    assert r.fitted and int(seen["n"]) == r.n_fit
    # After projection the class means differ by delta * (e1 - (e1.u) u), noise stays
    # isotropic in the remaining subspace: the Bayes rate is Phi(|that| / 2).
    u = seen["u"]
    residual = DELTA * np.linalg.norm(np.eye(len(u))[0] - u[0] * u)
    moved = r.target.transformed
    assert moved.balanced_accuracy_ci[0] <= norm.cdf(residual / 2) <= moved.balanced_accuracy_ci[1]


def test_bad_input_is_named() -> None:
    X, a, b = _world(n=60)
    ident = _without(np.ones(X.shape[1]))
    with pytest.raises(ValueError, match="exactly one"):
        erasure_check(X, a)
    with pytest.raises(ValueError, match="attribute 'b' has 59 labels"):
        erasure_check(X, a, ident, others={"b": b[:59]})
    with pytest.raises(ValueError, match=r"transform\(X\) row 0"):
        erasure_check(X, a, lambda Z: Z * np.nan)


def test_rare_and_unreadable_columns_are_reported_or_named() -> None:
    X, a, _ = _world(n=120)
    ident = _without(np.ones(X.shape[1]))
    # One item of a third target class cannot be split: reported, not crashed on.
    y = a.astype(object)
    y[0] = "solo"
    r = erasure_check(X, y, ident, n_folds=3, n_permutations=3, n_bootstrap=50)
    assert ("solo", 1) in r.target.raw.excluded and r.n_fit + r.n_heldout == 119
    # A column with a single class among the held-out items is an error naming it.
    with pytest.raises(ValueError, match=r"'c'.*held-out items"):
        erasure_check(X, a, ident, others={"c": ["x"] * 120}, n_folds=3, n_permutations=3)
