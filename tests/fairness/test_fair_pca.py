"""FairPCA: equal projected group means, optimality, covariance variant, streaming, I/O."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import linalg, optimize
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array
from sklearn.utils.estimator_checks import parametrize_with_checks

from fairness.debias import FairPCA, PCADebiaser, load_debiaser


def _data(n: int = 900, d: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows with two attributes (3-valued 'a', binary 'b') that shift the mean."""
    rng = np.random.default_rng(seed)
    a = rng.choice(np.array(["x", "y", "z"]), size=n, p=[0.5, 0.3, 0.2])
    b = rng.integers(0, 2, size=n)
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 3.0
    X[a == "y"] += 1.5 * rng.normal(size=d)
    X[a == "z"] += 1.0 * rng.normal(size=d)
    X[b == 1] += 0.8 * rng.normal(size=d)
    return X, np.stack([a, b.astype(str)], axis=1)


def _max_gap(Y: np.ndarray, labels: np.ndarray) -> float:
    means = np.stack([Y[labels == g].mean(axis=0) for g in np.unique(labels)])
    return float(np.abs(means - means[0]).max())


def _cells(groups: np.ndarray) -> np.ndarray:
    return np.array(["|".join(row) for row in groups])


@pytest.mark.parametrize(
    ("case", "rank"),
    [("binary", 1), ("multi", 2), ("two_attributes", 3), ("intersectional", 5)],
)
def test_projected_group_means_are_equal(case: str, rank: int) -> None:
    X, groups = _data()
    if case == "binary":
        sf, checks = groups[:, 1], [groups[:, 1]]
    elif case == "multi":
        sf, checks = groups[:, 0], [groups[:, 0]]
    elif case == "two_attributes":
        sf, checks = groups, [groups[:, 0], groups[:, 1]]
    else:
        sf, checks = groups, [_cells(groups)]
    est = FairPCA(5, intersectional=case == "intersectional").fit(X, sensitive_features=sf)
    Y = est.transform(X)
    assert est.n_constraints_ == rank
    for labels in checks:
        assert _max_gap(Y, labels) < 1e-10
    # The same data under plain PCA keeps large gaps, so the check above can fail.
    plain = PCADebiaser(5).fit(X).transform(X)
    assert max(_max_gap(plain, labels) for labels in checks) > 0.1


def test_multi_attribute_without_intersection_leaves_cells_unequal() -> None:
    X, groups = _data()
    Y = FairPCA(5).fit(X, sensitive_features=groups).transform(X)
    assert _max_gap(Y, groups[:, 0]) < 1e-10
    assert _max_gap(Y, _cells(groups)) > 1e-3  # marginal constraints only


def test_components_match_an_independent_construction() -> None:
    # Projector onto the complement of the mean differences (via pinv), then top-k
    # eigenvectors of P C P: the optimum computed another way.
    X, groups = _data(d=8)
    est = FairPCA(3).fit(X, sensitive_features=groups[:, 0])
    mu = X.mean(axis=0)
    diffs = np.stack([X[groups[:, 0] == g].mean(axis=0) - mu for g in ("x", "y", "z")])
    # rcond: the three differences sum to zero (rank 2); rounding leaves a ~1e-14 value.
    proj = np.eye(8) - np.linalg.pinv(diffs, rcond=1e-10) @ diffs
    cov = np.cov(X, rowvar=False)
    w, v = np.linalg.eigh(proj @ cov @ proj)
    top = v[:, ::-1][:, :3]
    np.testing.assert_allclose(est.explained_variance_, w[::-1][:3], rtol=1e-10)
    np.testing.assert_allclose(est.components_.T @ est.components_, top @ top.T, atol=1e-10)
    np.testing.assert_allclose(est.components_ @ est.components_.T, np.eye(3), atol=1e-12)


