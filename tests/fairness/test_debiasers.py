"""PCADebiaser, LEACE and CorrelationRemoverDebiaser behind the common contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fairlearn.preprocessing import CorrelationRemover
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_array
from sklearn.utils.estimator_checks import parametrize_with_checks

from fairness.debias import (
    LEACE,
    CorrelationRemoverDebiaser,
    FairPCA,
    PCADebiaser,
    load_debiaser,
)


def _data(n: int = 1200, d: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correlated features shifted by a 3-valued attribute and a binary one."""
    rng = np.random.default_rng(seed)
    a = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    b = rng.integers(0, 2, size=n)
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 2.0
    X += np.eye(3)[a] @ rng.normal(scale=1.5, size=(3, d))
    X[b == 1] += rng.normal(size=d)
    return X, np.stack([a, b], axis=1)


def _max_gap(Y: np.ndarray, labels: np.ndarray) -> float:
    means = np.stack([Y[labels == g].mean(axis=0) for g in np.unique(labels)])
    return float(np.abs(means - means[0]).max())


def _max_abs_corr(Y: np.ndarray, S: np.ndarray) -> float:
    Yc, Sc = Y - Y.mean(0), S - S.mean(0)
    cov = Yc.T @ Sc
    return float(
        np.abs(cov / np.outer(np.linalg.norm(Yc, axis=0), np.linalg.norm(Sc, axis=0))).max()
    )


# ---------------------------------------------------------------- PCADebiaser
def test_pca_debiaser_matches_sklearn_pca() -> None:
    X, groups = _data()
    ours = PCADebiaser(4).fit(X, sensitive_features=groups[:, 0])
    ref = PCA(4, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.components_, ref.components_, atol=1e-9)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-10
    )
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-9)
    assert ours.groups_ == [[0, 1, 2]] and ours.group_counts_[0].sum() == len(X)
    assert PCADebiaser().fit(X).explained_variance_ratio_.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------- LEACE
@pytest.mark.parametrize("case", ["binary", "multi", "two_attributes", "intersectional"])
def test_leace_equalises_group_means(case: str) -> None:
    X, groups = _data()
    sf = {"binary": groups[:, 1], "multi": groups[:, 0]}.get(case, groups)
    est = LEACE(intersectional=case == "intersectional").fit(X, sensitive_features=sf)
    Y = est.transform(X)
    assert Y.shape == X.shape
    assert est.rank_ == {"binary": 1, "multi": 2, "two_attributes": 3, "intersectional": 5}[case]
    checks = [groups[:, 1]] if case == "binary" else [groups[:, 0]]
    if case == "two_attributes":
        checks.append(groups[:, 1])
    if case == "intersectional":
        checks = [groups[:, 0] * 2 + groups[:, 1]]
    for labels in checks:
        assert _max_gap(X, labels) > 0.1
        assert _max_gap(Y, labels) < 1e-10


def test_leace_binary_matches_the_closed_form() -> None:
    # For one binary attribute LEACE reduces to r(x) = x - d d^T S^-1 (x - mu) / (d^T S^-1 d),
    # with d the mean difference and S the covariance: an oblique rank-one projection.
    X, groups = _data()
    g = groups[:, 1]
    delta = X[g == 1].mean(0) - X[g == 0].mean(0)
    s_inv = np.linalg.inv(np.cov(X.T, bias=True))
    expected = X - np.outer((X - X.mean(0)) @ s_inv @ delta, delta) / (delta @ s_inv @ delta)
    np.testing.assert_allclose(
        LEACE().fit(X, sensitive_features=g).transform(X), expected, atol=1e-9
    )


def test_leace_moves_data_less_than_an_orthogonal_projection() -> None:
    X, groups = _data()
    g = groups[:, 0]
    Y = LEACE().fit(X, sensitive_features=g).transform(X)
    # Orthogonal eraser: remove the span of the mean differences around the mean.
    diffs = np.stack([X[g == h].mean(0) - X[g == 0].mean(0) for h in (1, 2)])
    q, _ = np.linalg.qr(diffs.T)
    ortho = X - (X - X.mean(0)) @ q @ q.T
    assert _max_gap(ortho, g) < 1e-10  # also a valid eraser ...
    assert np.mean((Y - X) ** 2) < np.mean((ortho - X) ** 2)  # ... that moves more


