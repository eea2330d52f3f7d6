"""Significance for ranking metrics: permutation nulls for Skew/NDKL and for group gaps.

Two tests the bias suite needs beyond the point metrics of :mod:`._skew`:

- :func:`skew_permutation_test`: Skew@k, MaxSkew@k, MinSkew@k and NDKL@k of many rankings
  of one gallery at once (vectorised; equal to the scalar functions of :mod:`._skew`),
  with a permutation null that shuffles the gallery's group labels while the rankings stay
  fixed ("the groups are unrelated to the ranking"). A random ranking does not have
  MaxSkew@k = 0: with k = 10 and three equal groups its expected MaxSkew@10 is about 0.3,
  so the observed value is compared with this null, not with 0.
- :func:`group_gap_test`: the gap between the best and the worst group of a per-query
  metric (e.g. nDCG@10 per gender), with a null that permutes the group labels within
  each query (paired design: every query is scored once per group).

Plus :func:`cluster_bootstrap_ci`, a percentile bootstrap of a mean that resamples whole
clusters (e.g. the query templates of one profession), and :func:`holm_bonferroni`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "GapTestResult",
    "SkewTestResult",
    "cluster_bootstrap_ci",
    "group_gap_test",
    "holm_bonferroni",
    "skew_permutation_test",
]

# Null replicates are evaluated in blocks of at most this many label cells.
_BLOCK_CELLS = 1 << 21


@dataclass(frozen=True)
class SkewTestResult:
    """Outcome of :func:`skew_permutation_test` for one cut-off ``k``.

    Attributes
    ----------
    groups : tuple
        Group labels in the order of ``target`` (columns of ``skew``).
    k : int
        Cut-off.
    skew : ndarray of shape (n_rankings, n_groups)
        ``Skew_a@k`` of every ranking and group (absent groups use the floor share).
    max_skew, min_skew, ndkl : ndarray of shape (n_rankings,)
        Per-ranking ``MaxSkew@k``, ``MinSkew@k`` and ``NDKL`` over prefixes ``1..k``.
    absent : ndarray of shape (n_groups,)
        Number of rankings in whose top k each group does not appear.
    p_max_skew, p_min_skew, p_ndkl : float
        One-sided permutation p-values of the mean over rankings: mean MaxSkew this large,
        mean MinSkew this small, mean NDKL this large, under shuffled gallery labels.
    null_mean : dict of str to float
        Mean of each statistic (``"max_skew"``, ``"min_skew"``, ``"ndkl"``) under the null:
        what a ranking unrelated to the groups scores.
    n_permutations : int
        Null replicates drawn.
    floor : float
        Share used for a group absent from a top k.
    """

    groups: tuple[Hashable, ...]
    k: int
    skew: np.ndarray
    max_skew: np.ndarray
    min_skew: np.ndarray
    ndkl: np.ndarray
    absent: np.ndarray
    p_max_skew: float
    p_min_skew: float
    p_ndkl: float
    null_mean: dict[str, float]
    n_permutations: int
    floor: float


def _codes(gallery_groups: Sequence[Hashable], target: Mapping[Hashable, float]) -> np.ndarray:
    if isinstance(gallery_groups, (str, bytes)):
        raise TypeError("gallery_groups must be a sequence of group labels, not a string")
    labels = list(gallery_groups)
    if not labels:
        raise ValueError("gallery_groups is empty")
    order = {g: j for j, g in enumerate(target)}
    unknown = sorted({repr(g) for g in labels if g not in order})
    if unknown:
        raise ValueError(f"gallery holds group(s) {unknown} missing from target")
    return np.fromiter((order[g] for g in labels), dtype=np.int64, count=len(labels))


def _target(target: Mapping[Hashable, float]) -> np.ndarray:
    if not isinstance(target, Mapping) or not target:
        raise ValueError("target must be a non-empty mapping of group label -> probability")
    p = np.array([float(v) for v in target.values()], dtype=np.float64)
    if not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError("target probabilities must be finite and > 0")
    if abs(p.sum() - 1.0) > 1e-6:
        raise ValueError(f"target probabilities must sum to 1; they sum to {p.sum():.6g}")
    return p


def _stats(
    labels: np.ndarray, p_star: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Skew (..., m), NDKL (...) and presence (..., m) of label blocks of shape (..., k)."""
    m = p_star.size
    k = labels.shape[-1]
    onehot = labels[..., None] == np.arange(m)
    counts = onehot.sum(axis=-2)
    share = counts / k
    present = counts > 0
    with np.errstate(divide="ignore"):
        skew = np.log(np.where(present, share, floor) / p_star)
    ranks = np.arange(1, k + 1, dtype=np.float64)
    prefix = np.cumsum(onehot, axis=-2) / ranks[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(prefix > 0, prefix * np.log(prefix / p_star), 0.0)
    weights = 1.0 / np.log2(ranks + 1.0)
    ndkl = (terms.sum(axis=-1) * weights).sum(axis=-1) / weights.sum()
    return skew, ndkl, present


def skew_permutation_test(
    gallery_groups: Sequence[Hashable],
    rankings: ArrayLike,
    target: Mapping[Hashable, float],
    k: int,
    *,
    n_permutations: int = 2_000,
    eps: float | None = None,
    random_state: int | np.random.Generator | None = 0,
) -> SkewTestResult:
    """Skew metrics of many rankings of one gallery, with a label-permutation null.

    Parameters
    ----------
    gallery_groups : sequence of hashable
        Group label of every gallery item (row order of the gallery).
    rankings : array-like of int, shape (n_rankings, depth)
        Gallery row indices, best first (e.g. ``SearchResult.indices``); ``depth >= k``.
    target : mapping
        Desired distribution ``p*`` over the groups (every gallery label must be in it).
    k : int
        Cut-off, ``1 <= k <= depth``.
    n_permutations : int, default=2000
        Null replicates; 0 skips the test (p-values NaN).
    eps : float or None, default=None
        Share of a group absent from a top k: None uses ``1/k`` (Berg et al.'s
        convention, as :func:`skew_at_k`); ``0`` gives ``-inf``.
    random_state : int, Generator or None, default=0
        Seed of the label shuffles.

    Returns
    -------
    SkewTestResult
        Per-ranking metrics, absent counts, p-values and null means.

    Notes
    -----
    The null keeps each ranking and the gallery's group counts and shuffles which item
    carries which label, once per replicate for all rankings together (so dependence
    between rankings is kept). p-values use the +1 correction,
    ``(1 + #{null >= observed}) / (1 + n_permutations)``.
    """
    p_star = _target(target)
    codes = _codes(gallery_groups, target)
    ranks = np.asarray(rankings)
    if ranks.ndim != 2 or ranks.shape[0] == 0:
        raise ValueError(f"rankings must be a non-empty 2-D array; got shape {ranks.shape}")
    if ranks.dtype.kind not in "iu":
        raise TypeError(f"rankings must hold integer row indices; got dtype {ranks.dtype}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= ranks.shape[1]:
        raise ValueError(f"k must be an int in [1, {ranks.shape[1]}] (ranking depth); got {k!r}")
    if ranks.min() < 0 or ranks.max() >= codes.size:
        raise ValueError("rankings hold row indices outside the gallery (or -1 for empty slots)")
    if isinstance(n_permutations, bool) or n_permutations < 0:
        raise ValueError(f"n_permutations must be >= 0; got {n_permutations!r}")
    floor = 1.0 / k if eps is None else float(eps)
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"eps must be in [0, 1] or None; got {eps!r}")
    top = ranks[:, :k]
    skew, ndkl, present = _stats(codes[top], p_star, floor)
    observed = {
        "max_skew": float(skew.max(axis=1).mean()),
        "min_skew": float(skew.min(axis=1).mean()),
        "ndkl": float(ndkl.mean()),
    }
    rng = np.random.default_rng(random_state)
    null = {name: np.empty(n_permutations) for name in observed}
    block = max(1, _BLOCK_CELLS // (top.size * p_star.size))
    for start in range(0, n_permutations, block):
        b = min(block, n_permutations - start)
        shuffled = rng.permuted(np.broadcast_to(codes, (b, codes.size)), axis=1)
        s_b, n_b, _ = _stats(shuffled[:, top], p_star, floor)
        null["max_skew"][start : start + b] = s_b.max(axis=-1).mean(axis=-1)
        null["min_skew"][start : start + b] = s_b.min(axis=-1).mean(axis=-1)
        null["ndkl"][start : start + b] = n_b.mean(axis=-1)

    def p_value(name: str, larger: bool) -> float:
        if n_permutations == 0:
            return math.nan
        tol = 1e-12 * max(1.0, abs(observed[name]))
        if larger:
            hits = int(np.sum(null[name] >= observed[name] - tol))
        else:
            hits = int(np.sum(null[name] <= observed[name] + tol))
        return (1.0 + hits) / (1.0 + n_permutations)

    return SkewTestResult(
        groups=tuple(target),
        k=int(k),
        skew=skew,
        max_skew=skew.max(axis=1),
        min_skew=skew.min(axis=1),
        ndkl=ndkl,
        absent=(~present).sum(axis=0),
        p_max_skew=p_value("max_skew", True),
        p_min_skew=p_value("min_skew", False),
        p_ndkl=p_value("ndkl", True),
        null_mean={n: float(v.mean()) if v.size else math.nan for n, v in null.items()},
        n_permutations=int(n_permutations),
        floor=floor,
    )


@dataclass(frozen=True)
class GapTestResult:
    """Outcome of :func:`group_gap_test`.

    Attributes
    ----------
    means : ndarray of shape (n_groups,)
        Mean of each group's column.
    gap : float
        ``max(means) - min(means)``.
    p_value : float
        Share of within-row label permutations whose gap is at least ``gap``.
    method : str
        ``"exact"`` (every arrangement enumerated) or ``"sampled"``.
    n_permutations : int
        Arrangements compared.
    """

    means: np.ndarray
    gap: float
    p_value: float
    method: str
    n_permutations: int


def _gaps(values: np.ndarray) -> np.ndarray:
    means = values.mean(axis=-2)
    return means.max(axis=-1) - means.min(axis=-1)


def group_gap_test(
    values: ArrayLike,
    *,
    n_permutations: int = 5_000,
    exact_max: int = 50_000,
    random_state: int | np.random.Generator | None = 0,
) -> GapTestResult:
    """Permutation test of the best-minus-worst group gap of a paired per-query metric.

    Parameters
    ----------
    values : array-like of shape (n_queries, n_groups)
        One value per query and group (e.g. nDCG@10 of each query on each group's
        relevant items); no NaN.
    n_permutations : int, default=5000
        Random arrangements drawn when exact enumeration is too large.
    exact_max : int, default=50000
        Enumerate every arrangement when ``(n_groups!) ** n_queries <= exact_max``.
    random_state : int, Generator or None, default=0
        Seed of the sampled arrangements.

    Returns
    -------
    GapTestResult
        Group means, the gap, its one-sided p-value and the method used.

    Notes
    -----
    Null hypothesis: within each query, the group labels are exchangeable (the groups
    get the same quality). The exact p-value counts arrangements with a gap >= the
    observed one (the observed arrangement included); the sampled one is
    ``(1 + #{gap_i >= gap}) / (1 + n_permutations)``.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 2:
        raise ValueError(f"values must have shape (n_queries >= 1, n_groups >= 2); got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("values holds NaN or infinite entries; drop incomplete queries first")
    n, m = arr.shape
    observed = float(_gaps(arr))
    tol = 1e-12 * max(1.0, abs(observed))
    total = math.factorial(m) ** n
    if total <= exact_max:
        perms = np.array(list(itertools.permutations(range(m))))
        hits = 0
        rows = np.arange(n)[:, None]
        for combo in itertools.product(range(len(perms)), repeat=n):
            arranged = arr[rows, perms[list(combo)]]
            hits += int(_gaps(arranged) >= observed - tol)
        return GapTestResult(arr.mean(axis=0), observed, hits / total, "exact", total)
    rng = np.random.default_rng(random_state)
    block = max(1, _BLOCK_CELLS // arr.size)
    hits = 0
    for start in range(0, n_permutations, block):
        b = min(block, n_permutations - start)
        order = rng.random((b, n, m)).argsort(axis=-1)
        arranged = np.take_along_axis(np.broadcast_to(arr, (b, n, m)), order, axis=-1)
        hits += int(np.sum(_gaps(arranged) >= observed - tol))
    p = (1.0 + hits) / (1.0 + n_permutations)
    return GapTestResult(arr.mean(axis=0), observed, p, "sampled", int(n_permutations))


def cluster_bootstrap_ci(
    values: ArrayLike,
    clusters: Sequence[Hashable] | None = None,
    *,
    n_bootstrap: int = 1_000,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean, resampling whole clusters.

    Parameters
    ----------
    values : array-like of shape (n,)
        Per-unit values (e.g. MaxSkew@10 of each query).
    clusters : sequence of hashable or None
        Cluster of each value (e.g. the profession a query template was filled with);
        None treats every value as its own cluster.
    n_bootstrap : int, default=1000
        Resamples; 0 returns ``(nan, nan)``.
    confidence : float, default=0.95
        Interval level.
    random_state : int, Generator or None, default=0
        Seed.

    Returns
    -------
    tuple of float
        ``(low, high)`` of the mean over units (clusters weighted by their size).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError("values must be a non-empty array of finite numbers")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    if n_bootstrap == 0:
        return math.nan, math.nan
    keys = list(range(v.size)) if clusters is None else list(clusters)
    if len(keys) != v.size:
        raise ValueError(f"clusters has {len(keys)} labels for {v.size} values")
    index = {c: j for j, c in enumerate(dict.fromkeys(keys))}
    member = np.fromiter((index[c] for c in keys), dtype=np.int64, count=v.size)
    sums = np.bincount(member, weights=v, minlength=len(index))
    sizes = np.bincount(member, minlength=len(index)).astype(np.float64)
    rng = np.random.default_rng(random_state)
    draws = rng.multinomial(len(index), np.full(len(index), 1.0 / len(index)), size=n_bootstrap)
    means = (draws @ sums) / (draws @ sizes)
    alpha = 1.0 - confidence
    low, high = np.percentile(means, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)


def holm_bonferroni(p_values: ArrayLike) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, family-wise error control).

    Parameters
    ----------
    p_values : array-like of shape (m,)
        Raw p-values in [0, 1].

    Returns
    -------
    ndarray of shape (m,)
        ``p_adj(i) = max_{j <= i} min(1, (m - j + 1) p_(j))`` in the sorted order, returned
        in the input order; a hypothesis is rejected at level alpha when ``p_adj < alpha``.
    """
    p = np.asarray(p_values, dtype=np.float64).ravel()
    if p.size == 0:
        return p
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p_values must be finite numbers in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.maximum.accumulate(scaled)
    out = np.empty(m)
    out[order] = adjusted
    return out
