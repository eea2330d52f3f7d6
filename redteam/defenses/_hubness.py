"""Hubness detection on an index: k-occurrence and robust z-scores.

The k-occurrence N_k(x) of an index item is the number of probe queries whose top-k holds
it (Radovanovic et al., JMLR 2010). Adversarial hubs (Zhang et al. 2024) have N_k far out
in the right tail; a robust z-score (median and MAD, Iglewicz & Hoaglin 1993) flags them
without letting the hubs inflate the scale estimate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from redteam.metrics import as_matrix, cosine_scores, topk_indices


def k_occurrence(
    index: ArrayLike, queries: ArrayLike, *, k: int = 10, scores: ArrayLike | None = None
) -> np.ndarray:
    """N_k of every index item over ``queries`` (cosine ranking, or given ``scores`` (Q, N))."""
    s = (
        cosine_scores(queries, index)
        if scores is None
        else as_matrix(scores, "scores", allow_inf=True)
    )
    top = topk_indices(s, k)
    return np.bincount(top.ravel(), minlength=s.shape[1]).astype(np.int64)


def robust_zscores(values: ArrayLike) -> np.ndarray:
    """``(v - median) / (1.4826 * MAD)``; with MAD = 0, the mean absolute deviation times
    1.2533 is the scale (Iglewicz & Hoaglin's fallback); all-equal values give zeros."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    med = np.median(v)
    mad = np.median(np.abs(v - med))
    scale = 1.4826 * mad if mad > 0 else 1.2533 * np.mean(np.abs(v - med))
    return (v - med) / scale if scale > 0 else np.zeros_like(v)


@dataclass(frozen=True)
class HubnessReport:
    """Hubness of an index.

    Attributes
    ----------
    k : int
        Neighbourhood size.
    threshold : float
        Robust z-score above which an item is flagged.
    k_occurrence : ndarray of int
        N_k per index item.
    robust_z : ndarray of float
        Robust z-score of N_k per item.
    flagged : ndarray of int
        Flagged item indices, most extreme first.
    skewness : float
        Sample skewness of N_k (the usual hubness summary; about 0 without hubs).
    """

    k: int
    threshold: float
    k_occurrence: np.ndarray
    robust_z: np.ndarray
    flagged: np.ndarray
    skewness: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays as lists)."""
        return {
            key: v.tolist() if isinstance(v, np.ndarray) else v for key, v in asdict(self).items()
        }


def detect_hubs(
    index: ArrayLike,
    queries: ArrayLike | None = None,
    *,
    k: int = 10,
    threshold: float = 3.5,
    scores: ArrayLike | None = None,
) -> HubnessReport:
    """Flag index items whose k-occurrence has a robust z-score above ``threshold``.

    Parameters
    ----------
    index : array-like, shape (N, dim)
        Indexed embeddings.
    queries : array-like, shape (Q, dim), optional
        Probe queries; detection quality depends on them resembling real traffic. Without
        them, the index items probe each other (self excluded).
    k : int
        Neighbourhood size.
    threshold : float
        Robust z cut-off (3.5 is Iglewicz & Hoaglin's outlier rule).
    scores : array-like, shape (Q, N), optional
        Precomputed query-item scores (e.g. after CSLS re-ranking) instead of cosine.

    Returns
    -------
    HubnessReport
    """
    if scores is None:
        if queries is None:
            s = cosine_scores(index, index)
            np.fill_diagonal(s, -np.inf)
        else:
            s = cosine_scores(queries, index)
    else:
        s = as_matrix(scores, "scores", allow_inf=True)
    nk = k_occurrence(index, index, k=k, scores=s)
    z = robust_zscores(nk)
    order = np.argsort(-z, kind="stable")
    flagged = order[z[order] > threshold]
    sd = nk.std()
    skew = float(np.mean(((nk - nk.mean()) / sd) ** 3)) if sd > 0 else 0.0
    return HubnessReport(
        k=k, threshold=threshold, k_occurrence=nk, robust_z=z, flagged=flagged, skewness=skew
    )