def test_variance_is_maximal_among_projections_with_equal_means() -> None:
    X, groups = _data(n=400, d=5, seed=3)
    sf = groups[:, 0]
    est = FairPCA(2).fit(X, sensitive_features=sf)
    cov = np.cov(X, rowvar=False)
    best = float(np.trace(est.components_ @ cov @ est.components_.T))
    mu = X.mean(axis=0)
    diffs = np.stack([X[sf == g].mean(axis=0) - mu for g in ("y", "z")])  # rank 2

    def neg_var(u: np.ndarray) -> float:
        U = u.reshape(5, 2)
        return -float(np.trace(U.T @ cov @ U))

    cons = [
        {
            "type": "eq",
            "fun": lambda u: (u.reshape(5, 2).T @ u.reshape(5, 2) - np.eye(2))[np.triu_indices(2)],
        },
        {"type": "eq", "fun": lambda u: (diffs @ u.reshape(5, 2)).ravel()},
    ]
    rng = np.random.default_rng(0)
    found = []
    for _ in range(8):
        res = optimize.minimize(
            neg_var,
            rng.normal(size=10),
            constraints=cons,
            method="SLSQP",
            options={"maxiter": 500, "ftol": 1e-12},
        )
        if res.success and max(np.abs(c["fun"](res.x)).max() for c in cons) < 1e-7:
            found.append(-res.fun)
    assert found, "SLSQP found no feasible optimum"
    assert best >= max(found) - 1e-7
    assert best == pytest.approx(max(found), rel=1e-5)
    # Random feasible projections never beat it.
    null = linalg.null_space(diffs)
    for _ in range(200):
        q, _ = np.linalg.qr(null @ rng.normal(size=(null.shape[1], 2)))
        assert np.trace(q.T @ cov @ q) <= best + 1e-9


def test_truncation_gives_the_smaller_fair_projection() -> None:
    X, groups = _data()
    big = FairPCA(6).fit(X, sensitive_features=groups[:, 0])
    small = FairPCA(3).fit(X, sensitive_features=groups[:, 0])
    np.testing.assert_allclose(big.components_[:3], small.components_, atol=1e-10)
    assert np.all(np.diff(big.explained_variance_) <= 0)


def test_scale_equals_fairpca_on_standardised_data() -> None:
    X, groups = _data()
    scaled = FairPCA(4, scale=True).fit(X, sensitive_features=groups[:, 0])
    ref = FairPCA(4).fit(StandardScaler().fit_transform(X), sensitive_features=groups[:, 0])
    np.testing.assert_allclose(scaled.components_, ref.components_, atol=1e-10)
    np.testing.assert_allclose(
        scaled.transform(X), ref.transform(StandardScaler().fit_transform(X)), atol=1e-10
    )
    back = scaled.inverse_transform(scaled.transform(X))
    assert back.shape == X.shape


def _two_covariance_groups(n: int = 3000, d: int = 10, seed: int = 1):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, size=n)
    X = rng.normal(size=(n, d)) * np.linspace(3, 1, d)
    stretch = np.eye(d)
    stretch[:4, :4] += rng.normal(scale=0.8, size=(4, 4))
    X[g == 1] = X[g == 1] @ stretch + 0.7
    return X, g


def test_covariance_constraint_shrinks_the_covariance_gap() -> None:
    X, g = _two_covariance_groups()
    mean_only = FairPCA(3).fit(X, sensitive_features=g)
    cov_fair = FairPCA(3, constraint="covariance", n_cov_eigvecs=5).fit(X, sensitive_features=g)

    def gap(est: FairPCA) -> float:
        Y = est.transform(X)
        return float(np.linalg.norm(np.cov(Y[g == 0].T) - np.cov(Y[g == 1].T)))

    assert gap(cov_fair) < 0.5 * gap(mean_only)
    assert _max_gap(cov_fair.transform(X), g) < 1e-10
    assert cov_fair.explained_variance_.sum() <= mean_only.explained_variance_.sum() + 1e-9


def test_covariance_constraint_binary_matches_the_paper_rule() -> None:
    X, g = _two_covariance_groups(d=8)
    k, l_ = 3, 5
    est = FairPCA(k, constraint="covariance", n_cov_eigvecs=l_).fit(X, sensitive_features=g)
    # The paper's construction, written out directly.
    r = linalg.null_space((X[g == 1].mean(0) - X[g == 0].mean(0))[None, :])
    s0, s1 = np.cov(X[g == 0].T, bias=True), np.cov(X[g == 1].T, bias=True)
    w, v = np.linalg.eigh(r.T @ (s0 - s1) @ r)
    q = v[:, np.argsort(np.abs(w))[:l_]]
    b = r @ q
    _, vv = np.linalg.eigh(b.T @ np.cov(X.T) @ b)
    u = b @ vv[:, ::-1][:, :k]
    np.testing.assert_allclose(est.components_.T @ est.components_, u @ u.T, atol=1e-8)


