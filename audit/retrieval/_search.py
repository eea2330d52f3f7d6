"""Top-k inner-product search with a deterministic tie-break, exact or approximate.

Scores are inner products of float32 vectors (callers pass L2-normalised vectors, so
they are cosines). Every engine returns the same kind of score: the inner product
evaluated in float64 and rounded to float32, so that mathematically equal scores are
equal numbers. Results are ordered by score descending, then by corpus id ascending:
the sort order of ``corpus_ids`` when given, else the row index. Exact engines
("exact", "faiss-flat") return the same top k for any chunk size or thread count;
approximate engines ("faiss-ivf", "faiss-hnsw") also report their recall@k against
the exact top k of the same queries.

:class:`SearchIndex` prepares a corpus once (validation, tie ranks, the FAISS index of
an approximate engine) for many searches, e.g. query chunk by query chunk;
:func:`search` is a one-off search through it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from audit.retrieval import _faiss
from audit.retrieval._exact import exact_topk, max_row_norm, rerank_candidates
from audit.retrieval._result import (
    APPROXIMATE,
    ENGINES,
    SearchResult,
    as_matrix,
    check_engine,
    positive_int,
    recall_rows,
    recall_vs_exact,
    tie_ranks,
)

logger = logging.getLogger(__name__)

__all__ = ["ENGINES", "SearchIndex", "SearchResult", "recall_vs_exact", "search", "tie_ranks"]

_DEFAULT_CHUNK = 2048
# Score block of the exact engine: chunk_size x corpus block float32 values (128 MiB).
_SCORE_BLOCK_ELEMS = 1 << 25


class SearchIndex:
    """A corpus prepared once for repeated top-k searches with one engine.

    Parameters
    ----------
    corpus : array-like of shape (n_corpus, dim)
        Corpus vectors (converted to float32; NaN/inf rejected). Kept, and not copied
        when already C-contiguous float32 (do not modify it while the index is in
        use): every engine re-scores its candidates exactly from them.
    corpus_ids : sequence, optional
        Unique, comparable id per corpus row; equal scores are ordered by id
        ascending (by row index without ids).
    engine : {"exact", "faiss-flat", "faiss-ivf", "faiss-hnsw"}
        See :func:`search`. The IVF and HNSW indexes are built here.
    nlist, nprobe : int, optional
        IVF lists (default about 4 sqrt(n)) and lists probed (default nlist/16, at
        least 8).
    train_size : int, optional
        IVF: rows the k-means is trained on (drawn with ``seed``; default all rows,
        at most 256 per list).
    hnsw_m, ef_construction, ef_search : int
        HNSW graph degree, build and search beam widths.
    seed : int
        Seed of the IVF training sample, its k-means and recall samples.

    Attributes
    ----------
    engine : str
    n, dim : int
        Corpus rows and dimension.
    params : dict
        Build parameters actually used.
    build_seconds : float
        Wall time of the FAISS index build (0 for the exact engines).
    index_bytes : int
        Bytes of the FAISS index (0 for the exact engines, which search the corpus
        array itself); the float32 corpus (``n * dim * 4``) is held in addition.
    """

    def __init__(
        self,
        corpus: Any,
        *,
        corpus_ids: Sequence[Any] | np.ndarray | None = None,
        engine: str = "faiss-flat",
        nlist: int | None = None,
        nprobe: int | None = None,
        train_size: int | None = None,
        hnsw_m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 128,
        seed: int = 0,
    ) -> None:
        engine = check_engine(engine)
        c = as_matrix(corpus, "corpus")
        _check_rows(c)
        rank = None if corpus_ids is None else tie_ranks(corpus_ids, c.shape[0])
        build = {
            "nlist": nlist,
            "nprobe": nprobe,
            "train_size": train_size,
            "hnsw_m": hnsw_m,
            "ef_construction": ef_construction,
            "ef_search": ef_search,
        }
        self._setup(c, rank, engine, build, seed)

    @classmethod
    def _trusted(
        cls, c: np.ndarray, rank: np.ndarray | None, engine: str, build: dict[str, Any], seed: int
    ) -> SearchIndex:
        """An index over an already validated corpus (no second pass over the data)."""
        self = cls.__new__(cls)
        self._setup(c, rank, engine, build, seed)
        return self

    def _setup(
        self, c: np.ndarray, rank: np.ndarray | None, engine: str, build: dict[str, Any], seed: int
    ) -> None:
        self.engine = engine
        self._c = c
        self._rank = rank
        self._seed = int(seed)
        self.n, self.dim = c.shape
        self.params: dict[str, Any] = {}
        self.build_seconds = 0.0
        self.index_bytes = 0
        self._index: Any = None
        self._c_max: float | None = None
        if engine not in APPROXIMATE:
            return
        start = time.perf_counter()
        if engine == "faiss-ivf":
            nlist = build.get("nlist")
            nlist = _faiss.default_nlist(self.n) if nlist is None else positive_int(nlist, "nlist")
            if nlist > self.n:
                raise ValueError(f"nlist={nlist} exceeds the corpus size {self.n}")
            nprobe = build.get("nprobe")
            nprobe = (
                _faiss.default_nprobe(nlist) if nprobe is None else positive_int(nprobe, "nprobe")
            )
            train = build.get("train_size")
            if train is not None:
                train = positive_int(train, "train_size")
                if train < nlist:
                    raise ValueError(f"train_size={train} is below nlist={nlist}")
            self.params.update(nlist=nlist, nprobe=nprobe)
            if train is not None and train < self.n:
                self.params["train_size"] = train
            self._index = _faiss.build_ivf(
                c, nlist=nlist, nprobe=nprobe, train_size=train, seed=self._seed
            )
        else:
            self.params.update(
                hnsw_m=positive_int(build.get("hnsw_m", 32), "hnsw_m"),
                ef_construction=positive_int(build.get("ef_construction", 200), "ef_construction"),
            )
            self._ef_search = positive_int(build.get("ef_search", 128), "ef_search")
            self._index = _faiss.build_hnsw(
                c, m=self.params["hnsw_m"], ef_construction=self.params["ef_construction"]
            )
        self.build_seconds = time.perf_counter() - start
        self.index_bytes = _faiss.index_bytes(self._index)
        logger.info(
            "%s: built over %d rows in %.2f s (%.0f MiB)",
            engine,
            self.n,
            self.build_seconds,
            self.index_bytes / 2**20,
        )

    def tune(self, *, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """Change the search-time knob of an approximate index without rebuilding it.

        Parameters
        ----------
        nprobe : int, optional
            IVF lists probed per query.
        ef_search : int, optional
            HNSW search beam width (raised to the candidates fetched when smaller).
        """
        if nprobe is not None:
            if self.engine != "faiss-ivf":
                raise ValueError(f"nprobe applies to faiss-ivf, not {self.engine}")
            nprobe = positive_int(nprobe, "nprobe")
            self.params["nprobe"] = nprobe
            self._index.nprobe = nprobe
        if ef_search is not None:
            if self.engine != "faiss-hnsw":
                raise ValueError(f"ef_search applies to faiss-hnsw, not {self.engine}")
            self._ef_search = positive_int(ef_search, "ef_search")

    def _max_norm(self) -> float:
        """The corpus's largest row norm (the exact engines' error bound), computed once."""
        if self._c_max is None:
            self._c_max = max_row_norm(self._c)
        return self._c_max

    def search(
        self,
        queries: Any,
        k: int,
        *,
        chunk_size: int | None = None,
        recall_sample: int | None = None,
        recall_cutoffs: Sequence[int] = (),
        measure_recall: bool = True,
    ) -> SearchResult:
        """Top-k of each query; see :func:`search` for the parameters.

        ``measure_recall=False`` skips the exact search that measures an approximate
        engine's recall (``recall`` is then None): for callers that measure it
        themselves, e.g. once against a shared exact result.

        Returns
        -------
        SearchResult
        """
        q = as_matrix(queries, "queries")
        if q.shape[1] != self.dim:
            raise ValueError(
                f"queries have dimension {q.shape[1]} but corpus has dimension {self.dim}"
            )
        k = positive_int(k, "k")
        if k > self.n:
            raise ValueError(f"k={k} exceeds the corpus size {self.n}")
        chunk = _DEFAULT_CHUNK if chunk_size is None else positive_int(chunk_size, "chunk_size")
        if recall_sample is not None:
            positive_int(recall_sample, "recall_sample")
        return self._search(q, k, chunk, recall_sample, recall_cutoffs, measure_recall)

    def _search(
        self,
        q: np.ndarray,
        k: int,
        chunk: int,
        recall_sample: int | None,
        recall_cutoffs: Sequence[int],
        measure_recall: bool,
    ) -> SearchResult:
        c, rank, engine = self._c, self._rank, self.engine
        params: dict[str, Any] = {"chunk_size": chunk, **self.params}
        if q.shape[0] == 0:
            return _empty_result(k, engine, params)
        if engine == "exact":
            corpus_block = max(k, _SCORE_BLOCK_ELEMS // chunk)
            params["corpus_block"] = corpus_block
            idx, scores = exact_topk(
                q,
                c,
                k,
                tie_rank=rank,
                query_block=chunk,
                corpus_block=corpus_block,
                c_max_norm=self._max_norm(),
            )
            return SearchResult(idx, scores, engine, k, params=params)
        if engine == "faiss-flat":
            idx, scores = _faiss.flat_topk(q, c, k, chunk, rank, self._max_norm())
            _answer_zero_queries(q, k, rank, idx, scores)
            return SearchResult(idx, scores, engine, k, params=params)
        # Approximate engines: over-fetch, re-score exactly, keep the top k. This sorts
        # ties like the exact engines and recovers neighbours the index ranked k+1..k'.
        fetch = min(self.n, k + max(k, 8))
        params["fetch"] = fetch
        if engine == "faiss-hnsw":
            params["ef_search"] = max(fetch, self._ef_search)
            self._index.hnsw.efSearch = params["ef_search"]
        idx = np.empty((q.shape[0], k), dtype=np.int64)
        scores = np.empty((q.shape[0], k), dtype=np.float32)
        for i0 in range(0, q.shape[0], chunk):
            qc = q[i0 : i0 + chunk]
            cand = _faiss.index_candidates(self._index, qc, fetch)
            idx[i0 : i0 + chunk], scores[i0 : i0 + chunk] = rerank_candidates(qc, c, cand, k, rank)
        _answer_zero_queries(q, k, rank, idx, scores)
        if not measure_recall:
            return SearchResult(idx, scores, engine, k, None, None, params)
        cuts = sorted({k, *(int(x) for x in recall_cutoffs if 1 <= int(x) <= k)})
        at, n_recall = _measure_recall(
            q, c, k, idx, rank, chunk, recall_sample, self._seed, cuts, self._max_norm()
        )
        logger.info("%s: recall@%d vs exact = %.4f on %d queries", engine, k, at[k], n_recall)
        return SearchResult(idx, scores, engine, k, at[k], n_recall, params, at)


def _empty_result(k: int, engine: str, params: dict[str, Any]) -> SearchResult:
    empty = np.empty((0, k), dtype=np.int64), np.empty((0, k), dtype=np.float32)
    n_recall = None if engine not in APPROXIMATE else 0
    return SearchResult(*empty, engine, k, None, n_recall, params)


def _check_rows(c: np.ndarray) -> None:
    if c.shape[0] >= 2**31:
        raise ValueError(f"corpus has {c.shape[0]} rows; at most 2**31 - 1 are supported")


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
    train_size: int | None = None,
    hnsw_m: int = 32,
    ef_construction: int = 200,
    ef_search: int = 128,
    recall_sample: int | None = None,
    recall_cutoffs: Sequence[int] = (),
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
        FAISS's exact kernel (IndexFlatIP's) with over-fetch, then the same exact
        re-scoring and tie-break. "faiss-ivf" / "faiss-hnsw": approximate; they fetch
        ``k' = k + max(k, 8)`` candidates from the index, re-score them exactly and
        keep the top k; their recall against "exact" is measured and returned.
    nlist, nprobe : int, optional
        IVF lists (default about 4 sqrt(n)) and lists probed (default nlist/16,
        at least 8).
    train_size : int, optional
        IVF k-means training rows (default: all, at most 256 per list).
    hnsw_m, ef_construction, ef_search : int
        HNSW graph degree, build and search beam widths (ef_search is raised to the
        number of candidates fetched when smaller).
    recall_sample : int, optional
        Approximate engines: measure recall on this many randomly chosen queries
        instead of all of them (exact search dominates the cost otherwise).
    recall_cutoffs : sequence of int
        Approximate engines: also measure recall@c for these cut-offs ``c <= k``
        (``SearchResult.recall_at``), from the same exact search.
    seed : int
        Seed of the recall sample and of the IVF training sample and k-means.

    Returns
    -------
    SearchResult
    """
    engine = check_engine(engine)
    q = as_matrix(queries, "queries")
    c = as_matrix(corpus, "corpus")
    if q.shape[1] != c.shape[1]:
        raise ValueError(
            f"queries have dimension {q.shape[1]} but corpus has dimension {c.shape[1]}"
        )
    k = positive_int(k, "k")
    n = c.shape[0]
    if k > n:
        raise ValueError(f"k={k} exceeds the corpus size {n}")
    _check_rows(c)
    chunk = _DEFAULT_CHUNK if chunk_size is None else positive_int(chunk_size, "chunk_size")
    if recall_sample is not None:
        positive_int(recall_sample, "recall_sample")
    rank = None if corpus_ids is None else tie_ranks(corpus_ids, n)
    build = {
        "nlist": nlist,
        "nprobe": nprobe,
        "train_size": train_size,
        "hnsw_m": hnsw_m,
        "ef_construction": ef_construction,
        "ef_search": ef_search,
    }
    if q.shape[0] == 0:
        return _empty_result(k, engine, {"chunk_size": chunk})  # no index to build
    index = SearchIndex._trusted(c, rank, engine, build, seed)
    return index._search(q, k, chunk, recall_sample, recall_cutoffs, True)


