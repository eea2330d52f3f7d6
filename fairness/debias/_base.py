"""Shared machinery: streaming fit from sufficient statistics, merging, save/load."""

from __future__ import annotations

import copy
import os
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

from ._groups import EncodedGroups, encode_sensitive_features, label_from_json, label_to_json
from ._io import write_file
from ._stats import AttributeStatistics, SufficientStatistics

__all__ = ["PersistableMixin", "StatsDebiaser"]


class PersistableMixin:
    """``save`` for the debiasers; :func:`load_debiaser` reads the files back."""

    def _get_state(
        self, *, include_statistics: bool = True
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise NotImplementedError

    @classmethod
    def _from_state(
        cls, params: dict[str, Any], state: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> PersistableMixin:
        raise NotImplementedError

    @classmethod
    def _new_from_state(cls, params: dict[str, Any], state: dict[str, Any]) -> Any:
        """A new estimator with the saved parameters and the fields every debiaser saves
        (input size and names, group labels, attribute names); ``_from_state`` adds its own.
        """
        est: Any = cls(**params)
        est._validate_params()
        est.n_features_in_ = int(state["n_features_in"])
        if "feature_names_in" in state:
            est.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
        est.groups_ = [[label_from_json(g) for g in labels] for labels in state["groups"]]
        est.sensitive_names_ = [str(n) for n in state["sensitive_names"]]
        return est

    def save(self, path: str | os.PathLike[str], *, include_statistics: bool = True) -> Path:
        """Save the fitted debiaser to ``path`` (.npz or .safetensors), without pickle.

        Parameters
        ----------
        path : str or PathLike
            Target file; the suffix picks the format. ``.safetensors`` needs the
            ``safetensors`` package.
        include_statistics : bool, default=True
            Also store the sufficient statistics (d x d scatter, and one per group for the
            covariance constraint), so the loaded debiaser can continue ``partial_fit`` or
            be merged. Without them the file is smaller and the debiaser transform-only.

        Returns
        -------
        Path
            The path written. Read it back with :func:`fairness.debias.load_debiaser`.
        """
        check_is_fitted(self)
        state, arrays = self._get_state(include_statistics=include_statistics)
        params = self.get_params(deep=False)  # type: ignore[attr-defined]
        return write_file(
            path, class_name=type(self).__name__, params=params, state=state, arrays=arrays
        )


def _require(arrays: dict[str, np.ndarray], name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Fetch a saved array and check its shape (-1 matches any size)."""
    if name not in arrays:
        raise ValueError(f"saved debiaser lacks the array {name!r}")
    arr = arrays[name]
    if arr.ndim != len(shape) or any(
        s not in (-1, t) for s, t in zip(shape, arr.shape, strict=True)
    ):
        raise ValueError(f"saved array {name!r} has shape {arr.shape}, expected {shape}")
    return arr


class StatsDebiaser(PersistableMixin, TransformerMixin, BaseEstimator):
    """Base of the debiasers fitted from :class:`SufficientStatistics`.

    Subclasses implement ``_solve(stats)`` (set the fitted attributes) and
    ``_fitted_arrays()`` / ``_restore_fitted()`` for persistence.
    """

    _requires_groups: ClassVar[bool] = True
    _stats: SufficientStatistics | None

    # -------------------------------------------------------------- hooks
    def _needs_group_scatter(self) -> bool:
        return False

    def _is_intersectional(self) -> bool:
        return bool(getattr(self, "intersectional", False))

    def _solve(self, stats: SufficientStatistics) -> None:
        raise NotImplementedError

    def _fitted_arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _fitted_state(self) -> dict[str, Any]:
        return {}

    def _restore_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # -------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> StatsDebiaser:
        """Fit on ``X`` with one group label per row (several columns: several attributes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_attributes)
            Group labels (any hashable values). Required.

        Returns
        -------
        self
        """
        self._accumulate(X, sensitive_features, reset=True)
        self.finalize()
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: Any = None, *, sensitive_features: Any, finalize: bool = True
    ) -> StatsDebiaser:
        """Add a chunk; groups not seen in earlier chunks are fine.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_attributes)
        finalize : bool, default=True
            Solve after this chunk (O(d^3)). Pass False for all but the last chunk of a
            long stream, then call :meth:`finalize`.

        Returns
        -------
        self
        """
        self._accumulate(X, sensitive_features, reset=False)
        if finalize:
            self.finalize()
        return self

    def _accumulate(self, X: Any, sensitive_features: Any, *, reset: bool) -> None:
        """Validate one chunk and add it to the statistics."""
        stats = getattr(self, "_stats", None)
        if not reset and stats is None and hasattr(self, "n_features_in_"):
            raise ValueError(
                f"{type(self).__name__} was saved without its statistics; it can transform "
                "but cannot be updated with partial_fit"
            )
        first = reset or stats is None
        X = validate_data(self, X, reset=first, dtype=[np.float64, np.float32], order="C")
        groups: EncodedGroups | None = None
        if sensitive_features is not None or self._requires_groups:
            groups = encode_sensitive_features(
                sensitive_features, X.shape[0], intersectional=self._is_intersectional()
            )
        if first:
            self._stats = SufficientStatistics.for_data(
                X, group_scatter=self._needs_group_scatter()
            )
        assert self._stats is not None
        if self._needs_group_scatter() and not self._stats.group_scatter:
            raise ValueError(
                "the parameters now need per-group scatter matrices (constraint='covariance'), "
                "which earlier partial_fit calls did not accumulate; refit from scratch"
            )
        self._stats.update(X, groups)

    def finalize(self) -> StatsDebiaser:
        """Solve for the fitted attributes from the statistics accumulated so far.

        ``fit`` and ``partial_fit`` (with ``finalize=True``, the default) call it; call it
        yourself after ``partial_fit(..., finalize=False)`` calls.

        Returns
        -------
        self
        """
        stats = getattr(self, "_stats", None)
        if stats is None or stats.n == 0:
            raise ValueError(f"{type(self).__name__}: no data accumulated yet; call fit first")
        stats.sort_groups()
        self._solve(stats)
        self._set_group_attributes(stats)
        return self

    def _set_group_attributes(self, stats: SufficientStatistics) -> None:
        atts = stats.attributes or []
        self.n_samples_seen_ = int(stats.n)
        self.sensitive_names_ = [att.name for att in atts]
        self.groups_ = [list(att.labels) for att in atts]
        self.group_counts_ = [np.asarray(att.counts, dtype=np.int64) for att in atts]
        self.group_means_ = [stats.group_means(att) for att in atts]

    @classmethod
    def merge(cls, estimators: Sequence[StatsDebiaser]) -> StatsDebiaser:
        """Combine estimators fitted on disjoint shards (e.g. by several workers).

        Each worker calls ``partial_fit(..., finalize=False)`` (or ``fit``) on its shard;
        the merge adds their statistics and solves once, which equals a fit on all shards.

        Parameters
        ----------
        estimators : sequence of estimators of this class
            All with the same parameters and number of features.

        Returns
        -------
        estimator
            A new fitted estimator.
        """
        if not estimators:
            raise ValueError("merge needs at least one estimator")
        params = estimators[0].get_params(deep=False)
        for i, est in enumerate(estimators):
            if not isinstance(est, cls):
                raise TypeError(f"estimators[{i}] is a {type(est).__name__}, not a {cls.__name__}")
            if est.get_params(deep=False) != params:
                raise ValueError(f"estimators[{i}] has other parameters than estimators[0]")
            if getattr(est, "_stats", None) is None:
                raise ValueError(
                    f"estimators[{i}] holds no statistics (not fitted, or loaded without them)"
                )
        stats = copy.deepcopy(estimators[0]._stats)
        assert stats is not None
        for est in estimators[1:]:
            assert est._stats is not None
            stats.merge(est._stats)
        out = cls(**params)
        out._stats = stats
        out.n_features_in_ = stats.n_features
        names = [getattr(e, "feature_names_in_", None) for e in estimators]
        if names[0] is not None and all(n is not None and list(n) == list(names[0]) for n in names):
            out.feature_names_in_ = names[0]
        return out.finalize()

    # -------------------------------------------------------------- persistence
    def _get_state(
        self, *, include_statistics: bool = True
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = dict(self._fitted_arrays())
        state: dict[str, Any] = {
            "n_features_in": int(self.n_features_in_),
            "n_samples_seen": int(self.n_samples_seen_),
            "sensitive_names": list(self.sensitive_names_),
            "groups": [[label_to_json(g) for g in labels] for labels in self.groups_],
            "fitted": self._fitted_state(),
        }
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in"] = [str(f) for f in self.feature_names_in_]
        for a, counts in enumerate(self.group_counts_):
            arrays[f"groups.{a}.counts"] = counts
            arrays[f"groups.{a}.means"] = self.group_means_[a]
        stats = getattr(self, "_stats", None) if include_statistics else None
        if stats is not None:
            state["stats"] = {
                "n": int(stats.n),
                "group_scatter": stats.group_scatter,
                "raw_gram": stats.raw_gram,
            }
            arrays["stats.shift"] = stats.shift
            arrays["stats.sum"] = stats.sum
            arrays["stats.scatter"] = stats.scatter
            for a, att in enumerate(stats.attributes or []):
                arrays[f"stats.{a}.counts"] = np.asarray(att.counts, dtype=np.int64)
                arrays[f"stats.{a}.sums"] = np.stack(att.sums)
                if att.scatters is not None:
                    arrays[f"stats.{a}.scatters"] = np.stack(att.scatters)
        return state, arrays

    @classmethod
    def _from_state(
        cls, params: dict[str, Any], state: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> StatsDebiaser:
        est = cls._new_from_state(params, state)
        d = est.n_features_in_
        est.n_samples_seen_ = int(state["n_samples_seen"])
        est.group_counts_, est.group_means_ = [], []
        for a, labels in enumerate(est.groups_):
            m = len(labels)
            est.group_counts_.append(_require(arrays, f"groups.{a}.counts", (m,)))
            est.group_means_.append(_require(arrays, f"groups.{a}.means", (m, d)))
        est._stats = None
        if "stats" in state:
            info = state["stats"]
            stats = SufficientStatistics(
                d,
                _require(arrays, "stats.shift", (d,)),
                group_scatter=bool(info["group_scatter"]),
                raw_gram=bool(info.get("raw_gram", False)),
            )
            stats.n = int(info["n"])
            stats.sum = _require(arrays, "stats.sum", (d,)).astype(np.float64)
            stats.scatter = _require(arrays, "stats.scatter", (d, d)).astype(np.float64)
            stats.attributes = []
            for a, (name, labels) in enumerate(zip(est.sensitive_names_, est.groups_, strict=True)):
                stats.attributes.append(_restore_attribute(arrays, a, name, labels, d, stats))
            est._stats = stats
        est._restore_fitted(state.get("fitted", {}), arrays)
        return est


def _restore_attribute(
    arrays: dict[str, np.ndarray],
    a: int,
    name: str,
    labels: list[Hashable],
    d: int,
    stats: SufficientStatistics,
) -> AttributeStatistics:
    m = len(labels)
    counts = _require(arrays, f"stats.{a}.counts", (m,))
    sums = _require(arrays, f"stats.{a}.sums", (m, d))
    att = AttributeStatistics(
        name=name,
        labels=list(labels),
        counts=[int(c) for c in counts],
        sums=[row.astype(np.float64) for row in sums],
        index={label: i for i, label in enumerate(labels)},
    )
    if stats.group_scatter:
        scatters = _require(arrays, f"stats.{a}.scatters", (m, d, d))
        att.scatters = [s.astype(np.float64) for s in scatters]
    return att
