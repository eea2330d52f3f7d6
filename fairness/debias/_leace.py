"""LEACE: least-squares concept erasure in closed form (Belrose et al., NeurIPS 2023)."""

from __future__ import annotations

from numbers import Real
from typing import Any, ClassVar

import numpy as np
from scipy import linalg
from sklearn.base import OneToOneFeatureMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import StatsDebiaser, _require
from ._fair_pca import reference_differences
from ._stats import SufficientStatistics

__all__ = ["LEACE"]

_EPS = np.finfo(np.float64).eps


class LEACE(OneToOneFeatureMixin, StatsDebiaser):
    """Linear concept erasure that keeps the dimension: ``r(x) = x - P (x - mean_)``.

    Belrose, Schneider-Joseph, Ravfogel, Cotterell, Raff, Biderman, "LEACE: Perfect linear
    concept erasure in closed form" (NeurIPS 2023), Theorem 4.3: with ``W = Sigma^{-1/2}``
    the whitening map (pseudo-inverse on the support of the covariance ``Sigma``) and
    ``Sigma_XZ`` the cross-covariance of ``x`` with the one-hot groups,
    ``P = W^+ P_{W Sigma_XZ} W``, an oblique projection. After erasure the cross-covariance
    with the groups is zero, i.e. every group has the same mean, so no linear predictor of
    the group beats the constant one (linear guardedness), and among all such affine
    erasers it moves the data least in mean squared (Euclidean) distance. Several
    attributes stack their one-hot blocks; ``intersectional=True`` uses the combinations.

    Unlike a projection to k dimensions, the output keeps ``n_features`` coordinates and
    the data's geometry outside the erased rank-``(m - 1)`` subspace.

    Parameters
    ----------
    rank_tol : float, default=None
        Relative eigenvalue cut-off for the pseudo-inverse square root of the covariance;
        None means ``n_features * eps``.
    intersectional : bool, default=False
        With several attributes, erase the intersections instead of each attribute.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features_in_,)
    proj_left_ : ndarray of shape (n_features_in_, rank_)
        ``W^+ Q``, with Q an orthonormal basis of ``W Sigma_XZ``.
    proj_right_ : ndarray of shape (rank_, n_features_in_)
        ``Q^T W``; the eraser is ``P = proj_left_ @ proj_right_``.
    rank_ : int
        Rank of the erased subspace (at most the number of groups minus one per attribute).
    groups_, group_counts_, group_means_, sensitive_names_, n_samples_seen_
        As in :class:`FairPCA`.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "rank_tol": [Interval(Real, 0.0, 1.0, closed="left"), None],
        "intersectional": ["boolean"],
    }

    def __init__(self, *, rank_tol: float | None = None, intersectional: bool = False) -> None:
        self.rank_tol = rank_tol
        self.intersectional = intersectional

    def _solve(self, stats: SufficientStatistics) -> None:
        n, d = stats.n, stats.n_features
        if n < 2:
            raise ValueError(f"n_samples={n}: LEACE needs at least 2 samples")
        mean = stats.mean()
        sigma = stats.centered_scatter() / n
        # Cov(x, 1[g]) = p_g (mu_g - mu); these columns sum to zero, so they span the same
        # space as the m - 1 differences mu_g - mu_ref, which have no built-in dependency.
        # Only the span enters the eraser (it projects onto the span of W Sigma_XZ).
        cols = [reference_differences(stats, att).T for att in stats.attributes or []]
        sigma_xz = np.concatenate(cols, axis=1) if cols else np.zeros((d, 0))
        evals, evecs = linalg.eigh(sigma)
        tol = (self.rank_tol if self.rank_tol is not None else d * _EPS) * max(evals.max(), 0)
        keep = evals > tol
        v, lam = evecs[:, keep], evals[keep]
        whiten = (v / np.sqrt(lam)) @ v.T  # W = Sigma^{-1/2} on the support
        unwhiten = (v * np.sqrt(lam)) @ v.T  # W^+ = Sigma^{1/2}
        m = whiten @ sigma_xz
        if m.size and np.any(m):
            u, s, _ = linalg.svd(m, full_matrices=False)
            rank = int(np.sum(s > s.max() * max(m.shape) * _EPS))
            q = u[:, :rank]
        else:
            q = np.zeros((d, 0))
        self.mean_ = mean
        self.proj_left_ = np.ascontiguousarray(unwhiten @ q)
        self.proj_right_ = np.ascontiguousarray(q.T @ whiten)
        self.rank_ = q.shape[1]

    def transform(self, X: Any) -> np.ndarray:
        """Erase: ``X - (X - mean_) @ proj_right_.T @ proj_left_.T``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            float32 for float32 input, else float64. The group labels are not needed.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        dt = X.dtype
        right = self.proj_right_.astype(dt, copy=False)
        left = self.proj_left_.astype(dt, copy=False)
        coords = X @ right.T - (self.mean_ @ self.proj_right_.T).astype(dt)
        return X - coords @ left.T

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _fitted_arrays(self) -> dict[str, np.ndarray]:
        return {"mean_": self.mean_, "proj_left_": self.proj_left_, "proj_right_": self.proj_right_}

    def _fitted_state(self) -> dict[str, Any]:
        return {"rank": int(self.rank_)}

    def _restore_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        d, r = int(self.n_features_in_), int(state["rank"])
        self.rank_ = r
        self.mean_ = _require(arrays, "mean_", (d,))
        self.proj_left_ = _require(arrays, "proj_left_", (d, r))
        self.proj_right_ = _require(arrays, "proj_right_", (r, d))
