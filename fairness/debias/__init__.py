"""Debiasing projections for embeddings, as scikit-learn estimators.

Every debiaser follows one contract: ``fit(X, y=None, *, sensitive_features)``,
``transform(X)`` (CorrelationRemoverDebiaser also needs the groups there),
``save(path)`` to .npz/.safetensors with JSON metadata, and :func:`load_debiaser`.
"""

from ._correlation_remover import CorrelationRemoverDebiaser
from ._fair_pca import FairPCA, PCADebiaser
from ._leace import LEACE
from ._load import load_debiaser

__all__ = ["LEACE", "CorrelationRemoverDebiaser", "FairPCA", "PCADebiaser", "load_debiaser"]
