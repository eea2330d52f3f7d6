"""Fair PCA (Kleindessner, Donini, Russell, Zafar, AISTATS 2023) and plain PCA, streaming."""

from __future__ import annotations

from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from scipy import linalg
from sklearn.base import ClassNamePrefixFeaturesOutMixin
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import StatsDebiaser, _require
from ._stats import AttributeStatistics, SufficientStatistics

__all__ = ["FairPCA", "PCADebiaser", "null_space_basis", "reference_differences"]

_EPS = np.finfo(np.float64).eps


def null_space_basis(directions: np.ndarray, n_features: int) -> tuple[np.ndarray, int]:
    """Orthonormal basis of the vectors orthogonal to every row of ``directions``.

    Parameters
    ----------
    directions : ndarray of shape (m, n_features)
        The constraint directions (here: group mean minus overall mean).
    n_features : int
        Dimension d of the space.

    Returns
    -------
    (ndarray of shape (d, d - rank), int)
        The basis R (columns) and the numerical rank of ``directions``.
    """
    if directions.shape[0] == 0 or not np.any(directions):
        return np.eye(n_features), 0
    _, s, vt = linalg.svd(directions, full_matrices=True)
    tol = s.max() * max(directions.shape) * _EPS  # numpy.linalg.matrix_rank's default
    rank = int(np.sum(s > tol))
    return vt[rank:].T.copy(), rank


def reference_differences(stats: SufficientStatistics, att: AttributeStatistics) -> np.ndarray:
    """``mu_g - mu_ref`` for every non-empty group g but the largest one (the reference).

    Returns
    -------
    ndarray of shape (n_nonempty_groups - 1, n_features)
    """
    counts = np.asarray(att.counts)
    present = np.flatnonzero(counts > 0)
    if present.size < 2:
        return np.zeros((0, stats.n_features))
    ref = present[np.argmax(counts[present])]
    sums = np.stack(att.sums)
    others = present[present != ref]
    # From the shifted sums directly: the shift cancels, so no precision is lost.
    return sums[others] / counts[others, None] - sums[ref] / counts[ref]


def _flip_signs(components: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude entry of each row positive (sklearn's ``svd_flip``)."""
    if components.size == 0:
        return components
    idx = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(components.shape[0]), idx])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


