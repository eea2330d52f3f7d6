"""The planning embedder of a dry run: counts what a backend would be sent, sends nothing.

:class:`PlanningEmbedder` sits where the backend sits in the chain (under the read-only
cache). Its ``embed`` asks the backend's ``plan_usage`` what the call would cost (hosted
backends; local ones only get their items counted), adds that to a shared
:class:`Ledger`, and returns deterministic placeholder vectors so the suites run through.

Two totals are kept, because the cache changes what a real run sends: ``unique`` counts
each (fingerprint, modality, content, purpose) once, as a run with an embedding cache
sends it once and then serves it from the cache; ``every`` counts every call, as a run
without a cache (``--no-cache``) sends it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from audit.cache import cache_key
from audit.embedders._wrapper import EmbedderWrapper, served_dims_of, unwrap
from audit.embedders.base import (
    BaseEmbedder,
    DifferentiablePath,
    Embedder,
    Purpose,
    SupportsAtDim,
    SupportsDifferentiable,
    SupportsUsagePlanning,
    check_request,
    l2_normalize,
    truncate,
)
from audit.items import Item, ItemLimits, validate_items

log = logging.getLogger(__name__)

#: Counters a plan adds up (the planned fields of ``audit.embedders._usage.UsageCounts``;
#: retries, throttles and polls depend on the service and are not planned).
PLANNED_FIELDS: tuple[str, ...] = (
    "requests",
    "async_jobs",
    "text_chars",
    "images",
    "media_seconds",
    "bytes_sent",
)


def _zero() -> dict[str, float]:
    return dict.fromkeys(PLANNED_FIELDS, 0.0)


@dataclass
class Ledger:
    """What a planning embedder and its per-size siblings counted (thread-safe).

    Attributes
    ----------
    hosted : bool
        Whether the backend has ``plan_usage`` (a hosted API that bills requests).
    unique, every : dict of str to float
        Planned counters over first-seen items (a cached run) and over every call
        (an uncached run).
    items : dict
        ``modality -> purpose -> count`` of first-seen items.
    repeats : int
        Items embedded again in the run (a cache serves them after their first time).
    """

    hosted: bool
    unique: dict[str, float] = field(default_factory=_zero)
    every: dict[str, float] = field(default_factory=_zero)
    items: dict[str, dict[str, int]] = field(default_factory=dict)
    repeats: int = 0
    seen: set[str] = field(default_factory=set, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, target: dict[str, float], counts: Any) -> None:
        """Add a ``UsageCounts`` (or a mapping of counter names) to ``target``."""
        values = counts if isinstance(counts, dict) else asdict(counts)
        with self.lock:
            for name in PLANNED_FIELDS:
                target[name] += float(values.get(name, 0) or 0)


def placeholder_vectors(items: Sequence[Item], dim: int) -> np.ndarray:
    """Deterministic unit vectors, one per item, from a hash of its modality and content.

    The same item always gets the same vector, so repeated embeddings agree; the values
    mean nothing (a dry run measures what would be sent, not how well it retrieves).
    """
    out = np.empty((len(items), dim), dtype=np.float32)
    for i, it in enumerate(items):
        digest = hashlib.sha256(f"{it.modality}\x1f{it.content_sha256()}".encode()).digest()
        out[i] = np.random.default_rng(int.from_bytes(digest[:8], "little")).normal(size=dim)
    return l2_normalize(out)


class PlanningEmbedder(EmbedderWrapper):
    """An Embedder that plans: counts the backend's would-be usage and sends nothing.

    Parameters
    ----------
    backend : Embedder
        The backend a real run would call. Its ``plan_usage(items, *, purpose, dim)``
        is used when it has one; otherwise the items are only counted per modality
        (a local model sends no requests).
    ledger : Ledger, optional
        Shared with the per-size siblings (:meth:`at_dim`); a new one by default.

    Notes
    -----
    The planner is a ``terminal`` wrapper: it stands in for the backend, so
    :func:`~audit.embedders.chain` ends here and ``unwrap(embedder)`` (what suites use to
    reach "the backend", e.g. to time it) returns the planner, never the backend: a dry
    run sends no real request. Besides the identity and ``describe``, the planner passes
    on only what sends nothing: ``served_dims``/``at_dim`` (as planning siblings), the
    backend's item ``limits`` and its white-box ``differentiable`` path (local compute).
    """

    terminal = True

    def __init__(self, backend: Embedder, *, ledger: Ledger | None = None) -> None:
        super().__init__(backend)
        self.ledger = (
            ledger
            if ledger is not None
            else Ledger(hosted=isinstance(backend, SupportsUsagePlanning))
        )
        self._siblings: dict[int, PlanningEmbedder] = {}

    @property
    def backend(self) -> Embedder:
        """The planned backend (never called to embed)."""
        return self.base

    @property
    def limits(self) -> ItemLimits:
        """The backend's item limits (a dry run refuses what a real run would)."""
        return self.base.limits if isinstance(self.base, BaseEmbedder) else ItemLimits()

    def differentiable(self, modality: str) -> DifferentiablePath:
        """The backend's white-box path (local computation; nothing is sent)."""
        if not isinstance(self.base, SupportsDifferentiable):
            raise NotImplementedError(f"{self.name} has no differentiable {modality} path")
        return self.base.differentiable(modality)

    def at_dim(self, dim: int) -> PlanningEmbedder:
        """The planning sibling of the backend's sibling that requests ``dim``."""
        if dim == self.dim:
            return self
        if not isinstance(self.base, SupportsAtDim):
            raise AttributeError(f"{self.name} serves no other size than {self.dim}")
        sibling = self._siblings.get(int(dim))
        if sibling is None:
            sibling = PlanningEmbedder(self.base.at_dim(int(dim)), ledger=self.ledger)
            self._siblings[int(dim)] = sibling
        return sibling

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Plan the call and return placeholder vectors of the right shape.

        Raises
        ------
        BadItemsError
            For items the backend would refuse (unsupported modality, invalid content),
            exactly as a real run would.
        """
        items = list(items)
        check_request(self, items, purpose, dim)
        if dim is not None and dim != self.dim and dim in served_dims_of(self.base):
            return self.at_dim(int(dim)).embed(items, purpose=purpose)
        validate_items(items, self.limits)
        fresh = self._first_seen(items, purpose)
        self._count(items, fresh, purpose, dim)
        return truncate(placeholder_vectors(items, self.dim), dim, self.dim)

    def _first_seen(self, items: list[Item], purpose: str) -> list[Item]:
        """Items not embedded before in this run (what a cache would not yet hold)."""
        fp = self.fingerprint
        fresh: list[Item] = []
        with self.ledger.lock:
            for it in items:
                key = cache_key(fp, it, purpose)
                if key in self.ledger.seen:
                    self.ledger.repeats += 1
                    continue
                self.ledger.seen.add(key)
                fresh.append(it)
                per = self.ledger.items.setdefault(it.modality, {})
                per[purpose] = per.get(purpose, 0) + 1
        return fresh

    def _count(self, items: list[Item], fresh: list[Item], purpose: str, dim: int | None) -> None:
        if not self.ledger.hosted or not items:
            return
        if not isinstance(self.base, SupportsUsagePlanning):  # hosted implies planning
            return
        plan = self.base.plan_usage
        every = plan(items, purpose=purpose, dim=dim)
        self.ledger.add(self.ledger.every, every)
        if len(fresh) == len(items):
            self.ledger.add(self.ledger.unique, every)
        elif fresh:
            self.ledger.add(self.ledger.unique, plan(fresh, purpose=purpose, dim=dim))


def find_planner(embedder: Embedder) -> PlanningEmbedder | None:
    """The planning embedder in a composed chain, or None."""
    return unwrap(embedder, PlanningEmbedder)