def test_covariance_constraint_three_groups_and_default_l() -> None:
    rng = np.random.default_rng(2)
    X, _ = _two_covariance_groups()
    g = rng.integers(0, 3, size=len(X))
    X[g == 2, :3] *= 2.0
    est = FairPCA(3, constraint="covariance").fit(X, sensitive_features=g)
    assert est.n_cov_eigvecs_ == (3 + 8 + 1) // 2  # ceil((k + d - rank) / 2), rank = 2
    assert _max_gap(est.transform(X), g) < 1e-10
    mean_only = FairPCA(3).fit(X, sensitive_features=g)

    def pairwise_gap(e: FairPCA) -> float:
        Y = e.transform(X)
        covs = [np.cov(Y[g == h].T) for h in range(3)]
        return sum(np.linalg.norm(covs[i] - covs[j]) for i in range(3) for j in range(i))

    assert pairwise_gap(est) < pairwise_gap(mean_only)


@pytest.mark.parametrize("offset", [0.0, 100.0])  # products on raw rows / on shifted rows
@pytest.mark.parametrize("constraint", ["mean", "covariance"])
def test_partial_fit_over_chunks_equals_fit(constraint: str, offset: float) -> None:
    X, groups = _data()
    X = X + offset
    order = np.argsort(groups[:, 0] == "z", kind="stable")  # group "z" only in the last chunk
    X, groups = X[order], groups[order]
    full = FairPCA(4, constraint=constraint).fit(X, sensitive_features=groups)
    inc = FairPCA(4, constraint=constraint)
    for lo, hi in [(0, 100), (100, 450), (450, 900)]:
        inc.partial_fit(X[lo:hi], sensitive_features=groups[lo:hi], finalize=hi == 900)
    assert "z" not in set(groups[:450, 0])
    assert inc._stats.raw_gram == (offset == 0.0)
    for name in ("components_", "mean_", "explained_variance_", "explained_variance_ratio_"):
        np.testing.assert_allclose(getattr(inc, name), getattr(full, name), atol=1e-10)
    assert inc.groups_ == full.groups_ == [["x", "y", "z"], ["0", "1"]]
    for a in range(2):
        np.testing.assert_array_equal(inc.group_counts_[a], full.group_counts_[a])
        np.testing.assert_allclose(inc.group_means_[a], full.group_means_[a], atol=1e-10)


def test_merge_of_workers_equals_fit() -> None:
    X, groups = _data()
    full = FairPCA(4, constraint="covariance").fit(X, sensitive_features=groups[:, 0])
    workers = [
        FairPCA(4, constraint="covariance").partial_fit(
            X[i::3] * 1.0, sensitive_features=groups[i::3, 0], finalize=False
        )
        for i in range(3)
    ]
    merged = FairPCA.merge(workers)
    np.testing.assert_allclose(merged.components_, full.components_, atol=1e-10)
    assert merged.n_samples_seen_ == len(X)
    with pytest.raises(ValueError, match="other parameters"):
        FairPCA.merge([workers[0], FairPCA(3).fit(X, sensitive_features=groups[:, 0])])


def test_float32_input_gives_float32_output_and_close_fit() -> None:
    X, groups = _data()
    f64 = FairPCA(4).fit(X, sensitive_features=groups[:, 0])
    f32 = FairPCA(4).fit(X.astype(np.float32), sensitive_features=groups[:, 0])
    assert f32.transform(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(np.abs(f32.components_ @ f64.components_.T), np.eye(4), atol=1e-4)
    assert _max_gap(f32.transform(X), groups[:, 0]) < 1e-6


def test_float32_far_from_origin_stays_accurate() -> None:
    # |mean| >> spread: X^T X - n mu mu^T in float32 would cancel catastrophically (sklearn's
    # covariance_eigh PCA loses the components here); the shifted products do not.
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20000, 6)) * np.array([3, 2, 1.5, 1, 0.5, 0.2]) + 1000.0
    g = (X[:, 0] > 1000.0).astype(int)
    X32 = X.astype(np.float32)
    for est in (PCADebiaser(3), FairPCA(3)):
        f32 = est.fit(X32, sensitive_features=g)
        assert not f32._stats.raw_gram
        comps32, var32 = f32.components_.copy(), f32.explained_variance_.copy()
        f64 = est.fit(X32.astype(np.float64), sensitive_features=g)
        np.testing.assert_allclose(np.abs(comps32 @ f64.components_.T), np.eye(3), atol=1e-6)
        np.testing.assert_allclose(var32, f64.explained_variance_, rtol=1e-6)