def test_leace_probe_cannot_beat_majority() -> None:
    rng = np.random.default_rng(3)
    n, d = 6000, 16
    g = (rng.random(n) < 0.3).astype(int)
    X = rng.normal(size=(n, d))
    X[g == 1] += rng.normal(size=d) * 0.7
    fit_part, train, test = np.split(rng.permutation(n), 3)
    majority = max(np.mean(g[test] == 0), np.mean(g[test] == 1))

    def probe(T: np.ndarray) -> float:
        return float(
            LogisticRegression(max_iter=1000).fit(T[train], g[train]).score(T[test], g[test])
        )

    assert probe(X) > majority + 0.1
    assert probe(LEACE().fit(X[fit_part], sensitive_features=g[fit_part]).transform(X)) <= (
        majority + 0.025
    )


def test_leace_partial_fit_equals_fit() -> None:
    X, groups = _data()
    full = LEACE().fit(X, sensitive_features=groups)
    inc = LEACE()
    for lo in range(0, len(X), 400):
        inc.partial_fit(X[lo : lo + 400], sensitive_features=groups[lo : lo + 400])
    np.testing.assert_allclose(inc.transform(X), full.transform(X), atol=1e-10)


# ---------------------------------------------------------------- CorrelationRemover
def _dummies(labels: np.ndarray) -> np.ndarray:
    """Reference-coded dummies (first sorted group dropped), as the adapter builds them."""
    values = np.unique(labels)
    return (labels[:, None] == values[None, 1:]).astype(float)


def test_legacy_scalar_mean_leaves_correlation_and_the_adapter_fix_removes_it() -> None:
    # Two sensitive columns with different means (a 3-valued attribute, dummy-coded).
    X, groups = _data()
    S = _dummies(groups[:, 0])
    assert abs(S[:, 0].mean() - S[:, 1].mean()) > 0.05
    Xa = np.hstack([X, S])
    ids = [X.shape[1], X.shape[1] + 1]
    # fairlearn's fit before 0.15, reproduced: one scalar mean over all sensitive columns,
    # fed to the installed fairlearn's own transform.
    legacy = CorrelationRemover(sensitive_feature_ids=ids).fit(Xa)
    legacy.sensitive_mean_ = S.mean()
    legacy.beta_ = np.linalg.lstsq(S - S.mean(), X, rcond=None)[0]
    assert _max_abs_corr(legacy.transform(Xa), S) > 0.05  # the defect
    fixed = CorrelationRemoverDebiaser().fit(X, sensitive_features=groups[:, 0])
    out = fixed.transform(X, sensitive_features=groups[:, 0])
    assert _max_abs_corr(out, S) < 1e-10
    assert _max_gap(out, groups[:, 0]) < 1e-10


def test_installed_fairlearn_centring_and_adapter_agree_with_it() -> None:
    X, groups = _data()
    S = np.hstack([_dummies(groups[:, 0]), _dummies(groups[:, 1])])
    Xa = np.hstack([X, S])
    raw = CorrelationRemover(sensitive_feature_ids=list(range(10, 13))).fit(Xa)
    raw_out = raw.transform(Xa)
    ours = CorrelationRemoverDebiaser(correct_mean=False).fit(X, sensitive_features=groups)
    np.testing.assert_allclose(ours.transform(X, sensitive_features=groups), raw_out, atol=1e-10)
    assert ours.upstream_scalar_mean_ == (np.ndim(raw.sensitive_mean_) == 0)
    if ours.upstream_scalar_mean_:  # fairlearn before 0.15: the defect is live upstream
        assert _max_abs_corr(raw_out, S) > 0.01
    else:  # fairlearn 0.15 centres per column: upstream and the fix coincide
        np.testing.assert_allclose(raw.sensitive_mean_, S.mean(axis=0), atol=1e-15)
        fixed = CorrelationRemoverDebiaser().fit(X, sensitive_features=groups)
        np.testing.assert_allclose(
            fixed.transform(X, sensitive_features=groups), raw_out, atol=1e-10
        )