def _answer_zero_queries(
    q: np.ndarray, k: int, rank: np.ndarray | None, idx: np.ndarray, scores: np.ndarray
) -> None:
    """All-zero queries tie at 0 with every item: their top k is the first k ids."""
    zero = ~q.any(axis=1)
    if zero.any():
        first = np.arange(k) if rank is None else np.argsort(rank)[:k]
        idx[zero] = first
        scores[zero] = 0.0


def _measure_recall(
    q: np.ndarray,
    c: np.ndarray,
    k: int,
    approx: np.ndarray,
    rank: np.ndarray | None,
    chunk: int,
    recall_sample: int | None,
    seed: int,
    cutoffs: Sequence[int],
    c_max_norm: float,
) -> tuple[dict[int, float], int]:
    """Recall@c (each cut-off) of approximate indices against the exact engine."""
    n_q = q.shape[0]
    rows = np.arange(n_q)
    if recall_sample is not None and recall_sample < n_q:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(n_q, size=recall_sample, replace=False))
    corpus_block = max(k, _SCORE_BLOCK_ELEMS // chunk)
    exact_idx, _ = exact_topk(
        q[rows],
        c,
        k,
        tie_rank=rank,
        query_block=chunk,
        corpus_block=corpus_block,
        c_max_norm=c_max_norm,
    )
    at = {cut: recall_rows(approx[rows, :cut], exact_idx[:, :cut]) for cut in cutoffs}
    return at, int(rows.size)
