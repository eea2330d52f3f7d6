"""Permutation machinery of the association tests: exact enumeration and random partitions.

Both count how many re-partitions ``(X_i, Y_i)`` of ``X u Y`` (sizes kept) reach the
observed statistic ``S = sum(s_X) - sum(s_Y)``. With ``total = sum(s)``, a partition's
statistic is ``S_i = 2 sum(s[X_i]) - total``, so only subset sums are needed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["TIE_RTOL", "Counts", "count_exact", "count_sampled", "subset_sums"]

# Statistics closer than this (relative to sum |s|) are ties: the same partition summed in
# another order may differ in the last bits.
TIE_RTOL = 1e-10
# Elements per batch of random partitions (bounded memory for many samples).
CHUNK_ELEMENTS = 1 << 21


def subset_sums(s: np.ndarray, r: int) -> np.ndarray:
    """Sums of ``s`` over every ``r``-subset of its entries (``C(len(s), r)`` values).

    Vectorised Pascal recursion over the entries: the ``j``-subsets of the first ``m + 1``
    entries are those of the first ``m`` plus the ``(j-1)``-subsets with entry ``m``
    added, so each step is a few array additions and concatenations and no Python loop
    runs over the subsets. Only sizes that can still reach ``r`` are kept, so memory stays
    within a small multiple of ``C(n, r)`` floats. The order of the sums is unspecified.
    """
    n = s.size
    # level[j]: sums of all j-subsets of the entries seen so far.
    level: list[np.ndarray] = [np.zeros(1)] + [np.empty(0)] * r
    for m in range(n):
        low = max(0, r - (n - m - 1))
        new: list[np.ndarray] = [np.empty(0)] * (r + 1)
        for j in range(low, min(r, m + 1) + 1):
            if j == 0:
                new[j] = level[0]
                continue
            with_m = level[j - 1] + s[m]
            new[j] = np.concatenate([with_m, level[j]]) if level[j].size else with_m
        level = new
    return level[r]


class Counts(NamedTuple):
    """How many partitions' statistics ``S_i`` lie on each side of the observed ``S``.

    Both tails are counted so one enumeration (or one set of draws) gives the one-sided
    p-values of either direction and the two-sided one.
    """

    greater: int  # S_i > S + tol
    greater_eq: int  # S_i >= S - tol
    less: int  # S_i < S - tol
    less_eq: int  # S_i <= S + tol
    total: int  # partitions compared


def count_exact(s: np.ndarray, n_x: int, observed: float, tol: float) -> Counts:
    """Enumerate every partition and count both tails (see :class:`Counts`)."""
    n = s.size
    total = float(s.sum())
    # Enumerate the smaller side: S_i = 2 sum(X_i) - total = total - 2 sum(Y_i).
    if n_x <= n - n_x:
        stats = 2.0 * subset_sums(s, n_x) - total
    else:
        stats = total - 2.0 * subset_sums(s, n - n_x)
    greater_eq = int(np.count_nonzero(stats >= observed - tol))
    less_eq = int(np.count_nonzero(stats <= observed + tol))
    total = int(stats.size)
    # S_i > S + tol is the complement of S_i <= S + tol (and < S - tol of >= S - tol).
    return Counts(total - less_eq, greater_eq, total - greater_eq, less_eq, total)


def count_sampled(
    s: np.ndarray, n_x: int, observed: float, tol: float, n_samples: int, rng: np.random.Generator
) -> Counts:
    """Draw ``n_samples`` uniformly random partitions and count both tails."""
    n = s.size
    total = float(s.sum())
    batch = max(1, CHUNK_ELEMENTS // n)
    greater_eq = less_eq = done = 0
    while done < n_samples:
        b = min(batch, n_samples - done)
        # The n_x smallest of n i.i.d. uniform keys form a uniformly random n_x-subset:
        # each row is one random relabelling of X u Y (a true permutation).
        idx = np.argpartition(rng.random((b, n)), n_x - 1, axis=1)[:, :n_x]
        stats = 2.0 * s[idx].sum(axis=1) - total
        greater_eq += int(np.count_nonzero(stats >= observed - tol))
        less_eq += int(np.count_nonzero(stats <= observed + tol))
        done += b
    return Counts(n_samples - less_eq, greater_eq, n_samples - greater_eq, less_eq, n_samples)
