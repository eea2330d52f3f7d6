"""Adapter around fairlearn's CorrelationRemover, with per-column centring guaranteed."""

from __future__ import annotations

from collections.abc import Hashable
from numbers import Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import PersistableMixin, _require
from ._groups import encode_sensitive_features, label_to_json

__all__ = ["CorrelationRemoverDebiaser"]


class CorrelationRemoverDebiaser(
    OneToOneFeatureMixin, PersistableMixin, TransformerMixin, BaseEstimator
):
    """fairlearn's CorrelationRemover behind the debiaser contract.

    Each attribute becomes dummy columns (one per group except the first, sorted, which
    is the reference); fairlearn regresses every feature on the centred dummies and keeps
    the residual: ``X - (S - mean(S)) @ beta_``, blended with ``X`` by ``alpha``. The
    output keeps ``n_features`` columns, uncorrelated with the dummies on the fit data.

    Needs the groups at transform time. The correction subtracts a per-group offset, so
    ``transform`` requires ``sensitive_features`` and cannot debias a row whose group is
    unknown (a search query, say). :class:`FairPCA` and :class:`LEACE` are maps of ``x``
    alone and need no labels after fitting.

    Upstream defect (fairlearn before 0.15; seen in the source from 0.6 through the
    0.13 line): ``fit`` centred the sensitive columns by one scalar, the mean over *all*
    sensitive columns, instead of each column's mean, so with two or more sensitive
    columns of different means the output stays correlated with them. fairlearn 0.15.0
    takes per-column means. With ``correct_mean=True`` this adapter always refits
    ``beta_`` on per-column-centred dummies, so results do not depend on the fairlearn
    version installed.

    Parameters
    ----------
    alpha : float, default=1.0
        1 removes the correlation fully, 0 returns ``X`` unchanged (fairlearn's ``alpha``).
    correct_mean : bool, default=True
        Centre each sensitive column by its own mean (see above). False keeps whatever the
        installed fairlearn computes (a scalar mean before 0.15).
    intersectional : bool, default=False
        With several attributes, dummy-code the combinations instead of each attribute.

    Attributes
    ----------
    beta_ : ndarray of shape (n_dummies, n_features_in_)
        Regression coefficients of the features on the centred dummies.
    sensitive_mean_ : ndarray of shape (n_dummies,)
        The centring used (per column, or fairlearn's scalar repeated).
    upstream_scalar_mean_ : bool
        Whether the installed fairlearn centred by a scalar (the defect) during ``fit``.
    groups_, sensitive_names_ : list
        Labels per attribute (the first of each is the reference) and attribute names.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "alpha": [Interval(Real, 0.0, 1.0, closed="both")],
        "correct_mean": ["boolean"],
        "intersectional": ["boolean"],
    }

    def __init__(
        self, *, alpha: float = 1.0, correct_mean: bool = True, intersectional: bool = False
    ) -> None:
        self.alpha = alpha
        self.correct_mean = correct_mean
        self.intersectional = intersectional

    def _dummies(self, sensitive_features: Any, n_samples: int, *, fitting: bool) -> np.ndarray:
        """Reference-coded dummy columns for the fitted (or, when fitting, new) groups."""
        enc = encode_sensitive_features(
            sensitive_features, n_samples, intersectional=self.intersectional
        )
        if fitting:
            self.groups_ = [list(labels) for labels in enc.labels]
            self.sensitive_names_ = list(enc.names)
        elif len(enc.names) != len(self.groups_):
            raise ValueError(
                f"sensitive_features has {len(enc.names)} attribute(s); "
                f"{type(self).__name__} was fitted with {len(self.groups_)}"
            )
        blocks = []
        for codes, labels, fitted in zip(enc.codes, enc.labels, self.groups_, strict=True):
            position: dict[Hashable, int] = {label: i for i, label in enumerate(fitted)}
            unknown = [label for label in labels if label not in position]
            if unknown:
                raise ValueError(
                    f"sensitive_features contains group(s) {unknown[:5]!r} not seen in fit; "
                    f"known groups: {fitted[:10]!r}"
                )
            remap = np.array([position[label] for label in labels], dtype=np.int64)
            onehot = np.zeros((n_samples, len(fitted)))
            onehot[np.arange(n_samples), remap[codes]] = 1.0
            blocks.append(onehot[:, 1:])  # drop the reference group
        return np.concatenate(blocks, axis=1)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any) -> CorrelationRemoverDebiaser:
        """Fit fairlearn's CorrelationRemover on ``[X, dummies(sensitive_features)]``.

        Returns
        -------
        self
        """
        from fairlearn.preprocessing import CorrelationRemover

        X = validate_data(self, X, dtype=np.float64)
        n, d = X.shape
        s = self._dummies(sensitive_features, n, fitting=True)
        ids = list(range(d, d + s.shape[1]))
        upstream = CorrelationRemover(sensitive_feature_ids=ids, alpha=self.alpha)
        upstream.fit(np.hstack([X, s]))
        upstream_mean = np.asarray(upstream.sensitive_mean_, dtype=np.float64)
        self.upstream_scalar_mean_ = bool(upstream_mean.ndim == 0)
        if self.correct_mean:
            mean = s.mean(axis=0)
            beta = np.linalg.lstsq(s - mean, X, rcond=None)[0] if s.shape[1] else np.zeros((0, d))
        else:
            mean = np.broadcast_to(upstream_mean, (s.shape[1],)).copy()
            beta = np.asarray(upstream.beta_, dtype=np.float64).reshape(s.shape[1], d)
        self.sensitive_mean_ = mean
        self.beta_ = beta
        return self

    def transform(self, X: Any, *, sensitive_features: Any = None) -> np.ndarray:
        """Remove the fitted correlation; needs each row's groups.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_attributes)
            The rows' groups, as in ``fit``. Required: see the class notes.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            fairlearn's transform: ``alpha * (X - (S - sensitive_mean_) @ beta_)
            + (1 - alpha) * X``.

        Raises
        ------
        ValueError
            Without ``sensitive_features``, or with a group not seen in ``fit``.
        """
        check_is_fitted(self)
        if sensitive_features is None:
            raise ValueError(
                "CorrelationRemoverDebiaser.transform needs sensitive_features: it subtracts "
                "a per-group offset, so it cannot debias a row whose group is unknown (e.g. "
                "a query). Use FairPCA or LEACE, which need no labels after fitting."
            )
        X = validate_data(self, X, reset=False, dtype=np.float64)
        s = self._dummies(sensitive_features, X.shape[0], fitting=False)
        filtered = X - (s - self.sensitive_mean_) @ self.beta_
        return self.alpha * filtered + (1.0 - self.alpha) * X

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        """Fit, then transform the same rows with the same ``sensitive_features``.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        return self.fit(X, y, **fit_params).transform(
            X, sensitive_features=fit_params.get("sensitive_features")
        )

    # -------------------------------------------------------------- persistence
    def _get_state(
        self, *, include_statistics: bool = True
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state: dict[str, Any] = {
            "n_features_in": int(self.n_features_in_),
            "groups": [[label_to_json(g) for g in labels] for labels in self.groups_],
            "sensitive_names": list(self.sensitive_names_),
            "upstream_scalar_mean": self.upstream_scalar_mean_,
        }
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in"] = [str(f) for f in self.feature_names_in_]
        return state, {"beta_": self.beta_, "sensitive_mean_": self.sensitive_mean_}

    @classmethod
    def _from_state(
        cls, params: dict[str, Any], state: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> CorrelationRemoverDebiaser:
        est = cls._new_from_state(params, state)
        d = est.n_features_in_
        est.upstream_scalar_mean_ = bool(state["upstream_scalar_mean"])
        n_dummies = sum(len(labels) - 1 for labels in est.groups_)
        est.beta_ = _require(arrays, "beta_", (n_dummies, d))
        est.sensitive_mean_ = _require(arrays, "sensitive_mean_", (n_dummies,))
        return est
