"""Cross-validated attribute probes on Gaussian classes, checked against the Bayes rates.

Two classes N(+-delta/2 e1, I) have Bayes accuracy Phi(delta/2) and Bayes AUC
Phi(delta/sqrt(2)); logistic regression is well specified for shared-covariance Gaussians,
so a probe with enough items lands on those rates.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from redteam.privacy import probe_attribute
from redteam.privacy._attribute import resample_scores


def _planted(n: int, d: int, delta: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    X = rng.standard_normal((n, d))
    X[:, 0] += (y - 0.5) * delta
    return X, y


def test_planted_direction_reaches_the_bayes_rates() -> None:
    delta = 1.5
    X, y = _planted(1600, 8, delta, seed=1)
    r = probe_attribute(X, y, attribute="g", n_permutations=15, n_bootstrap=300)
    lo, hi = r.balanced_accuracy_ci
    assert lo <= norm.cdf(delta / 2) <= hi
    lo, hi = r.roc_auc_ci
    assert lo <= norm.cdf(delta / math.sqrt(2)) <= hi
    # No shuffle beats a real effect this large: the p-value is its floor 1 / (1 + B).
    assert r.p_value == pytest.approx(1 / 16)
    assert r.classes == ("0", "1") and r.n_per_class == (800, 800) and r.n == 1600
    assert r.chance == 0.5 and r.majority_rate == 0.5 and r.method == "cv-5"
    # Balanced accuracy is the mean of the per-class recalls.
    assert r.balanced_accuracy == pytest.approx(np.mean(r.recall_per_class))


def test_no_planted_direction_is_at_chance() -> None:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((240, 8))
    y = rng.permutation(np.repeat(["a", "b"], 120))
    r = probe_attribute(X, y, n_folds=3, n_permutations=30, n_bootstrap=300)
    assert r.balanced_accuracy_ci[0] <= 0.5 <= r.balanced_accuracy_ci[1]
    assert r.roc_auc_ci[0] <= 0.5 <= r.roc_auc_ci[1]
    assert r.p_value > 0.1


def test_three_classes_rare_and_missing_labels() -> None:
    # Three classes on a line, spacing delta: the middle one errs on both sides, so the
    # Bayes balanced accuracy is 1 - (4/3) * (1 - Phi(delta/2)).
    # The fitted probe falls short of Bayes by an estimation loss that shrinks like d/n,
    # faster than the interval (1/sqrt(n)): many items in few dims keep it negligible, and
    # a 99 % interval keeps this coverage check from failing one seed in twenty.
    delta, m = 2.0, 1000
    rng = np.random.default_rng(3)
    y = np.repeat(["lo", "mid", "hi"], m).astype(object)
    X = rng.standard_normal((3 * m, 4))
    X[:, 0] += np.repeat([-delta, 0.0, delta], m)
    # Three items of a fourth class (fewer than the 5 folds) and two unlabelled items.
    X = np.vstack([X, rng.standard_normal((5, 4))])
    y = np.concatenate([y, np.array(["rare"] * 3 + [None, float("nan")], dtype=object)])
    r = probe_attribute(X, list(y), n_permutations=2, n_bootstrap=1000, confidence=0.99)
    assert r.excluded == (("rare", 3),) and r.n_missing == 2
    assert r.classes == ("hi", "lo", "mid") and r.n_per_class == (m, m, m)
    assert r.chance == pytest.approx(1 / 3)
    bayes = 1 - 4 / 3 * (1 - norm.cdf(delta / 2))
    assert r.balanced_accuracy_ci[0] <= bayes <= r.balanced_accuracy_ci[1]
    # Accuracy equals balanced accuracy for equal class sizes; its Wilson interval by hand.
    k, n, z = round(r.accuracy * r.n), r.n, norm.ppf(0.995)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert r.accuracy_ci == pytest.approx((centre - half, centre + half))
    assert r.accuracy == pytest.approx(r.balanced_accuracy)


def test_bad_input_names_the_problem() -> None:
    X, y = _planted(20, 3, 1.0, seed=4)
    with pytest.raises(ValueError, match="need two classes with at least 5"):
        probe_attribute(X, ["a"] * 17 + ["b"] * 3, attribute="tone")
    X_nan = X.copy()
    X_nan[7, 1] = np.nan
    with pytest.raises(ValueError, match="row 7"):
        probe_attribute(X_nan, y)
    with pytest.raises(ValueError, match="19 rows but 20 labels"):
        probe_attribute(X[:19], y)


@pytest.mark.parametrize("k", [2, 3])
def test_vectorised_bootstrap_scores_match_scikit_learn(k: int) -> None:
    rng = np.random.default_rng(6)
    codes = rng.integers(0, k, 150)
    proba = rng.dirichlet(np.ones(k), 150)
    proba[:30] = proba[0]  # ties: average ranks, as roc_auc_score handles them
    idx = rng.integers(0, 150, (5, 150))
    got = resample_scores(codes, proba, idx)
    for b in range(5):
        c, p = codes[idx[b]], proba[idx[b]]
        auc = roc_auc_score(c, p[:, 1]) if k == 2 else roc_auc_score(c, p, multi_class="ovr")
        assert got[b] == pytest.approx([balanced_accuracy_score(c, p.argmax(axis=1)), auc])