def test_chunks_of_mixed_dtypes() -> None:
    X, groups = _data()
    inc = FairPCA(4, constraint="covariance")
    inc.partial_fit(X[:400], sensitive_features=groups[:400])
    inc.partial_fit(X[400:].astype(np.float32), sensitive_features=groups[400:])
    ref_x = np.vstack([X[:400], X[400:].astype(np.float32).astype(np.float64)])
    ref = FairPCA(4, constraint="covariance").fit(ref_x, sensitive_features=groups)
    np.testing.assert_allclose(np.abs(inc.components_ @ ref.components_.T), np.eye(4), atol=1e-5)
    for a in range(2):
        np.testing.assert_allclose(inc.group_means_[a], ref.group_means_[a], rtol=1e-12)
    assert _max_gap(inc.transform(ref_x), groups[:, 0]) < 1e-10


def test_probe_cannot_beat_majority_after_projection() -> None:
    rng = np.random.default_rng(7)
    n, d = 6000, 16
    g = (rng.random(n) < 0.3).astype(int)
    X = rng.normal(size=(n, d))
    X[g == 1] += 0.9 * rng.normal(size=d) / np.sqrt(d) * 3
    fit_part, train, test = np.split(rng.permutation(n), 3)
    majority = max(np.mean(g[test] == 0), np.mean(g[test] == 1))

    def probe_accuracy(T: np.ndarray) -> float:
        clf = LogisticRegression(max_iter=1000).fit(T[train], g[train])
        return float(clf.score(T[test], g[test]))

    assert probe_accuracy(X) > majority + 0.1
    est = FairPCA(10).fit(X[fit_part], sensitive_features=g[fit_part])
    assert probe_accuracy(est.transform(X)) <= majority + 0.025


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
@pytest.mark.parametrize("constraint", ["mean", "covariance"])
def test_save_load_round_trip(tmp_path: Path, suffix: str, constraint: str) -> None:
    X, groups = _data()
    est = FairPCA(4, constraint=constraint, intersectional=True, scale=True)
    est.partial_fit(X[:500], sensitive_features=groups[:500])
    path = est.save(tmp_path / f"fair{suffix}")
    back = load_debiaser(path)
    assert isinstance(back, FairPCA) and back.get_params() == est.get_params()
    for name in (
        "components_",
        "mean_",
        "scale_",
        "explained_variance_",
        "explained_variance_ratio_",
    ):
        np.testing.assert_array_equal(getattr(back, name), getattr(est, name))
    assert back.groups_ == est.groups_ and isinstance(back.groups_[0][0], tuple)
    np.testing.assert_array_equal(back.transform(X), est.transform(X))
    # The statistics travel too: updating the loaded copy equals updating the original.
    est.partial_fit(X[500:], sensitive_features=groups[500:])
    back.partial_fit(X[500:], sensitive_features=groups[500:])
    np.testing.assert_array_equal(back.components_, est.components_)


def test_save_without_statistics_is_transform_only(tmp_path: Path) -> None:
    X, groups = _data()
    est = FairPCA(3, constraint="covariance").fit(X, sensitive_features=groups[:, 0])
    small = tmp_path / "small.npz"
    est.save(small, include_statistics=False)
    assert small.stat().st_size < est.save(tmp_path / "big.npz").stat().st_size / 2
    back = load_debiaser(small)
    np.testing.assert_array_equal(back.transform(X), est.transform(X))
    with pytest.raises(ValueError, match="without its statistics"):
        back.partial_fit(X, sensitive_features=groups[:, 0])


