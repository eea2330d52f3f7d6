"""Hubness-reducing re-ranking: CSLS and mutual proximity.

CSLS (Conneau et al., ICLR 2018): score(q, x) = 2 cos(q, x) - r(x) - r(q), with r(x) the
mean cosine of x to its k nearest reference queries and r(q) the mean cosine of q to its k
nearest index items. Items close to everything (hubs) pay r(x).

Mutual proximity (Schnitzer et al., JMLR 2012), Gaussian form on similarities:
MP(q, x) = Phi_q(s) * Phi_x(s), where Phi_q is the normal CDF fitted to q's similarities to
all index items and Phi_x to x's similarities to the reference queries; a pair scores high
only when each is unusually close to the other.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from redteam.metrics import cosine_scores


class _Reranker:
    name = ""

    def __init__(self, *, k: int = 10) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k

    def fit(self, index: ArrayLike, reference_queries: ArrayLike) -> _Reranker:
        """Learn per-item statistics from ``reference_queries`` (a sample of traffic)."""
        self.index_ = np.asarray(index, dtype=np.float64)
        ref = cosine_scores(reference_queries, self.index_)  # (R, N)
        if ref.shape[0] < self.k:
            raise ValueError(f"need at least k={self.k} reference queries, got {ref.shape[0]}")
        self._fit_items(ref)
        return self

    def _fit_items(self, ref: np.ndarray) -> None:
        raise NotImplementedError

    def scores(self, queries: ArrayLike) -> np.ndarray:
        """(Q, N) re-ranked scores (higher is better)."""
        if not hasattr(self, "index_"):
            raise RuntimeError(f"{type(self).__name__}: call fit(index, reference_queries) first")
        return self._scores(cosine_scores(queries, self.index_))

    def _scores(self, cos: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class CSLS(_Reranker):
    """Cross-domain similarity local scaling.

    Parameters
    ----------
    k : int
        Neighbourhood size of r(x) and r(q).

    Attributes
    ----------
    r_items_ : ndarray, shape (N,)
        Mean cosine of each item to its k nearest reference queries.
    """

    name = "csls"

    def _fit_items(self, ref: np.ndarray) -> None:
        self.r_items_ = np.sort(ref, axis=0)[-self.k :].mean(axis=0)

    def _scores(self, cos: np.ndarray) -> np.ndarray:
        k = min(self.k, cos.shape[1])
        r_q = np.sort(cos, axis=1)[:, -k:].mean(axis=1, keepdims=True)
        return 2 * cos - self.r_items_[None, :] - r_q


class MutualProximity(_Reranker):
    """Gaussian mutual proximity on cosine similarities (``k`` is unused, kept for a
    uniform interface).

    Attributes
    ----------
    mu_items_, sd_items_ : ndarray, shape (N,)
        Mean and standard deviation of each item's similarities to the reference queries.
    """

    name = "mutual-proximity"

    def _fit_items(self, ref: np.ndarray) -> None:
        self.mu_items_ = ref.mean(axis=0)
        self.sd_items_ = np.maximum(ref.std(axis=0), 1e-12)

    def _scores(self, cos: np.ndarray) -> np.ndarray:
        mu_q = cos.mean(axis=1, keepdims=True)
        sd_q = np.maximum(cos.std(axis=1, keepdims=True), 1e-12)
        return ndtr((cos - mu_q) / sd_q) * ndtr((cos - self.mu_items_) / self.sd_items_)
