"""Embedding latency and throughput per modality, measured so that a warm cache cannot fake it.

A run's embedding cache serves repeated items in microseconds, so timing the suite's own
embed calls would measure the cache on every run after the first. Instead a small sample
of items per (modality, purpose) is embedded by the embedder *under* the cache, after a
one-item warm-up (model loading is not latency). The suite's own calls are also timed,
with the cache hits and misses they had, and recorded in the details as "observed".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit.embedders import Embedder, unwrap
from audit.items import Item

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LatencySample:
    """One timed embed call.

    Attributes
    ----------
    modality, purpose : str
        What was embedded (``purpose`` is ``"index"`` for corpus items, ``"query"``).
    n_items : int
        Items in the timed call.
    seconds : float
        Wall time of the call.
    timed : str
        Which embedder was timed (e.g. the backend with the cache bypassed).
    sources : list of str
        Datasets the sample was drawn from.
    warmup_reused : bool
        True when the pool had one item, so the warm-up item was also timed.
    """

    modality: str
    purpose: str
    n_items: int
    seconds: float
    timed: str
    sources: list[str]
    warmup_reused: bool

    @property
    def ms_per_item(self) -> float:
        """Mean wall time per item in milliseconds."""
        return self.seconds / self.n_items * 1000.0

    @property
    def items_per_s(self) -> float:
        """Items per second in one batched call."""
        return self.n_items / self.seconds if self.seconds > 0 else float("inf")


def uncached(embedder: Embedder) -> tuple[Embedder, str]:
    """The embedder to time: the one under the first embedding cache in the chain.

    Returns
    -------
    (embedder, description) : tuple
        What is timed and how to describe it in the report.
    """
    from audit.cache import CachedEmbedder

    cache = unwrap(embedder, CachedEmbedder)
    if cache is None:
        return embedder, "embedder as composed (no embedding cache in the chain)"
    if cache is embedder:
        return cache.base, "embedder under the cache (cache bypassed)"
    return cache.base, (
        "embedder under the cache (cache bypassed; wrappers above the cache not timed)"
    )


def measure_latency(
    embedder: Embedder,
    pools: Mapping[tuple[str, str], Sequence[tuple[str, Item]]],
    n_items: int,
    rng: np.random.Generator,
) -> list[LatencySample]:
    """Time one batched embed call per (modality, purpose) pool on a random sample.

    Parameters
    ----------
    embedder : Embedder
        The variant to time; its embedding cache, if any, is bypassed.
    pools : mapping
        ``(modality, purpose) -> [(dataset name, item), ...]`` to sample from.
    n_items : int
        Items per timed call (fewer when the pool is smaller).
    rng : numpy.random.Generator
        Picks the warm-up item and the sample.

    Returns
    -------
    list of LatencySample
    """
    target, timed = uncached(embedder)
    out = []
    for (modality, purpose), pool in sorted(pools.items()):
        if modality not in target.modalities or not pool:
            continue
        order = rng.permutation(len(pool))
        warm = pool[int(order[0])][1]
        picked = [pool[int(i)] for i in order[1 : 1 + n_items]] or [pool[int(order[0])]]
        # Warm-up: lazy model loading and first-call setup are not per-item latency.
        target.embed([warm], purpose=purpose)  # type: ignore[arg-type]
        start = time.perf_counter()
        target.embed([it for _, it in picked], purpose=purpose)  # type: ignore[arg-type]
        seconds = time.perf_counter() - start
        sample = LatencySample(
            modality=modality,
            purpose=purpose,
            n_items=len(picked),
            seconds=seconds,
            timed=timed,
            sources=sorted({name for name, _ in picked}),
            warmup_reused=len(pool) == 1,
        )
        log.info(
            "latency %s/%s: %.1f ms/item over %d item(s)",
            modality,
            purpose,
            sample.ms_per_item,
            sample.n_items,
        )
        out.append(sample)
    return out


class CallTimer:
    """Times an embedder's calls and reads the cache's hit/miss counters around them."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.seconds: dict[str, float] = {}
        self.items: dict[str, int] = {}
        self.hits = 0
        self.misses = 0

    def embed(self, label: str, items: Sequence[Item], purpose: str, dim: int | None = None) -> Any:
        """``embedder.embed`` timed under ``label``."""
        hits0, misses0 = self._counters()
        start = time.perf_counter()
        vecs = self.embedder.embed(items, purpose=purpose, dim=dim)  # type: ignore[arg-type]
        self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start
        self.items[label] = self.items.get(label, 0) + len(items)
        hits1, misses1 = self._counters()
        self.hits += hits1 - hits0
        self.misses += misses1 - misses0
        return vecs

    def _counters(self) -> tuple[int, int]:
        # The embedding cache in the chain counts hits and misses.
        from audit.cache import CachedEmbedder

        cache = unwrap(self.embedder, CachedEmbedder)
        return (cache.hits, cache.misses) if cache is not None else (0, 0)

    def describe(self) -> dict[str, Any]:
        """The "observed" block of the report's details."""
        from audit.cache import CachedEmbedder

        has_cache = unwrap(self.embedder, CachedEmbedder) is not None
        return {
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
            "items": dict(self.items),
            "cache_hits": self.hits if has_cache else None,
            "cache_misses": self.misses if has_cache else None,
        }