def test_correlation_remover_needs_groups_at_transform() -> None:
    X, groups = _data()
    est = CorrelationRemoverDebiaser(alpha=0.5).fit(X, sensitive_features=groups[:, 0])
    with pytest.raises(ValueError, match="group is unknown"):
        est.transform(X)
    with pytest.raises(ValueError, match="not seen in fit"):
        est.transform(X[:3], sensitive_features=[0, 1, 7])
    half = est.transform(X, sensitive_features=groups[:, 0])
    full = CorrelationRemoverDebiaser().fit(X, sensitive_features=groups[:, 0])
    np.testing.assert_allclose(
        half, 0.5 * X + 0.5 * full.transform(X, sensitive_features=groups[:, 0]), atol=1e-10
    )


def test_correlation_remover_probe_with_groups_at_transform() -> None:
    rng = np.random.default_rng(5)
    n, d = 6000, 16
    g = (rng.random(n) < 0.3).astype(int)
    X = rng.normal(size=(n, d))
    X[g == 1] += rng.normal(size=d) * 0.7
    fit_part, train, test = np.split(rng.permutation(n), 3)
    majority = max(np.mean(g[test] == 0), np.mean(g[test] == 1))
    est = CorrelationRemoverDebiaser().fit(X[fit_part], sensitive_features=g[fit_part])
    T = est.transform(X, sensitive_features=g)
    acc = LogisticRegression(max_iter=1000).fit(T[train], g[train]).score(T[test], g[test])
    assert acc <= majority + 0.025


# ---------------------------------------------------------------- persistence
@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_save_load_round_trip_for_every_debiaser(tmp_path: Path, suffix: str) -> None:
    X, groups = _data()
    fitted = [
        PCADebiaser(3).fit(X),
        PCADebiaser(3).fit(X, sensitive_features=groups),
        LEACE().fit(X, sensitive_features=groups),
        CorrelationRemoverDebiaser(alpha=0.9).fit(X, sensitive_features=groups),
        FairPCA(3).fit(X, sensitive_features=groups),
    ]
    for i, est in enumerate(fitted):
        back = load_debiaser(est.save(tmp_path / f"m{i}{suffix}"))
        assert type(back) is type(est) and back.get_params() == est.get_params()
        kw = {"sensitive_features": groups} if isinstance(est, CorrelationRemoverDebiaser) else {}
        np.testing.assert_array_equal(back.transform(X, **kw), est.transform(X, **kw))
        assert back.groups_ == est.groups_


def test_load_rejects_an_unknown_class(tmp_path: Path) -> None:
    from fairness.debias._io import write_file

    path = write_file(
        tmp_path / "x.npz", class_name="Pickled", params={}, state={}, arrays={"a": np.ones(2)}
    )
    with pytest.raises(ValueError, match="unknown debiaser class 'Pickled'"):
        load_debiaser(path)


# ---------------------------------------------------------------- scikit-learn's checks
def _groups_from(X: object) -> np.ndarray:
    arr = check_array(X)
    return (arr[:, 0] > np.median(arr[:, 0])).astype(int)


class _CheckedLEACE(LEACE):
    """LEACE with groups derived from X: sklearn's checks call ``fit(X, y)`` only."""

    def fit(self, X, y=None):  # type: ignore[override]
        return super().fit(X, y, sensitive_features=_groups_from(X))

    def partial_fit(self, X, y=None):  # type: ignore[override]
        return super().partial_fit(X, y, sensitive_features=_groups_from(X))


class _CheckedCorrelationRemover(CorrelationRemoverDebiaser):
    """Groups from a threshold fixed at fit, so transform can recompute them for any rows."""

    def fit(self, X, y=None):  # type: ignore[override]
        arr = check_array(X)
        self._threshold = float(np.median(arr[:, 0]))
        return super().fit(X, y, sensitive_features=(arr[:, 0] > self._threshold).astype(int))

    def transform(self, X):  # type: ignore[override]
        arr = check_array(X)
        groups = (arr[:, 0] > self._threshold).astype(int)
        return super().transform(X, sensitive_features=groups)

    def fit_transform(self, X, y=None):  # type: ignore[override]
        return self.fit(X, y).transform(X)


@parametrize_with_checks([PCADebiaser(), _CheckedLEACE(), _CheckedCorrelationRemover()])
def test_sklearn_compatible(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)
