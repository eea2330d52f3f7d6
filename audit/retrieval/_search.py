"""Top-k inner-product search with a deterministic tie-break, exact or approximate.

Scores are inner products of float32 vectors (callers pass L2-normalised vectors, so
they are cosines). Every engine returns the same kind of score: the inner product
evaluated in float64 and rounded to float32, so that mathematically equal scores are
equal numbers. Results are ordered by score descending, then by corpus id ascending:
the sort order of ``corpus_ids`` when given, else the row index. Exact engines
("exact", "faiss-flat") return the same top k for any chunk size or thread count;
approximate engines ("faiss-ivf", "faiss-hnsw") also report their recall@k against
the exact top k of the same queries.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.retrieval import _faiss
from audit.retrieval._exact import exact_topk, rerank_candidates

logger = logging.getLogger(__name__)

ENGINES: tuple[str, ...] = ("exact", "faiss-flat", "faiss-ivf", "faiss-hnsw")
_APPROXIMATE = frozenset({"faiss-ivf", "faiss-hnsw"})
_DEFAULT_CHUNK = 2048
# Score block of the exact engine: chunk_size x corpus block float32 values (128 MiB).
_SCORE_BLOCK_ELEMS = 1 << 25
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
    """

    indices: np.ndarray
    scores: np.ndarray
    engine: str
    k: int
    recall: float | None = None
    recall_queries: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        """Whether the engine is exact (no recall to report)."""
        return self.engine not in _APPROXIMATE


def _as_matrix(x: Any, name: str) -> np.ndarray:
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


def _positive_int(value: Any, name: str) -> int:
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


def recall_vs_exact(approx: SearchResult, exact: SearchResult) -> float:
    """Recall@k of an approximate result against the exact one on the same queries.

    Mean over queries of ``|approx_q ∩ exact_q| / |exact_q|``, ``-1`` slots being
    misses. With ties at the k-th score the exact set is the one the tie-break picks.

    Parameters
    ----------
    approx, exact : SearchResult
        Results for the same queries and the same k.

    Returns
    -------
    float
        In [0, 1].
    """
    if approx.indices.shape != exact.indices.shape:
        raise ValueError(
            f"results differ in shape: approx {approx.indices.shape} vs exact {exact.indices.shape}"
        )
    return _recall(approx.indices, exact.indices)


def _recall(approx: np.ndarray, exact: np.ndarray) -> float:
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


def _check_engine(engine: Any) -> str:
    if engine in ENGINES:
        return str(engine)
    close = difflib.get_close_matches(str(engine), ENGINES, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}{hint}")


