"""FAISS engines: exact flat kernel with over-fetch, IVF and HNSW candidate generation.

Every engine's candidates are re-scored exactly and ordered by the shared tie-break
(see ``_exact``), so scores and tie order are the same whichever engine found them.
faiss is imported lazily: the metrics half of the package works without it.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from audit.retrieval._exact import error_bounds, max_row_norm, rerank_candidates

logger = logging.getLogger(__name__)


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is a hard dependency
        raise ImportError("the faiss engines need faiss-cpu: pip install faiss-cpu") from exc
    return faiss


def flat_topk(
    queries: np.ndarray,
    corpus: np.ndarray,
    k: int,
    chunk_size: int,
    tie_rank: np.ndarray | None,
    c_max: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top k through FAISS's flat inner-product kernel, with enough over-fetch.

    FAISS orders equal scores its own way and its float32 scores carry BLAS rounding,
    so it is asked for ``k' > k`` neighbours; a query is refetched with ``4 k'``
    while its ``k'``-th score is still within the error margin of its k-th score (an
    item left out could then still belong to the exact top k). Candidates are then
    re-scored exactly and ordered by the tie-break. Zero queries are left to the
    caller (every item ties at 0). ``c_max``: the corpus's largest row norm when the
    caller has it (:func:`max_row_norm`; computed here otherwise).

    Returns
    -------
    indices, scores : tuple of ndarray
        (n_q, k) int64 rows and float32 scores, best first.
    """
    faiss = _faiss()
    n_q, dim = queries.shape
    n = corpus.shape[0]
    if c_max is None:
        c_max = max_row_norm(corpus)
    indices = np.full((n_q, k), -1, dtype=np.int64)
    scores = np.full((n_q, k), -np.inf, dtype=np.float32)
    for i0 in range(0, n_q, chunk_size):
        q = queries[i0 : i0 + chunk_size]
        q64 = q.astype(np.float64)
        q_norms = np.sqrt(np.einsum("ij,ij->i", q64, q64))
        bound, slack = error_bounds(q_norms, c_max, dim)
        margin = 2.0 * bound + slack
        todo = np.flatnonzero(q_norms > 0)
        fetch = min(n, k + max(k, 8))
        while todo.size:
            # Bound the candidate block (rows x fetch) when large tie groups need a
            # large k'.
            step = max(1, (1 << 22) // fetch)
            more = []
            for s0 in range(0, todo.size, step):
                rows = todo[s0 : s0 + step]
                dist, idx = faiss.knn(q[rows], corpus, fetch, metric=faiss.METRIC_INNER_PRODUCT)
                top_idx, top_scores = rerank_candidates(q[rows], corpus, idx, k, tie_rank)
                indices[i0 + rows], scores[i0 + rows] = top_idx, top_scores
                if fetch < n:
                    # Unfetched items score <= the last fetched one; all must be more
                    # than the margin below the k-th score for the set to be complete.
                    last = dist[:, fetch - 1].astype(np.float64)
                    kth = dist[:, k - 1].astype(np.float64)
                    more.append(rows[last >= kth - margin[rows]])
            todo = np.concatenate(more) if more else np.empty(0, dtype=np.int64)
            fetch = min(n, 4 * fetch)
            if todo.size:
                logger.debug("faiss-flat: refetching %d queries with k'=%d", todo.size, fetch)
    return indices, scores


def default_nlist(n: int) -> int:
    """IVF lists: about 4 sqrt(n), with at least 39 training points per list (FAISS)."""
    return max(1, min(int(4 * math.sqrt(n)), n // 39))


def default_nprobe(nlist: int) -> int:
    """Lists probed: a sixteenth of them, at least 8 (all of them when fewer)."""
    return min(nlist, max(8, nlist // 16))


def build_ivf(
    corpus: np.ndarray, *, nlist: int, nprobe: int, train_size: int | None, seed: int
) -> Any:
    """A FAISS IndexIVFFlat (inner product) over ``corpus``.

    k-means is trained on ``train_size`` rows drawn with ``seed`` (all rows when None;
    FAISS then keeps at most 256 per list), so the build is reproducible.
    """
    faiss = _faiss()
    n, dim = corpus.shape
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    index.cp.min_points_per_centroid = 1  # small corpora: no FAISS warning spam
    train = corpus
    if train_size is not None and train_size < n:
        rows = np.sort(np.random.default_rng(seed).choice(n, size=train_size, replace=False))
        train = corpus[rows]
        # Sampled already: FAISS must not subsample again with its own rule.
        index.cp.max_points_per_centroid = max(1, -(-train_size // nlist))
    index.train(train)
    index.add(corpus)
    index.nprobe = nprobe
    return index


def build_hnsw(corpus: np.ndarray, *, m: int, ef_construction: int) -> Any:
    """A FAISS IndexHNSWFlat (inner product) over ``corpus``.

    FAISS builds the graph with several threads, so the graph (and with it the
    approximate candidates) can differ slightly between runs; the reported recall
    says by how much quality moves.
    """
    faiss = _faiss()
    index = faiss.IndexHNSWFlat(corpus.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(corpus)
    return index


def index_candidates(index: Any, queries: np.ndarray, k: int) -> np.ndarray:
    """Top-k candidates of a built IVF or HNSW index, ``-1`` padded, int64."""
    _, idx = index.search(queries, k)
    return idx.astype(np.int64, copy=False)


def index_bytes(index: Any) -> int:
    """Bytes an IVF-flat or HNSW-flat index holds (vectors, ids, lists, graph links).

    Counted from the index's own arrays, without serialising it (which would need a
    second copy of a large index).
    """
    faiss = _faiss()
    if isinstance(index, faiss.IndexIVFFlat):
        # Each stored vector: its float32 code plus an int64 id; plus the centroids.
        return int(index.ntotal * (index.code_size + 8) + index.nlist * index.d * 4)
    hnsw = index.hnsw
    links = hnsw.neighbors.size() * 4 + hnsw.offsets.size() * 8 + hnsw.levels.size() * 4
    return int(index.ntotal * index.d * 4 + links)
