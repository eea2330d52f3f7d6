"""Group-representation metrics of a ranking (Geyik, Ambler, Kenthapadi, KDD 2019).

For a ranked list of group labels ``tau`` (best first) and a desired distribution ``p*``:

- ``Skew_a@k = ln(p_{tau,k}(a) / p*(a))`` with ``p_{tau,k}(a)`` the share of ``a`` in the
  top ``k``; ``MaxSkew@k`` / ``MinSkew@k`` are the max / min over the groups of ``p*``.
- ``NDKL(tau) = (1/Z) sum_{i=1..K} KL(D_{tau,i} || p*) / log2(i + 1)``, with
  ``Z = sum_{i=1..K} 1 / log2(i + 1)`` and ``D_{tau,i}`` the group shares of the top ``i``.

A group of ``p*`` absent from the top ``k`` has share 0 and ``ln 0 = -inf``. By default
its share is replaced by ``1/k`` (as if one item were present; the convention of Berg et
al.'s code), so Skew stays finite; ``eps`` sets another floor, and ``eps=0`` keeps the
exact ``-inf``. NDKL needs no smoothing (``0 ln 0 = 0``). Natural logarithms throughout.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence

import numpy as np

__all__ = [
    "LargeKWarning",
    "max_skew_at_k",
    "min_skew_at_k",
    "ndkl",
    "proportional_target",
    "skew_at_k",
    "uniform_target",
]

# Warn when the cut-off covers more than this share of the ranked list: the top-k
# distribution then approaches the gallery's own and MaxSkew tends to 0.
LARGE_K_FRACTION = 0.5
_SUM_TOL = 1e-6


class LargeKWarning(UserWarning):
    """The cut-off ``k`` covers most of the ranked list, so Skew@k says little."""


def _check_ranked(ranked_groups: Sequence[Hashable]) -> list[Hashable]:
    if isinstance(ranked_groups, (str, bytes)):
        raise TypeError("ranked_groups must be a sequence of group labels, not a string")
    labels = list(ranked_groups)
    if not labels:
        raise ValueError("ranked_groups is empty: it needs at least one ranked item")
    return labels


def _check_target(
    target: Mapping[Hashable, float], labels: Sequence[Hashable]
) -> dict[Hashable, float]:
    if not isinstance(target, Mapping) or not target:
        raise ValueError("target must be a non-empty mapping of group label -> probability")
    probs = {}
    for label, prob in target.items():
        p = float(prob)
        if not math.isfinite(p) or p <= 0.0:
            raise ValueError(f"target probability of group {label!r} must be > 0; got {prob!r}")
        probs[label] = p
    total = sum(probs.values())
    if abs(total - 1.0) > _SUM_TOL:
        raise ValueError(f"target probabilities must sum to 1; they sum to {total:.6g}")
    unknown = [g for g in dict.fromkeys(labels) if g not in probs]
    if unknown:
        raise ValueError(
            f"ranked_groups holds group(s) {unknown!r} missing from target; "
            "give every group a desired probability"
        )
    return probs


def _check_k(k: object, n: int, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {type(k).__name__}")
    if not 1 <= k <= n:
        raise ValueError(f"{name} must satisfy 1 <= {name} <= len(ranked_groups) = {n}; got {k}")
    return int(k)


def uniform_target(gallery_groups: Sequence[Hashable]) -> dict[Hashable, float]:
    """Uniform desired distribution over the groups present in the gallery.

    Parameters
    ----------
    gallery_groups : sequence of hashable
        Group label of every gallery item (any order).

    Returns
    -------
    dict
        ``{label: 1 / n_groups}`` in order of first occurrence.
    """
    labels = list(dict.fromkeys(_check_ranked(gallery_groups)))
    return {label: 1.0 / len(labels) for label in labels}


def proportional_target(gallery_groups: Sequence[Hashable]) -> dict[Hashable, float]:
    """Desired distribution equal to the gallery's own group proportions.

    Parameters
    ----------
    gallery_groups : sequence of hashable
        Group label of every gallery item (any order).

    Returns
    -------
    dict
        ``{label: count / n_items}`` in order of first occurrence.
    """
    labels = _check_ranked(gallery_groups)
    counts = Counter(labels)
    return {label: counts[label] / len(labels) for label in dict.fromkeys(labels)}


def skew_at_k(
    ranked_groups: Sequence[Hashable],
    target: Mapping[Hashable, float],
    k: int,
    *,
    eps: float | None = None,
) -> dict[Hashable, float]:
    """Skew of every group of ``target`` in the top ``k`` of a ranking.

    Parameters
    ----------
    ranked_groups : sequence of hashable
        Group label of each ranked item, best first.
    target : mapping
        Desired distribution ``p*``: label -> probability (> 0, summing to 1). Every label
        of ``ranked_groups`` must be in it.
    k : int
        Cut-off, ``1 <= k <= len(ranked_groups)``. A ``LargeKWarning`` is issued when
        ``k`` exceeds half the list (Skew then tends to 0).
    eps : float or None, default=None
        Share used for a group absent from the top ``k``. None: ``1/k`` (one item's
        share, as in Berg et al.'s code); a float in [0, 1]: that share (0 gives -inf).

    Returns
    -------
    dict
        ``{label: ln(p_{tau,k}(label) / p*(label))}`` for each label of ``target``.
    """
    labels = _check_ranked(ranked_groups)
    probs = _check_target(target, labels)
    k = _check_k(k, len(labels))
    if eps is not None and not 0.0 <= float(eps) <= 1.0:
        raise ValueError(f"eps must be in [0, 1] or None; got {eps!r}")
    if k > LARGE_K_FRACTION * len(labels) and len(labels) > 1:
        warnings.warn(
            f"k={k} covers more than {LARGE_K_FRACTION:.0%} of the {len(labels)} ranked items;"
            " Skew@k tends to 0 there, choose k well under the gallery size",
            LargeKWarning,
            stacklevel=2,
        )
    floor = 1.0 / k if eps is None else float(eps)
    counts = Counter(labels[:k])
    out: dict[Hashable, float] = {}
    for label, p_star in probs.items():
        share = counts[label] / k if counts[label] else floor
        out[label] = math.log(share / p_star) if share > 0.0 else -math.inf
    return out


def max_skew_at_k(
    ranked_groups: Sequence[Hashable],
    target: Mapping[Hashable, float],
    k: int,
    *,
    eps: float | None = None,
) -> float:
    """``MaxSkew@k``: the largest :func:`skew_at_k` over the groups of ``target``.

    Parameters and the handling of absent groups are those of :func:`skew_at_k`.

    Returns
    -------
    float
        The most over-represented group's skew (always >= 0: some share reaches p*).
    """
    return max(skew_at_k(ranked_groups, target, k, eps=eps).values())


def min_skew_at_k(
    ranked_groups: Sequence[Hashable],
    target: Mapping[Hashable, float],
    k: int,
    *,
    eps: float | None = None,
) -> float:
    """``MinSkew@k``: the smallest :func:`skew_at_k` over the groups of ``target``.

    Parameters and the handling of absent groups are those of :func:`skew_at_k`.

    Returns
    -------
    float
        The most under-represented group's skew (<= 0 when ``eps=0``; the floor of an
        absent group can lift it above 0 for very small ``k``).
    """
    return min(skew_at_k(ranked_groups, target, k, eps=eps).values())


def ndkl(
    ranked_groups: Sequence[Hashable],
    target: Mapping[Hashable, float],
    k: int | None = None,
) -> float:
    """Normalised discounted KL divergence of a ranking from ``target``.

    Parameters
    ----------
    ranked_groups : sequence of hashable
        Group label of each ranked item, best first.
    target : mapping
        Desired distribution ``p*`` (as in :func:`skew_at_k`).
    k : int or None, default=None
        Prefixes ``1..k`` are averaged; None uses the whole list.

    Returns
    -------
    float
        ``NDKL >= 0``; 0 only when every prefix has exactly the target shares.
    """
    labels = _check_ranked(ranked_groups)
    probs = _check_target(target, labels)
    k = len(labels) if k is None else _check_k(k, len(labels))
    order = {label: j for j, label in enumerate(probs)}
    p_star = np.fromiter(probs.values(), dtype=np.float64, count=len(probs))
    onehot = np.zeros((k, len(probs)))
    onehot[np.arange(k), [order[g] for g in labels[:k]]] = 1.0
    ranks = np.arange(1, k + 1, dtype=np.float64)
    shares = np.cumsum(onehot, axis=0) / ranks[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(shares > 0.0, shares * np.log(shares / p_star), 0.0)
    kl = terms.sum(axis=1)
    weights = 1.0 / np.log2(ranks + 1.0)
    return float((kl * weights).sum() / weights.sum())