def _top_eigh(a: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` eigenpairs of a symmetric matrix, by decreasing eigenvalue."""
    w, v = linalg.eigh((a + a.T) / 2)
    return w[::-1][:k], v[:, ::-1][:, :k]


class _ProjectionBase(ClassNamePrefixFeaturesOutMixin, StatsDebiaser):
    """Shared solve/transform of FairPCA and PCADebiaser: x -> (x - mean_) / scale_ @ U."""

    n_components: int | None
    center: bool
    scale: bool

    def _constraint_directions(self, stats: SufficientStatistics, inv: np.ndarray) -> np.ndarray:
        return np.zeros((0, stats.n_features))

    def _subspace(
        self, stats: SufficientStatistics, r: np.ndarray, inv: np.ndarray, k: int
    ) -> np.ndarray:
        """Columns spanning the admissible subspace inside ``r`` (default: all of it)."""
        return r

    def _solve(self, stats: SufficientStatistics) -> None:
        n, d = stats.n, stats.n_features
        name = type(self).__name__
        if n < 2:
            raise ValueError(f"n_samples={n}: {name} needs at least 2 samples")
        centered = stats.centered_scatter()
        scale = None
        inv = np.ones(d)
        if self.scale:
            scale = np.sqrt(np.clip(np.diag(centered) / n, 0.0, None))
            scale[scale < 10 * _EPS] = 1.0  # constant features: leave unscaled
            inv = 1.0 / scale
        cov = (centered if self.center else stats.raw_scatter()) * np.outer(inv, inv) / (n - 1)
        total_var = float(np.trace(cov))
        r, rank = null_space_basis(self._constraint_directions(stats, inv), d)
        available = r.shape[1]
        k = available if self.n_components is None else int(self.n_components)
        if available == 0:
            raise ValueError(
                f"{name}: no dimension is left: the group-mean differences span all "
                f"n_features={d} feature(s)"
            )
        if k > available:
            raise ValueError(
                f"{name}: n_components={k} exceeds the {available} dimensions left "
                f"(n_features={d} minus {rank} group-mean direction(s))"
            )
        basis = self._subspace(stats, r, inv, k)
        variances, v = _top_eigh(basis.T @ cov @ basis, k)
        self.mean_ = stats.mean() if self.center else np.zeros(d)
        self.scale_ = scale
        # C order, as a loaded copy has: BLAS then sums in the same order, bit for bit.
        self.components_ = np.ascontiguousarray(_flip_signs((basis @ v).T))
        self.n_components_ = k
        self.n_constraints_ = rank
        self.explained_variance_ = np.clip(variances, 0.0, None)
        self.explained_variance_ratio_ = (
            self.explained_variance_ / total_var if total_var > 0 else np.zeros(k)
        )

    # -------------------------------------------------------------- transform
    def _weights(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        w = self.components_.T
        if self.scale_ is not None:
            w = w / self.scale_[:, None]
        bias = self.mean_ @ w
        return w.astype(dtype, copy=False), bias.astype(dtype, copy=False)

    def transform(self, X: Any) -> np.ndarray:
        """Project ``X``: ``(X - mean_) / scale_ @ components_.T``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components_)
            float32 for float32 input, else float64. The group labels are not needed.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        w, bias = self._weights(X.dtype)
        out = X @ w
        out -= bias
        return out

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Map projected rows back to the input space (the closest point in the subspace).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components_)

        Returns
        -------
        ndarray of shape (n_samples, n_features_in_)
        """
        check_is_fitted(self)
        X = check_array(X, dtype=[np.float64, np.float32])
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} columns, but {type(self).__name__} projects to "
                f"{self.n_components_}"
            )
        out = X @ self.components_.astype(X.dtype, copy=False)
        if self.scale_ is not None:
            out *= self.scale_.astype(X.dtype)
        out += self.mean_.astype(X.dtype)
        return out

    @property
    def _n_features_out(self) -> int:
        return int(self.n_components_)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -------------------------------------------------------------- persistence
    def _fitted_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "components_": self.components_,
            "mean_": self.mean_,
            "explained_variance_": self.explained_variance_,
            "explained_variance_ratio_": self.explained_variance_ratio_,
        }
        if self.scale_ is not None:
            arrays["scale_"] = self.scale_
        return arrays

    def _fitted_state(self) -> dict[str, Any]:
        return {"n_components": int(self.n_components_), "n_constraints": int(self.n_constraints_)}

    def _restore_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        d, k = int(self.n_features_in_), int(state["n_components"])
        self.n_components_ = k
        self.n_constraints_ = int(state["n_constraints"])
        self.components_ = _require(arrays, "components_", (k, d))
        self.mean_ = _require(arrays, "mean_", (d,))
        self.explained_variance_ = _require(arrays, "explained_variance_", (k,))
        self.explained_variance_ratio_ = _require(arrays, "explained_variance_ratio_", (k,))
        self.scale_ = _require(arrays, "scale_", (d,)) if self.scale else None


class FairPCA(_ProjectionBase):
    """Fair PCA: the maximal-variance projection under which group means are equal.

    Kleindessner, Donini, Russell, Zafar, "Efficient fair PCA for fair representation
    learning", AISTATS 2023. With the centred one-hot group matrix ``Z``, ``R`` is an
    orthonormal basis of the null space of ``Z^T X`` (the directions orthogonal to every
    group-mean difference) and the components are the top eigenvectors of ``R^T X^T X R``
    mapped back by ``R``. Then the projected group means are equal, so no linear
    predictor of the group beats the constant one on the fit data. Several attributes
    stack their one-hot blocks (each attribute's groups get equal means); with
    ``intersectional=True`` every combination of values is one group.

    The fit needs only per-group counts, sums and the d x d scatter matrix (plus one per
    group for ``constraint="covariance"``), which ``partial_fit`` accumulates over chunks
    and :meth:`merge` adds across workers. Components come out by decreasing variance, so
    the first ``m`` output coordinates are the ``m``-dimensional fair projection (for the
    mean constraint exactly; for the covariance constraint with the same ``Q``).

    Parameters
    ----------
    n_components : int, default=None
        Output dimension k; None keeps every admissible dimension (``d - n_constraints_``).
    constraint : {"mean", "covariance"}, default="mean"
        "mean" equalises the projected group means. "covariance" (the paper's Fair
        PCA-S) also keeps only the ``n_cov_eigvecs`` directions of the mean-null space
        where the group covariances differ least, then maximises variance inside them.
        For several groups the gap matrix is ``T = sum_g p_g D_g^2``, with
        ``D_g = R^T (S_g - S) R``, ``S_g`` the group covariance, ``S`` the overall one and
        ``p_g`` the group share; this equals half the share-weighted sum of squared
        pairwise differences ``sum_{g,h} p_g p_h (D_g - D_h)^2``, and for two groups its
        eigenvectors are those of ``R^T (S_0 - S_1) R`` ordered by ``|eigenvalue|``, the
        paper's rule. Several attributes add their ``T``.
    n_cov_eigvecs : int, default=None
        l, the number of eigenvectors of ``T`` kept (``k <= l <= d - n_constraints_``;
        smaller is a stronger covariance constraint). None picks the midpoint
        ``ceil((k + d - n_constraints_) / 2)``. Ignored for ``constraint="mean"``.
    center : bool, default=True
        Centre the data (embeddings should be centred).
    scale : bool, default=False
        Standardise each feature first (the official code's default; not advised for
        embeddings, where it reweights dimensions).
    intersectional : bool, default=False
        With several attributes, constrain the intersections instead of each attribute.

    Attributes
    ----------
    components_ : ndarray of shape (n_components_, n_features_in_)
        Orthonormal rows, by decreasing projected variance (like sklearn's PCA).
    mean_ : ndarray of shape (n_features_in_,)
    scale_ : ndarray of shape (n_features_in_,) or None
    explained_variance_ : ndarray of shape (n_components_,)
        Variance (ddof=1) of each output coordinate.
    explained_variance_ratio_ : ndarray of shape (n_components_,)
        ``explained_variance_`` over the total variance of the centred (scaled) data.
    n_components_, n_constraints_ : int
        Output dimension; rank of the group-mean differences removed.
    n_features_in_, n_samples_seen_ : int
    groups_ : list of list
        The group labels of each attribute (sorted).
    sensitive_names_ : list of str
    group_counts_, group_means_ : list of ndarray
        Per attribute: rows per group, and (m, d) group means in input coordinates.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "constraint": [StrOptions({"mean", "covariance"})],
        "n_cov_eigvecs": [Interval(Integral, 1, None, closed="left"), None],
        "center": ["boolean"],
        "scale": ["boolean"],
        "intersectional": ["boolean"],
    }

    def __init__(
        self,
        n_components: int | None = None,
        *,
        constraint: str = "mean",
        n_cov_eigvecs: int | None = None,
        center: bool = True,
        scale: bool = False,
        intersectional: bool = False,
    ) -> None:
        self.n_components = n_components
        self.constraint = constraint
        self.n_cov_eigvecs = n_cov_eigvecs
        self.center = center
        self.scale = scale
        self.intersectional = intersectional

    def _needs_group_scatter(self) -> bool:
        return self.constraint == "covariance"

    def _constraint_directions(self, stats: SufficientStatistics, inv: np.ndarray) -> np.ndarray:
        # span{mu_g - mu} = span{mu_g - mu_ref}; the second has no built-in dependency
        # (the first sums to zero), so rounding cannot fake an extra rank.
        rows = []
        for att in stats.attributes or []:
            rows.append(reference_differences(stats, att) * inv)
        return np.concatenate(rows) if rows else np.zeros((0, stats.n_features))

    def _subspace(
        self, stats: SufficientStatistics, r: np.ndarray, inv: np.ndarray, k: int
    ) -> np.ndarray:
        if self.constraint == "mean":
            return r
        available = r.shape[1]
        l_ = -(-(k + available) // 2) if self.n_cov_eigvecs is None else int(self.n_cov_eigvecs)
        if not k <= l_ <= available:
            raise ValueError(
                f"FairPCA: n_cov_eigvecs={l_} must lie between n_components={k} and the "
                f"{available} dimensions left after the mean constraint"
            )
        outer_inv = np.outer(inv, inv)
        overall = r.T @ (stats.centered_scatter() * outer_inv / stats.n) @ r
        gap = np.zeros((available, available))
        for att in stats.attributes or []:
            for n_g, cov_g in zip(att.counts, stats.group_covariances(att), strict=True):
                if n_g == 0:
                    continue
                d_g = r.T @ (cov_g * outer_inv) @ r - overall
                gap += (n_g / stats.n) * (d_g @ d_g)
        _, q = linalg.eigh((gap + gap.T) / 2)  # ascending: smallest gap first
        self.n_cov_eigvecs_ = l_
        return r @ q[:, :l_]

    def _fitted_state(self) -> dict[str, Any]:
        state = super()._fitted_state()
        if self.constraint == "covariance":
            state["n_cov_eigvecs"] = int(self.n_cov_eigvecs_)
        return state

    def _restore_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._restore_fitted(state, arrays)
        if self.constraint == "covariance":
            self.n_cov_eigvecs_ = int(state["n_cov_eigvecs"])


class PCADebiaser(_ProjectionBase):
    """Plain PCA behind the debiaser contract: the baseline a fair projection is judged by.

    Same solver, streaming and persistence as :class:`FairPCA`; the groups, when given,
    are only recorded (``groups_``, ``group_counts_``, ``group_means_``).

    Parameters
    ----------
    n_components : int, default=None
        Output dimension; None keeps all ``n_features``.
    center : bool, default=True
    scale : bool, default=False

    Attributes
    ----------
    components_, mean_, scale_, explained_variance_, explained_variance_ratio_
        As in sklearn's PCA (``explained_variance_`` with ddof=1).
    groups_, group_counts_, group_means_, sensitive_names_
        Empty lists when no ``sensitive_features`` were given.
    """

    _requires_groups: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "center": ["boolean"],
        "scale": ["boolean"],
    }

    def __init__(
        self, n_components: int | None = None, *, center: bool = True, scale: bool = False
    ) -> None:
        self.n_components = n_components
        self.center = center
        self.scale = scale

    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any = None) -> PCADebiaser:
        """Fit plain PCA; ``sensitive_features`` (optional) are only recorded.

        Returns
        -------
        self
        """
        return super().fit(X, y, sensitive_features=sensitive_features)  # type: ignore[return-value]

    def partial_fit(
        self, X: Any, y: Any = None, *, sensitive_features: Any = None, finalize: bool = True
    ) -> PCADebiaser:
        """Add a chunk (see :meth:`FairPCA.partial_fit`); the groups are optional here.

        Returns
        -------
        self
        """
        return super().partial_fit(  # type: ignore[return-value]
            X, y, sensitive_features=sensitive_features, finalize=finalize
        )