def search(
    queries: Any,
    corpus: Any,
    k: int,
    *,
    corpus_ids: Sequence[Any] | np.ndarray | None = None,
    chunk_size: int | None = None,
    engine: str = "exact",
    nlist: int | None = None,
    nprobe: int | None = None,
    hnsw_m: int = 32,
    ef_construction: int = 200,
    ef_search: int = 128,
    recall_sample: int | None = None,
    seed: int = 0,
) -> SearchResult:
    """Top-k inner-product search with ties broken by corpus id.

    Parameters
    ----------
    queries : array-like of shape (n_queries, dim)
        Query vectors (converted to float32; NaN/inf rejected).
    corpus : array-like of shape (n_corpus, dim)
        Corpus vectors (converted to float32; NaN/inf rejected).
    k : int
        Neighbours per query, ``1 <= k <= n_corpus``.
    corpus_ids : sequence, optional
        Unique, comparable id per corpus row. Equal scores are ordered by id
        ascending; without ids, by row index. ``indices`` are always row indices.
    chunk_size : int, optional
        Queries per block (default 2048). The exact engine holds a score block of
        ``2**25`` float32 (128 MiB) plus a boolean mask of the same shape.
    engine : {"exact", "faiss-flat", "faiss-ivf", "faiss-hnsw"}
        "exact": blocked BLAS with a running threshold (numpy only). "faiss-flat":
        FAISS's exact kernel with over-fetch. "faiss-ivf" / "faiss-hnsw":
        approximate; they fetch ``k' = k + max(k, 8)`` candidates from the index,
        re-score them exactly and keep the top k; their recall against "exact" is
        measured and returned.
    nlist, nprobe : int, optional
        IVF lists (default about 4 sqrt(n)) and lists probed (default nlist/16,
        at least 8).
    hnsw_m, ef_construction, ef_search : int
        HNSW graph degree, build and search beam widths (ef_search is raised to the
        number of candidates fetched when smaller).
    recall_sample : int, optional
        Approximate engines: measure recall on this many randomly chosen queries
        instead of all of them (exact search dominates the cost otherwise).
    seed : int
        Seed of the recall sample and of the IVF k-means.

    Returns
    -------
    SearchResult
    """
    engine = _check_engine(engine)
    q = _as_matrix(queries, "queries")
    c = _as_matrix(corpus, "corpus")
    if q.shape[1] != c.shape[1]:
        raise ValueError(
            f"queries have dimension {q.shape[1]} but corpus has dimension {c.shape[1]}"
        )
    k = _positive_int(k, "k")
    n = c.shape[0]
    if k > n:
        raise ValueError(f"k={k} exceeds the corpus size {n}")
    if n >= 2**31:
        raise ValueError(f"corpus has {n} rows; at most 2**31 - 1 are supported")
    chunk = _DEFAULT_CHUNK if chunk_size is None else _positive_int(chunk_size, "chunk_size")
    if recall_sample is not None:
        _positive_int(recall_sample, "recall_sample")
    rank = None if corpus_ids is None else tie_ranks(corpus_ids, n)
    params: dict[str, Any] = {"chunk_size": chunk}
    if q.shape[0] == 0:
        empty = np.empty((0, k), dtype=np.int64), np.empty((0, k), dtype=np.float32)
        n_recall = None if engine not in _APPROXIMATE else 0
        return SearchResult(*empty, engine, k, None, n_recall, params)
    if engine == "exact":
        corpus_block = max(k, _SCORE_BLOCK_ELEMS // chunk)
        params["corpus_block"] = corpus_block
        idx, scores = exact_topk(
            q, c, k, tie_rank=rank, query_block=chunk, corpus_block=corpus_block
        )
        return SearchResult(idx, scores, engine, k, params=params)
    if engine == "faiss-flat":
        idx, scores = _faiss.flat_topk(q, c, k, chunk, rank)
        _answer_zero_queries(q, k, rank, idx, scores)
        return SearchResult(idx, scores, engine, k, params=params)
    # Approximate engines: over-fetch, re-score exactly, keep the top k. This sorts
    # ties like the exact engines and recovers neighbours the index ranked k+1..k'.
    fetch = min(n, k + max(k, 8))
    params["fetch"] = fetch
    if engine == "faiss-ivf":
        params["nlist"] = (
            _faiss.default_nlist(n) if nlist is None else _positive_int(nlist, "nlist")
        )
        if params["nlist"] > n:
            raise ValueError(f"nlist={params['nlist']} exceeds the corpus size {n}")
        default_probe = _faiss.default_nprobe(params["nlist"])
        params["nprobe"] = default_probe if nprobe is None else _positive_int(nprobe, "nprobe")
        cand = _faiss.ivf_candidates(
            q, c, fetch, nlist=params["nlist"], nprobe=params["nprobe"], seed=seed
        )
    else:
        params.update(
            hnsw_m=_positive_int(hnsw_m, "hnsw_m"),
            ef_construction=_positive_int(ef_construction, "ef_construction"),
            ef_search=max(fetch, _positive_int(ef_search, "ef_search")),
        )
        cand = _faiss.hnsw_candidates(
            q,
            c,
            fetch,
            m=params["hnsw_m"],
            ef_construction=params["ef_construction"],
            ef_search=params["ef_search"],
        )
    idx, scores = _rerank_chunked(q, c, cand, k, rank, chunk)
    _answer_zero_queries(q, k, rank, idx, scores)
    recall, n_recall = _measure_recall(q, c, k, idx, rank, chunk, recall_sample, seed)
    logger.info("%s: recall@%d vs exact = %.4f on %d queries", engine, k, recall, n_recall)
    return SearchResult(idx, scores, engine, k, recall, n_recall, params)


def _answer_zero_queries(
    q: np.ndarray, k: int, rank: np.ndarray | None, idx: np.ndarray, scores: np.ndarray
) -> None:
    """All-zero queries tie at 0 with every item: their top k is the first k ids."""
    zero = ~q.any(axis=1)
    if zero.any():
        first = np.arange(k) if rank is None else np.argsort(rank)[:k]
        idx[zero] = first
        scores[zero] = 0.0


def _rerank_chunked(
    q: np.ndarray,
    c: np.ndarray,
    cand: np.ndarray,
    k: int,
    rank: np.ndarray | None,
    chunk: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact scores and tie-break order for candidate lists, chunk by chunk."""
    idx = np.empty((q.shape[0], k), dtype=np.int64)
    scores = np.empty((q.shape[0], k), dtype=np.float32)
    for i0 in range(0, q.shape[0], chunk):
        i1 = i0 + chunk
        idx[i0:i1], scores[i0:i1] = rerank_candidates(q[i0:i1], c, cand[i0:i1], k, rank)
    return idx, scores


def _measure_recall(
    q: np.ndarray,
    c: np.ndarray,
    k: int,
    approx: np.ndarray,
    rank: np.ndarray | None,
    chunk: int,
    recall_sample: int | None,
    seed: int,
) -> tuple[float, int]:
    """Recall@k of approximate indices against the exact engine on (a sample of) queries."""
    n_q = q.shape[0]
    rows = np.arange(n_q)
    if recall_sample is not None and recall_sample < n_q:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(n_q, size=recall_sample, replace=False))
    corpus_block = max(k, _SCORE_BLOCK_ELEMS // chunk)
    exact_idx, _ = exact_topk(
        q[rows], c, k, tie_rank=rank, query_block=chunk, corpus_block=corpus_block
    )
    return _recall(approx[rows], exact_idx), int(rows.size)
