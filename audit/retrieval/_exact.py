"""Blocked exact inner-product top-k with a deterministic tie-break.

The kernel computes float32 scores block by block with BLAS (``numpy.matmul``), keeps
only the entries that can still reach the top k (a per-query threshold that tightens as
blocks go by), re-scores those few candidates exactly and merges them into a running
top-k ordered by (score descending, tie rank ascending).

Why re-score: BLAS sums in an order that depends on the block shape, the thread count
and the library, so two mathematically equal scores (a duplicated corpus vector) can
come out one ulp apart and the "tie" would then depend on the chunk size. Every
returned score is instead the inner product evaluated in float64 from exact products
(a float32 times a float32 is exact in float64), summed in a fixed order and rounded
to float32. The float64 sum is accurate to ~1e-14, so the result is the correctly
rounded inner product unless the exact value lies within that distance of a float32
rounding boundary (then it can be one ulp off, the same way every time). It does not
depend on any block size, and equal vectors always give equal scores, so ties are
real ties and the tie-break by id decides them.

Why the margins are safe: a float32 dot product of length d computed in any summation
order is within ``gamma_d * ||q|| * ||c||`` of the true value (Higham, Accuracy and
Stability of Numerical Algorithms, eq. 3.5, with Cauchy-Schwarz), ``gamma_d = d u /
(1 - d u)``, ``u = 2**-24``. Candidates are discarded only when their BLAS score is
below the current k-th value by more than that bound (twice it when the k-th value is
itself a BLAS score) plus a few ulps of slack for the final rounding to float32.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_U32 = 2.0**-24
# Pieces of the exact re-scoring hold at most this many float64 values (32 MiB).
_RESCORE_ELEMS = 1 << 22
_M32 = (1 << 32) - 1
_SIGN = 1 << 31
_TIE_MASK = (1 << 31) - 1
# Candidates piled up per query block before near-ties are settled exactly.
_PILE_MIN = 1 << 20
# Score blocks smaller than this are thresholded in one thread.
_THREADED_MIN = 1 << 20
# Sort key of an empty slot: after every real (finite-score) entry.
_PAD = np.iinfo(np.int64).max


def max_row_norm(x: np.ndarray, rows_per_chunk: int = 65536) -> float:
    """An upper bound of the largest L2 row norm of ``x``, computed in chunks.

    Squared norms are summed in float32 (no float64 copy of a large corpus); their
    relative error is below ``d * 2**-24``, so the result is inflated by that much.
    """
    best = 0.0
    for start in range(0, x.shape[0], rows_per_chunk):
        chunk = x[start : start + rows_per_chunk]
        sq = float(np.einsum("ij,ij->i", chunk, chunk).max(initial=0.0))
        if not np.isfinite(sq):  # float32 overflow of huge values: redo in float64
            chunk = chunk.astype(np.float64)
            sq = float(np.einsum("ij,ij->i", chunk, chunk).max(initial=0.0))
        best = max(best, sq)
    return float(np.sqrt(best * (1.0 + 2.0 * x.shape[1] * _U32)))


def error_bounds(q_norms: np.ndarray, c_max_norm: float, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-query BLAS error bound ``E`` and rounding slack, both float64.

    Parameters
    ----------
    q_norms : ndarray of shape (n_q,)
        L2 norms of the queries.
    c_max_norm : float
        Largest L2 norm among the corpus rows.
    dim : int
        Vector dimension.

    Returns
    -------
    bound, slack : tuple of ndarray
        ``bound`` is the worst-case float32 dot-product error; ``slack`` covers the
        rounding of scores and thresholds to float32 (4 ulps of the largest possible
        score) plus underflow.
    """
    gamma = dim * _U32 / (1.0 - dim * _U32)
    scale = q_norms.astype(np.float64) * c_max_norm
    tiny = dim * float(np.finfo(np.float32).smallest_subnormal) * 4.0
    return gamma * scale, 2.0**-21 * scale + tiny


