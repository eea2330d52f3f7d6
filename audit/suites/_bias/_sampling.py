"""Gallery samples for the skew probe: rank a seeded sample of a huge gallery.

Skew and NDKL compare the groups' shares in each top k with a target over the groups
of the gallery. On a sample the ranking is the sample's, so the sample must keep every
group and, for the gallery shares reported next to the target, the groups' proportions:
the stratified method allocates the sample to the groups in proportion to their sizes
(largest remainder, then at least one item per group), and draws each group's items
uniformly without replacement. Every draw comes from one seed, reported with the counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["GallerySample", "allocate", "sample_gallery"]

ALLOCATION_RULE = (
    "proportional to group size (largest remainder, ties by group name), at least one "
    "item per group; uniform without replacement within each group"
)


@dataclass(frozen=True)
class GallerySample:
    """Rows of a gallery kept for ranking, and what the report says about them.

    Attributes
    ----------
    rows : ndarray of int64
        Kept row positions in the population, ascending.
    n_population : int
        Gallery size before sampling.
    method : str
        ``"stratified"``, ``"uniform"``, or ``"none"`` (the whole gallery: the sample
        size is not below the gallery size).
    seed : int
        Seed of the draws.
    counts_sample, counts_population : dict of str to int
        Items per group in the sample and in the gallery.
    """

    rows: np.ndarray
    n_population: int
    method: str
    seed: int
    counts_sample: dict[str, int]
    counts_population: dict[str, int]

    def details(self) -> dict[str, Any]:
        """The ``gallery_sampling`` block of a result's details."""
        out: dict[str, Any] = {
            "n_sample": int(self.rows.shape[0]),
            "n_population": self.n_population,
            "method": self.method,
            "seed": self.seed,
            "counts_sample": dict(self.counts_sample),
            "counts_population": dict(self.counts_population),
        }
        if self.method == "stratified":
            out["allocation"] = ALLOCATION_RULE
        return out


def allocate(counts: dict[str, int], n: int) -> dict[str, int]:
    """Items per group for a stratified sample of ``n`` (proportional, >= 1 per group).

    Parameters
    ----------
    counts : dict of str to int
        Population items per group (each >= 1).
    n : int
        Sample size, ``len(counts) <= n <= sum(counts)``.

    Returns
    -------
    dict of str to int
        Sums to ``n``; each value in ``[1, counts[g]]``.
    """
    total = sum(counts.values())
    groups = sorted(counts)
    if not len(groups) <= n <= total:
        raise ValueError(
            f"a stratified sample needs between {len(groups)} (one per group) and {total} "
            f"items, got {n}"
        )
    quota = {g: n * counts[g] / total for g in groups}
    alloc = {g: int(np.floor(quota[g])) for g in groups}
    left = n - sum(alloc.values())
    for g in sorted(groups, key=lambda g: (-(quota[g] - alloc[g]), g))[:left]:
        alloc[g] += 1
    # A group too small for its own item at this rate still gets one, taken from the
    # group furthest above its quota (among those with two or more), so every group stays ranked.
    for g in groups:
        if alloc[g] == 0:
            donors = [h for h in groups if alloc[h] >= 2]
            donor = max(donors, key=lambda h: (alloc[h] - quota[h], alloc[h], h))
            alloc[donor] -= 1
            alloc[g] = 1
    return alloc


def sample_gallery(
    labels: Sequence[str], n: int | None, *, method: str, seed: int
) -> GallerySample:
    """A seeded sample of gallery rows, stratified by ``labels`` or uniform.

    Parameters
    ----------
    labels : sequence of str
        Group of each gallery row.
    n : int or None
        Sample size; None or ``>= len(labels)`` keeps the whole gallery.
    method : {"stratified", "uniform"}
    seed : int

    Returns
    -------
    GallerySample
    """
    if method not in ("stratified", "uniform"):
        raise ValueError(f"unknown sampling method {method!r}; use 'stratified' or 'uniform'")
    labels = [str(x) for x in labels]
    population = dict(sorted(Counter(labels).items()))
    m = len(labels)
    rng = np.random.default_rng(seed)
    if n is None or n >= m:
        rows = np.arange(m, dtype=np.int64)
        return GallerySample(rows, m, "none", seed, dict(population), dict(population))
    if method == "uniform":
        rows = np.sort(rng.choice(m, size=n, replace=False)).astype(np.int64)
    else:
        alloc = allocate(population, n)
        arr = np.asarray(labels)
        parts = []
        for g in population:  # sorted: the draws do not depend on the gallery order of groups
            members = np.flatnonzero(arr == g)
            parts.append(rng.choice(members, size=alloc[g], replace=False))
        rows = np.sort(np.concatenate(parts)).astype(np.int64)
    sample = dict(sorted(Counter(labels[i] for i in rows).items()))
    return GallerySample(rows, m, method, seed, sample, dict(population))
