"""Rates with confidence intervals, and confusion counts, for the safety suite."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import norm


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n`` with a Wilson score interval (``None`` values when ``n == 0``)."""

    k: int
    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None


def wilson(k: int, n: int, confidence: float = 0.95) -> Rate:
    """Rate ``k / n`` with the Wilson score interval (Wilson 1927; Brown, Cai & DasGupta
    2001 recommend it over the normal interval for small ``n`` and rates near 0 or 1)."""
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return Rate(0, 0, None, None, None)
    z = float(norm.ppf(0.5 + confidence / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # at k = 0 or k = n the bound is exactly 0 or 1; rounding must not move it
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return Rate(k, n, p, low, high)


@dataclass(frozen=True)
class Confusion:
    """Confusion counts of a binary decision (positive = unsafe / not allowed)."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float | None:
        """tp / (tp + fp); ``None`` when nothing was predicted positive."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> Rate:
        """tp / (tp + fn) with its Wilson interval."""
        return wilson(self.tp, self.tp + self.fn)

    @property
    def fpr(self) -> Rate:
        """fp / (fp + tn) with its Wilson interval."""
        return wilson(self.fp, self.fp + self.tn)

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall (``None`` when undefined)."""
        p, r = self.precision, self.recall.value
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)

    def as_dict(self) -> dict[str, int]:
        """The four counts."""
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn}


def confusion(truth: Sequence[bool], predicted: Sequence[bool]) -> Confusion:
    """Confusion counts of ``predicted`` against ``truth`` (same length)."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} labels but {len(predicted)} predictions")
    pairs = list(zip((bool(t) for t in truth), (bool(p) for p in predicted), strict=True))
    return Confusion(
        tp=sum(t and p for t, p in pairs),
        fp=sum(p and not t for t, p in pairs),
        fn=sum(t and not p for t, p in pairs),
        tn=sum(not t and not p for t, p in pairs),
    )