def exact_scores(
    queries: np.ndarray, corpus: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Scores ``queries[rows] . corpus[cols]`` in float64, rounded to float32.

    The element products are exact in float64, and each pair is summed by the same
    code path whatever its position, so equal vectors give bit-identical scores.
    """
    out = np.empty(rows.shape[0], dtype=np.float32)
    step = max(1, _RESCORE_ELEMS // max(1, queries.shape[1]))
    for start in range(0, rows.shape[0], step):
        stop = start + step
        prod = queries[rows[start:stop]].astype(np.float64)
        prod *= corpus[cols[start:stop]]
        # "+ 0.0" turns -0.0 into +0.0 so that equal scores have equal sort keys.
        out[start:stop] = prod.sum(axis=1) + 0.0
    return out


def encode_keys(scores: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """Pack (score descending, tie rank ascending) into one ascending int64 sort key.

    The float32 bits are mapped to an order-preserving unsigned integer (flip all bits
    of negatives, set the sign bit of positives), reversed for descending order, and
    shifted above the 31-bit tie rank. ``-0.0`` must already be normalised to ``+0.0``.
    """
    bits = scores.view(np.uint32).astype(np.int64)
    asc = np.where(bits >= _SIGN, _M32 - bits, bits + _SIGN)
    return ((_M32 - asc) << 31) | ties


def decode_scores(keys: np.ndarray) -> np.ndarray:
    """Float32 scores of keys made by :func:`encode_keys` (``_PAD`` gives -inf)."""
    asc = _M32 - (keys >> 31)
    bits = np.where(asc >= _SIGN, asc - _SIGN, _M32 - asc)
    out = bits.astype(np.uint32).view(np.float32)
    return np.where(keys == _PAD, np.float32(-np.inf), out)


def _row_positions(rows: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts per row and the position of each entry inside its row (rows sorted)."""
    counts = np.bincount(rows, minlength=m)
    starts = np.cumsum(counts) - counts
    return counts, np.arange(rows.shape[0], dtype=np.int64) - starts[rows]


def _padded(
    lead: np.ndarray, rows: np.ndarray, values: np.ndarray, fill: float | int
) -> np.ndarray | None:
    """``lead`` (m, k) followed by each row's new values, padded; None when too skewed.

    A padded 2-D array makes per-row selection a single vectorised partition; when one
    row has far more entries than the others (massive ties) it would waste memory, and
    the caller falls back to a flat sort.
    """
    m, k = lead.shape
    counts, pos = _row_positions(rows, m)
    width = int(counts.max(initial=0))
    if m * width > 4 * rows.shape[0] + 65536:
        return None
    out = np.full((m, k + width), fill, dtype=lead.dtype)
    out[:, :k] = lead
    out[rows, pos + k] = values
    return out


def _flat_first_k(all_rows: np.ndarray, order: np.ndarray, m: int, k: int) -> np.ndarray:
    """Indices into the flat arrays of the first k entries of every row after ``order``."""
    counts = np.bincount(all_rows, minlength=m)
    starts = np.cumsum(counts) - counts
    return order[(starts[:, None] + np.arange(k)[None, :]).ravel()]


def _top_values(top: np.ndarray, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The k largest values per row (unsorted) of ``top`` (m, k) and new entries."""
    m, k = top.shape
    if rows.shape[0] == 0:
        return top
    pad = _padded(top, rows, values, -np.inf)
    if pad is not None:
        width = pad.shape[1]
        return np.partition(pad, width - k, axis=1)[:, width - k :]
    all_rows = np.concatenate([np.repeat(np.arange(m, dtype=np.int64), k), rows])
    all_vals = np.concatenate([top.ravel(), values])
    order = np.lexsort((-all_vals, all_rows))
    return all_vals[_flat_first_k(all_rows, order, m, k)].reshape(m, k)


def merge_keys(buf_keys: np.ndarray, rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The k smallest keys per query of the buffer (m, k) and new (row, key) entries."""
    m, k = buf_keys.shape
    if rows.shape[0] == 0:
        return buf_keys
    pad = _padded(buf_keys, rows, keys, _PAD)
    if pad is not None:
        pad.partition(k - 1, axis=1)
        return np.sort(pad[:, :k], axis=1)
    all_rows = np.concatenate([np.repeat(np.arange(m, dtype=np.int64), k), rows])
    all_keys = np.concatenate([buf_keys.ravel(), keys])
    order = np.lexsort((all_keys, all_rows))
    return all_keys[_flat_first_k(all_rows, order, m, k)].reshape(m, k)


def _lower_f32(x: np.ndarray) -> np.ndarray:
    """Round float64 thresholds to float32 towards -inf, so no candidate is lost."""
    return np.nextafter(x.astype(np.float32), np.float32(-np.inf))


def _warm_kth(s_blk: np.ndarray, k: int) -> np.ndarray:
    """A lower bound of each row's k-th largest value: k-th largest of group maxima.

    The maxima of disjoint column groups belong to distinct items, so their k-th
    largest is <= the row's k-th largest. A max-reduce is ~10x cheaper than a
    partition of the whole row and the bound is nearly as tight.
    """
    w = s_blk.shape[1]
    groups = max(k, min(w // 8, 16 * k))
    size = w // groups
    maxima = s_blk[:, : groups * size].reshape(s_blk.shape[0], groups, size).max(axis=2)
    return np.partition(maxima, groups - k, axis=1)[:, groups - k]


class _Ties:
    """Tie ranks of the corpus rows and their inverse (None: the row index itself)."""

    def __init__(self, rank: np.ndarray | None) -> None:
        self.rank = rank
        self.row_of_rank = None if rank is None else np.argsort(rank)

    def of(self, idx: np.ndarray) -> np.ndarray:
        return idx if self.rank is None else self.rank[idx]

    def rows(self, tie: np.ndarray) -> np.ndarray:
        return tie if self.row_of_rank is None else self.row_of_rank[tie]


def decode_keys(keys: np.ndarray, ties: _Ties) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (``-1`` for empty slots) and float32 scores of sort keys."""
    empty = keys == _PAD
    idx = ties.rows(np.where(empty, 0, keys & _TIE_MASK))
    return np.where(empty, -1, idx), decode_scores(keys)


def _exact_top(
    q: np.ndarray,
    corpus: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    ties: _Ties,
    k: int,
) -> np.ndarray:
    """Exact top-k sort keys (m, k) among candidate (row, corpus index) pairs."""
    order = np.argsort(rows, kind="stable")
    rows, cols = rows[order], cols[order]
    keys = encode_keys(exact_scores(q, corpus, rows, cols), ties.of(cols))
    return merge_keys(np.full((q.shape[0], k), _PAD, dtype=np.int64), rows, keys)


def _above(
    scores: np.ndarray,
    thr: np.ndarray,
    mask: np.ndarray,
    pool: ThreadPoolExecutor | None,
    workers: int,
) -> np.ndarray:
    """Flat indices of ``scores[i, j] >= thr[i]``, split over threads by rows.

    This full pass over the score block is the only per-element work besides BLAS;
    numpy releases the GIL in both steps, so the threads run in parallel.
    """
    m, w = scores.shape
    if pool is None or m * w < _THREADED_MIN:
        np.greater_equal(scores, thr[:, None], out=mask)
        return np.flatnonzero(mask)
    cuts = np.linspace(0, m, workers + 1).astype(np.int64)

    def part(r0: int, r1: int) -> np.ndarray:
        np.greater_equal(scores[r0:r1], thr[r0:r1, None], out=mask[r0:r1])
        return np.flatnonzero(mask[r0:r1]) + r0 * w

    parts = pool.map(part, cuts[:-1].tolist(), cuts[1:].tolist())
    return np.concatenate(list(parts))


def _topk_query_block(
    q: np.ndarray,
    corpus: np.ndarray,
    k: int,
    c_max_norm: float,
    ties: _Ties,
    corpus_block: int,
    pool: ThreadPoolExecutor | None,
    workers: int,
) -> np.ndarray:
    """Exact top-k sort keys (m, k) for one block of queries against the whole corpus.

    The loop keeps, per query, the k largest BLAS scores seen so far (``top``) and
    every candidate within the error margin of them; only the survivors are re-scored
    exactly at the end (about k per query), or earlier if massive ties pile up.
    """
    m, dim = q.shape
    n = corpus.shape[0]
    q64 = q.astype(np.float64)
    bound, slack = error_bounds(np.sqrt(np.einsum("ij,ij->i", q64, q64)), c_max_norm, dim)
    margin = 2.0 * bound + slack
    zero = bound == 0.0
    top = np.full((m, k), -np.inf, dtype=np.float32)
    # A zero query scores exactly 0 everywhere: answered by tie rank alone below.
    thr = np.where(zero, np.float32(np.inf), np.float32(-np.inf))
    acc: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    acc_size = 0
    limit = max(_PILE_MIN, 8 * m * k)
    block = min(corpus_block, n)
    score_buf = np.empty(m * block, dtype=np.float32)
    mask_buf = np.empty(m * block, dtype=bool)
    for j0 in range(0, n, block):
        w = min(block, n - j0)
        s_blk = score_buf[: m * w].reshape(m, w)
        np.matmul(q, corpus[j0 : j0 + w].T, out=s_blk)
        if j0 == 0:
            warm = _lower_f32(_warm_kth(s_blk, k).astype(np.float64) - margin)
            thr = np.where(zero, thr, warm)
        flat = _above(s_blk, thr, mask_buf[: m * w].reshape(m, w), pool, workers)
        if flat.size == 0:
            continue
        rows = flat // w
        vals = score_buf[flat]
        top = _top_values(top, rows, vals)
        new_thr = _lower_f32(top.min(axis=1).astype(np.float64) - margin)
        thr = np.where(zero, thr, np.maximum(thr, new_thr))
        keep = vals >= thr[rows]
        acc.append((rows[keep], flat[keep] - rows[keep] * w + j0, vals[keep]))
        acc_size += acc[-1][0].shape[0]
        if acc_size > limit:
            # Massive near-ties: settle the pile exactly (an item outside the exact
            # top k of a subset is outside the final top k too).
            rows, cols, vals = _drop_below(acc, thr)
            if rows.shape[0] > limit // 2:
                idx, sc = decode_keys(_exact_top(q, corpus, rows, cols, ties, k), ties)
                valid = idx >= 0
                rows = np.repeat(np.arange(m, dtype=np.int64), k)[valid.ravel()]
                cols, vals = idx[valid], sc[valid]
            acc, acc_size = [(rows, cols, vals)], rows.shape[0]
    rows, cols, _ = _drop_below(acc, thr)
    keys = _exact_top(q, corpus, rows, cols, ties, k)
    if zero.any():
        first = ties.rows(np.arange(k, dtype=np.int64))
        keys[zero] = encode_keys(np.zeros(k, dtype=np.float32), ties.of(first))
    return keys


def _drop_below(
    acc: list[tuple[np.ndarray, np.ndarray, np.ndarray]], thr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate accumulated candidates, keeping those at or above the threshold."""
    rows = np.concatenate([a[0] for a in acc]) if acc else np.empty(0, dtype=np.int64)
    cols = np.concatenate([a[1] for a in acc]) if acc else np.empty(0, dtype=np.int64)
    vals = np.concatenate([a[2] for a in acc]) if acc else np.empty(0, dtype=np.float32)
    keep = vals >= thr[rows]
    return rows[keep], cols[keep], vals[keep]


def exact_topk(
    queries: np.ndarray,
    corpus: np.ndarray,
    k: int,
    *,
    tie_rank: np.ndarray | None,
    query_block: int,
    corpus_block: int,
    c_max_norm: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top-k of every query, ties broken by ``tie_rank``.

    Parameters
    ----------
    queries, corpus : ndarray of float32, C-contiguous
        Validated inputs, shapes (n_q, d) and (n, d), ``n < 2**31``.
    k : int
        Neighbours per query, ``1 <= k <= n``.
    tie_rank : ndarray of int64 or None
        Position of each corpus row in the id sort order (a permutation of
        ``range(n)``); None means the row index.
    query_block, corpus_block : int
        Block sizes; the score block holds ``query_block * corpus_block`` float32.
    c_max_norm : float, optional
        :func:`max_row_norm` of ``corpus`` when the caller has it (a prepared index
        searched many times); computed here otherwise.

    Returns
    -------
    indices, scores : tuple of ndarray
        (n_q, k) int64 row indices and float32 scores, best first.
    """
    n_q = queries.shape[0]
    keys = np.empty((n_q, k), dtype=np.int64)
    if c_max_norm is None:
        c_max_norm = max_row_norm(corpus)
    block = max(corpus_block, k)
    ties = _Ties(tie_rank)
    workers = _n_threads()
    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    try:
        for i0 in range(0, n_q, query_block):
            i1 = min(n_q, i0 + query_block)
            q = queries[i0:i1]
            keys[i0:i1] = _topk_query_block(q, corpus, k, c_max_norm, ties, block, pool, workers)
    finally:
        if pool is not None:
            pool.shutdown()
    return decode_keys(keys, ties)


def _n_threads() -> int:
    """CPUs this process may use (affinity-aware), capped for the threshold pass."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


def rerank_candidates(
    queries: np.ndarray,
    corpus: np.ndarray,
    cand: np.ndarray,
    k: int,
    tie_rank: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact scores for candidate lists (``-1`` = none), top k by the tie-break order.

    Rows with fewer than k valid candidates end with ``-1`` / ``-inf``.
    """
    m, width = cand.shape
    rows = np.repeat(np.arange(m, dtype=np.int64), width)
    flat = cand.ravel()
    valid = flat >= 0
    ties = _Ties(tie_rank)
    return decode_keys(_exact_top(queries, corpus, rows[valid], flat[valid], ties, k), ties)