def test_load_refuses_tampered_npz(tmp_path: Path) -> None:
    X, groups = _data()
    path = FairPCA(3).fit(X, sensitive_features=groups[:, 0]).save(tmp_path / "f.npz")
    with np.load(path, allow_pickle=False) as data:
        members = {k: data[k].copy() for k in data.files}
    members["components_"][0, 0] += 1e-9
    np.savez(tmp_path / "bad.npz", **members)
    with pytest.raises(ValueError, match="sha256"):
        load_debiaser(tmp_path / "bad.npz")
    digest = json.loads(members["__metadata__"].tobytes())["arrays_sha256"]
    assert isinstance(load_debiaser(path, expected_sha256=digest), FairPCA)
    with pytest.raises(ValueError, match="expected_sha256"):
        load_debiaser(path, expected_sha256="0" * 64)


def test_load_refuses_tampered_safetensors(tmp_path: Path) -> None:
    from safetensors import safe_open
    from safetensors.numpy import save_file

    X, groups = _data()
    path = FairPCA(3).fit(X, sensitive_features=groups[:, 0]).save(tmp_path / "f.safetensors")
    with safe_open(str(path), framework="np") as fh:
        meta = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    tensors["mean_"] = tensors["mean_"] + 1.0
    save_file(tensors, str(tmp_path / "bad.safetensors"), metadata=meta)
    with pytest.raises(ValueError, match="sha256"):
        load_debiaser(tmp_path / "bad.safetensors")


def test_load_rejects_non_debiaser_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="metadata"):
        load_debiaser(tmp_path / "plain.npz")
    (tmp_path / "junk.safetensors").write_bytes(b"not a file")
    with pytest.raises(ValueError, match="not a readable"):
        load_debiaser(tmp_path / "junk.safetensors")
    with pytest.raises(ValueError, match="unsupported file type"):
        load_debiaser(tmp_path / "model.pkl")


def test_bad_input_gets_clear_errors() -> None:
    X, groups = _data()
    with pytest.raises(ValueError, match="sensitive_features is required"):
        FairPCA(2).fit(X, sensitive_features=None)
    with pytest.raises(ValueError, match="rows but X has"):
        FairPCA(2).fit(X, sensitive_features=groups[:10, 0])
    with pytest.raises(ValueError, match="missing value"):
        FairPCA(2).fit(X, sensitive_features=[None, *groups[1:, 0]])
    with pytest.raises(ValueError, match="n_components=12 exceeds the 10"):
        FairPCA(12).fit(X, sensitive_features=groups[:, 0])
    with pytest.raises(ValueError, match="n_cov_eigvecs=2 must lie between"):
        FairPCA(3, constraint="covariance", n_cov_eigvecs=2).fit(X, sensitive_features=groups)
    with pytest.raises(ValueError, match="constraint"):
        FairPCA(constraint="variance").fit(X, sensitive_features=groups)
    est = FairPCA(2).fit(X, sensitive_features=groups)
    with pytest.raises(ValueError, match="1 attribute"):
        est.partial_fit(X, sensitive_features=groups[:, 0])
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:, :5], sensitive_features=groups)


def test_mixed_label_types_and_dataframes() -> None:
    pd = pytest.importorskip("pandas")
    X, groups = _data()
    mixed = np.array([1 if v == "x" else v for v in groups[:, 0]], dtype=object)
    est = FairPCA(3).fit(X, sensitive_features=mixed)
    assert est.groups_ == [[1, "y", "z"]]
    frame = pd.DataFrame({"age": groups[:, 0], "sex": groups[:, 1].astype(int)})
    est = FairPCA(3).fit(X, sensitive_features=frame)
    assert est.sensitive_names_ == ["age", "sex"] and est.groups_[1] == [0, 1]


# ---------------------------------------------------------------- scikit-learn's checks
def _groups_from(X: object) -> np.ndarray:
    """Groups from the data itself (first feature above its median) for sklearn's checks."""
    arr = check_array(X)
    return (arr[:, 0] > np.median(arr[:, 0])).astype(int)


class _CheckedFairPCA(FairPCA):
    """FairPCA with groups derived from X: sklearn's checks call ``fit(X, y)`` only."""

    def fit(self, X, y=None):  # type: ignore[override]
        return super().fit(X, y, sensitive_features=_groups_from(X))

    def partial_fit(self, X, y=None):  # type: ignore[override]
        return super().partial_fit(X, y, sensitive_features=_groups_from(X))


@parametrize_with_checks([_CheckedFairPCA(), _CheckedFairPCA(constraint="covariance")])
def test_sklearn_compatible(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)
