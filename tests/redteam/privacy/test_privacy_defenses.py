"""Defenses: rotation keeps every cosine yet defeats what was fitted on clean vectors,
noise shrinks cosines as the closed form says, truncation is prefix + renorm, and the
leakage curve records each setting's measures."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes
from sklearn.linear_model import LogisticRegression

from redteam.privacy._defenses import (
    GaussianNoise,
    LeakagePoint,
    MatryoshkaTruncation,
    RandomRotation,
    leakage_curve,
)
from redteam.privacy._membership import index_membership


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_rotation_is_orthogonal_keyed_and_keeps_cosines() -> None:
    """Q^T Q = I, the same key gives the same Q, and all inner products are unchanged."""
    rng = np.random.default_rng(0)
    x, q = rng.standard_normal((40, 24)), rng.standard_normal((7, 24))
    rot = RandomRotation(seed=123)
    m = rot.matrix(24)
    np.testing.assert_allclose(m.T @ m, np.eye(24), atol=1e-12)
    np.testing.assert_array_equal(m, RandomRotation(seed=123).matrix(24))
    assert not np.allclose(m, RandomRotation(seed=124).matrix(24))
    np.testing.assert_allclose(rot(q) @ rot(x).T, q @ x.T, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(rot(x), axis=1), np.linalg.norm(x, axis=1))
    # retrieval unchanged: the same top-5 for every query
    top = np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :5]
    top_rot = np.argsort(-(rot(q) @ rot(x).T), axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(top, top_rot)
    assert "seed" not in json.dumps(rot.describe()).replace("secret_seed", "")
    assert "123" not in repr(rot)


def test_rotation_sign_fix_makes_it_haar() -> None:
    """Sign-fixed QR is Haar: E[Q_11^2] = 1/d and the diagonal has no sign bias.

    Plain numpy QR (Householder) returns R with a negative diagonal more often than not,
    so its Q_11 is biased negative; Haar matrices have E[Q_11] = 0.
    """
    d, n = 3, 2000
    q11 = np.array([RandomRotation(seed=s).matrix(d)[0, 0] for s in range(n)])
    assert abs(q11.mean()) < 4 * math.sqrt(1 / d / n)  # mean 0 with sd sqrt(1/(d n))
    assert q11.var() == pytest.approx(1 / d, rel=0.1)


def test_probe_fitted_on_clean_vectors_fails_on_rotated_ones() -> None:
    """A linear probe for a planted attribute reads clean vectors, not rotated ones."""
    rng = np.random.default_rng(1)
    d, n = 16, 600
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, d))
    x[:, 0] += 3.0 * (2 * y - 1)  # planted direction, Bayes accuracy Phi(3) ~ 0.999
    probe = LogisticRegression().fit(x[:400], y[:400])
    assert probe.score(x[400:], y[400:]) > 0.95
    rotated = RandomRotation(seed=7)(x)
    assert abs(probe.score(rotated[400:], y[400:]) - 0.5) < 0.15
    # the attribute is still there for whoever holds rotated training data ...
    refit = LogisticRegression().fit(rotated[:400], y[:400])
    assert refit.score(rotated[400:], y[400:]) > 0.95
    # ... and d known (clean, rotated) pairs give the key back (Procrustes)
    r, _ = orthogonal_procrustes(x[: d * 2], rotated[: d * 2])
    np.testing.assert_allclose(r, RandomRotation(seed=7).matrix(d), atol=1e-8)


def test_rotated_index_defeats_clean_membership_probes() -> None:
    """Exact copies find themselves in a clean index, not in a secretly rotated one."""
    rng = np.random.default_rng(2)
    index, outsiders = _unit(rng, 200, 32), _unit(rng, 100, 32)
    clean = index_membership(index[:100], outsiders, index=index, n_bootstrap=100)
    rotated = index_membership(
        index[:100], outsiders, index=RandomRotation(seed=99)(index), n_bootstrap=100
    )
    assert clean.auc == 1.0
    assert rotated.auc_ci[0] <= 0.5 <= rotated.auc_ci[1]


@pytest.mark.parametrize(("d", "sigma"), [(384, 0.05), (64, 0.1), (768, 0.02)])
def test_noise_shrinks_cosine_as_closed_form(d: int, sigma: float) -> None:
    """Mean cos(x, x + noise) of unit x is 1/sqrt(1 + d sigma^2) within 1 %."""
    x = _unit(np.random.default_rng(3), 1500, d)
    noisy = GaussianNoise(sigma=sigma, seed=5)(x)
    np.testing.assert_allclose(np.linalg.norm(noisy, axis=1), 1.0)
    expected = 1.0 / math.sqrt(1.0 + d * sigma**2)
    assert np.mean(np.sum(x * noisy, axis=1)) == pytest.approx(expected, rel=0.01)
    assert GaussianNoise(sigma=sigma).expected_cosine(d) == pytest.approx(expected)
    # the noise really has sd sigma per coordinate
    raw = GaussianNoise(sigma=sigma, seed=5, normalize=False)(x) - x
    assert raw.std() == pytest.approx(sigma, rel=0.01)


def test_noise_is_reproducible_per_matrix_and_independent_across_matrices() -> None:
    """Same input and seed -> same output; index and queries never share noise rows."""
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((50, 8)), rng.standard_normal((50, 8))
    noise = GaussianNoise(sigma=1.0, seed=11, normalize=False)
    np.testing.assert_array_equal(noise(a), noise(a))
    na, nb = noise(a) - a, noise(b) - b
    assert abs(np.corrcoef(na.ravel(), nb.ravel())[0, 1]) < 0.15
    assert not np.allclose(noise(a), GaussianNoise(sigma=1.0, seed=12, normalize=False)(a))
    np.testing.assert_allclose(GaussianNoise(sigma=0.0)(a), a / np.linalg.norm(a, axis=1)[:, None])
    assert GaussianNoise(sigma=0.5, seed=3).describe() == {
        "name": "gaussian_noise",
        "sigma": 0.5,
        "normalize": True,
        "secret_seed": True,
    }


def test_truncation_is_prefix_and_renorm() -> None:
    """MatryoshkaTruncation(k) == x[:, :k] / ||x[:, :k]||, and bad dims are refused."""
    x = np.array([[3.0, 4.0, 12.0], [0.0, 0.0, 1.0]])
    out = MatryoshkaTruncation(2)(x)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])  # a zero prefix stays zero
    assert MatryoshkaTruncation(2).describe() == {"name": "matryoshka_truncation", "dims": 2}
    with pytest.raises(ValueError, match="dims=4 exceeds the input dimension 3"):
        MatryoshkaTruncation(4)(x)
    with pytest.raises(ValueError, match="dims must be an integer >= 1"):
        MatryoshkaTruncation(0)
    with pytest.raises(ValueError, match="sigma must be finite and >= 0"):
        GaussianNoise(sigma=-1.0)


def test_leakage_curve_records_each_setting() -> None:
    """Each point holds describe(), the measures' values and their details, in order."""
    rng = np.random.default_rng(5)
    x = _unit(rng, 30, 8)
    seen: list[np.ndarray] = []

    def leakage(t):  # a mapping with CI bounds, as a suite would return
        out = t(x)
        seen.append(out)
        return {"value": float(out.shape[1]), "ci_low": 0.0, "n": 30}

    def utility(t):  # a bare number: the mean cosine kept with the clean vectors
        out = t(x)
        return float(np.mean(np.sum(x[:, : out.shape[1]] * out, axis=1)))

    pts = leakage_curve([None, MatryoshkaTruncation(4), RandomRotation(seed=1)], leakage, utility)
    assert [p.defense["name"] for p in pts] == ["none", "matryoshka_truncation", "random_rotation"]
    assert [p.leakage for p in pts] == [8.0, 4.0, 8.0]
    assert pts[0].leakage_detail == {"value": 8.0, "ci_low": 0.0, "n": 30}
    np.testing.assert_array_equal(seen[0], x)
    truncated = x[:, :4] / np.linalg.norm(x[:, :4], axis=1, keepdims=True)
    by_hand = np.mean(np.sum(x[:, :4] * truncated, axis=1))
    assert pts[1].utility == pytest.approx(by_hand)
    assert pts[0].utility == pytest.approx(1.0)
    assert pts[1].utility_detail == {"value": pts[1].utility}
    assert isinstance(pts[0], LeakagePoint)
    with pytest.raises(TypeError, match=r"defenses\[1\] is str"):
        leakage_curve([None, "noise"], leakage, utility)
    with pytest.raises(ValueError, match="without a 'value' key"):
        leakage_curve([None], lambda t: {"auc": 1.0}, utility)
    with pytest.raises(ValueError, match="at least one defense"):
        leakage_curve([], leakage, utility)
