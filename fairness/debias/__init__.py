"""Debiasing projections for embeddings, as scikit-learn estimators.

Every debiaser follows one contract: ``fit(X, y=None, *, sensitive_features)``,
``transform(X)`` (CorrelationRemoverDebiaser also needs the groups there),
``save(path)`` to .npz/.safetensors with JSON metadata, and :func:`load_debiaser`.
The methods by name, with what each needs, are :data:`~fairness.debias.methods.METHODS`.

The estimators import scikit-learn, so they load on first use: importing this package
(or :mod:`fairness.debias.methods`, e.g. for a command line's choices) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .methods import METHODS, DebiasMethod, debias_method, needs_groups_at_transform

if TYPE_CHECKING:
    from ._correlation_remover import CorrelationRemoverDebiaser
    from ._fair_pca import FairPCA, PCADebiaser
    from ._leace import LEACE
    from ._load import load_debiaser

__all__ = [
    "LEACE",
    "METHODS",
    "CorrelationRemoverDebiaser",
    "DebiasMethod",
    "FairPCA",
    "PCADebiaser",
    "debias_method",
    "load_debiaser",
    "needs_groups_at_transform",
]


def __getattr__(name: str) -> Any:
    """The estimator classes (by their methods' table) and ``load_debiaser``, on first use."""
    if name == "load_debiaser":
        from ._load import load_debiaser

        return load_debiaser
    for method in METHODS:
        if method.class_name == name:
            return method.estimator_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
