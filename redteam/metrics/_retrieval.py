"""Ranking primitives shared by attacks, defenses and reports.

Ties in scores are broken deterministically by index (the lower index ranks first), the
same rule ``numpy.argsort(kind="stable")`` applies to the negated scores.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def as_matrix(x: ArrayLike, name: str, *, allow_inf: bool = False) -> np.ndarray:
    """``x`` as a finite 2-D float64 array, or a ValueError naming ``name``.

    ``allow_inf`` admits -inf/+inf (scores use -inf to mask pairs); NaN is never allowed.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, dim) array, got shape {arr.shape}")
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} contains NaN{'' if allow_inf else ' or infinite'} values")
    return arr


def unit_rows(x: ArrayLike, name: str = "embeddings") -> np.ndarray:
    """Rows L2-normalised (zero rows stay zero, so their cosine with anything is 0)."""
    arr = as_matrix(x, name)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return arr / np.where(norms > 0, norms, 1.0)


def cosine_scores(queries: ArrayLike, gallery: ArrayLike) -> np.ndarray:
    """(Q, N) cosine similarities between query rows and gallery rows."""
    q = unit_rows(queries, "queries")
    g = unit_rows(gallery, "gallery")
    if q.shape[1] != g.shape[1]:
        raise ValueError(f"queries have dim {q.shape[1]} but the gallery has dim {g.shape[1]}")
    return q @ g.T


def topk_indices(scores: ArrayLike, k: int) -> np.ndarray:
    """(Q, k) indices of the best ``k`` columns per row, ties broken by lower index."""
    s = as_matrix(scores, "scores", allow_inf=True)
    if not 1 <= k <= s.shape[1]:
        raise ValueError(f"k must be in [1, {s.shape[1]}], got {k}")
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


def ranks_of(scores: ArrayLike, items: ArrayLike) -> np.ndarray:
    """0-based rank of ``items[i]`` in row ``i`` of ``scores`` (0 = top-1).

    rank = #{j : s_j > s_item} + #{j < item : s_j == s_item}, the position the item gets
    under :func:`topk_indices`' tie rule.
    """
    s = as_matrix(scores, "scores", allow_inf=True)
    idx = _index_vector(items, s.shape, "items")
    rows = np.arange(s.shape[0])
    own = s[rows, idx][:, None]
    cols = np.arange(s.shape[1])[None, :]
    ahead = (s > own) | ((s == own) & (cols < idx[:, None]))
    return ahead.sum(axis=1)


def recall_at_k(scores: ArrayLike, relevant: ArrayLike, k: int) -> float:
    """Share of rows whose relevant column (one per row) is in the top ``k``."""
    s = as_matrix(scores, "scores", allow_inf=True)
    if not 1 <= k <= s.shape[1]:
        raise ValueError(f"k must be in [1, {s.shape[1]}], got {k}")
    return float(np.mean(ranks_of(s, relevant) < k))


def _index_vector(items: ArrayLike, shape: tuple[int, int], name: str) -> np.ndarray:
    idx = np.asarray(items)
    if idx.ndim == 0:
        idx = np.full(shape[0], int(idx))
    if idx.shape != (shape[0],) or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"{name} must be {shape[0]} integer indices, got {idx.shape} {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= shape[1]):
        raise ValueError(f"{name} must index the {shape[1]} gallery columns")
    return idx.astype(np.int64)
