"""Search results, input validation and recall against exact search (shared by the engines)."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

ENGINES: tuple[str, ...] = ("exact", "faiss-flat", "faiss-ivf", "faiss-hnsw")
APPROXIMATE = frozenset({"faiss-ivf", "faiss-hnsw"})
_FINITE_CHECK_ROWS = 65536


@dataclass(frozen=True)
class SearchResult:
    """Top-k neighbours of each query.

    Attributes
    ----------
    indices : ndarray of int64, shape (n_queries, k)
        Corpus row indices, best first; ``-1`` where an approximate engine found
        fewer than k items.
    scores : ndarray of float32, shape (n_queries, k)
        Inner products (float64 evaluation rounded to float32); ``-inf`` where
        ``indices`` is -1.
    engine : str
        Engine that produced the candidates.
    k : int
        Neighbours requested per query.
    recall : float or None
        Approximate engines: recall@k against the exact top k (see
        :func:`recall_vs_exact`); None for exact engines.
    recall_queries : int or None
        Number of queries ``recall`` was measured on.
    params : dict
        Engine parameters actually used (block sizes, nlist, nprobe, ...).
    recall_at : dict of int to float
        Approximate engines: recall@c against exact search for each requested
        cut-off ``c <= k`` (``k`` always included); empty for exact engines.
    """

    indices: np.ndarray
    scores: np.ndarray
    engine: str
    k: int
    recall: float | None = None
    recall_queries: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    recall_at: dict[int, float] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        """Whether the engine is exact (no recall to report)."""
        return self.engine not in APPROXIMATE


def as_matrix(x: Any, name: str) -> np.ndarray:
    """Validate a (n, dim) real matrix and return it as C-contiguous float32."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n, dim), got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has dimension 0")
    if arr.dtype != np.float32:
        logger.debug("%s: converting %s to float32", name, arr.dtype)
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    for start in range(0, arr.shape[0], _FINITE_CHECK_ROWS):
        ok = np.isfinite(arr[start : start + _FINITE_CHECK_ROWS]).all(axis=1)
        if not ok.all():
            row = start + int(np.argmin(ok))
            raise ValueError(f"{name} row {row} contains NaN or infinite values")
    return arr


def positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def tie_ranks(corpus_ids: Sequence[Any] | np.ndarray, n: int) -> np.ndarray:
    """Position of each corpus row in the ascending sort order of its id.

    Parameters
    ----------
    corpus_ids : sequence or ndarray
        One unique, mutually comparable id per corpus row (str or int).
    n : int
        Number of corpus rows.

    Returns
    -------
    ndarray of int64, shape (n,)
        A permutation of ``range(n)``.
    """
    if not isinstance(corpus_ids, np.ndarray) and len({isinstance(i, str) for i in corpus_ids}) > 1:
        # numpy would silently turn the numbers into strings ("1" == 1).
        raise TypeError("corpus_ids mix strings and non-strings; use one type")
    ids = np.asarray(corpus_ids)
    if ids.ndim != 1 or ids.shape[0] != n:
        raise ValueError(
            f"corpus_ids must be 1-D with one id per corpus row ({n}), got shape {ids.shape}"
        )
    try:
        order = np.argsort(ids, kind="stable")
    except TypeError as exc:
        raise TypeError(
            f"corpus_ids must be mutually comparable (all str or all int): {exc}"
        ) from exc
    sorted_ids = ids[order]
    dup = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
    if dup.size:
        raise ValueError(f"corpus_ids must be unique; {sorted_ids[dup[0]].item()!r} repeats")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n, dtype=np.int64)
    return rank


def recall_vs_exact(approx: SearchResult, exact: SearchResult, *, k: int | None = None) -> float:
    """Recall@k of an approximate result against the exact one on the same queries.

    Mean over queries of ``|approx_q ∩ exact_q| / |exact_q|`` over the first ``k``
    ranks of each, ``-1`` slots being misses. With ties at the k-th score the exact
    set is the one the tie-break picks.

    Parameters
    ----------
    approx, exact : SearchResult
        Results for the same queries and the same k.
    k : int, optional
        Cut-off (default: the results' k). The top ``c`` of a top-k result is the
        top ``c`` of the search, so any ``c <= k`` can be measured from one search.

    Returns
    -------
    float
        In [0, 1].
    """
    if approx.indices.shape != exact.indices.shape:
        raise ValueError(
            f"results differ in shape: approx {approx.indices.shape} vs exact {exact.indices.shape}"
        )
    width = approx.indices.shape[1]
    cut = width if k is None else positive_int(k, "k")
    if cut > width:
        raise ValueError(f"k={cut} exceeds the results' k={width}")
    return recall_rows(approx.indices[:, :cut], exact.indices[:, :cut])


def recall_rows(approx: np.ndarray, exact: np.ndarray) -> float:
    """Mean per-row share of the valid ``exact`` ids found in ``approx`` (``-1`` = none)."""
    n_q = exact.shape[0]
    if n_q == 0:
        raise ValueError("recall needs at least one query")
    # Offset each query's ids so that one isin over flat arrays compares row by row.
    span = int(max(approx.max(initial=0), exact.max(initial=0))) + 2
    offset = (np.arange(n_q, dtype=np.int64) * span)[:, None]
    hits = np.isin(approx + offset, exact + offset) & (approx >= 0)
    relevant = (exact >= 0).sum(axis=1)
    per_query = hits.sum(axis=1) / np.maximum(relevant, 1)
    return float(per_query.mean())


def check_engine(engine: Any) -> str:
    if engine in ENGINES:
        return str(engine)
    close = difflib.get_close_matches(str(engine), ENGINES, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}{hint}")
