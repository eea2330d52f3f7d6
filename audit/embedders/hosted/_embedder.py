"""The hosted-backend base: one driver for every service a request goes to.

A hosted backend (Bedrock, Gemini, Vertex AI, ...) subclasses :class:`HostedEmbedder` and
implements a few hooks; the base owns the rest, the same for every service:

- ``_set_dim(dim)``: the model's sizes, modalities and ``params`` (the fingerprint) at
  one size the service serves; :meth:`HostedEmbedder.at_dim` builds size siblings with it.
- ``_requests(items, purpose, record=...)``: the request bodies for a batch, built
  offline (``record=False`` when planning: no notes).
- ``_send(request)``: one request through the transport (retries included).
- ``_parse(request, answer, items)``: ``(item position, piece)`` pairs of an answer.
- ``_pool(items, pieces)``: one raw row per item from its pieces (pages, segments).

The base checks the budget before a batch is sent, runs the requests on the transport's
thread pool, keeps answers paid for when a batch fails (the error carries the finished
rows), counts usage, and plans (:meth:`HostedEmbedder.plan_usage` counts the very
requests ``embed`` would send, so a dry run's counts equal a fault-free run's).
"""

from __future__ import annotations

import copy
import threading
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np

from audit.embedders._usage import Usage, UsageCounts
from audit.embedders.base import (
    BaseEmbedder,
    Purpose,
    keep_finished,
)
from audit.embedders.hosted._calls import CallFailure, RetryingTransport, batch_error
from audit.items import Item


class HostedRequest(Protocol):
    """What the base reads from a backend's request.

    Attributes
    ----------
    label : str
        Item id(s) it carries, for errors and logs.
    size : int
        Body bytes as sent (the ``bytes_sent`` unit).
    units : mapping of str to number
        Content counters added once its answer arrives (``text_chars``, ``images``,
        ``media_seconds``).
    async_job : bool
        Whether it starts an asynchronous job (planned as one ``async_jobs``).
    """

    label: str
    units: Mapping[str, float]

    @property
    def size(self) -> int: ...

    @property
    def async_job(self) -> bool: ...


@dataclass
class Shared:
    """State an embedder shares with its per-size siblings.

    Attributes
    ----------
    transport : RetryingTransport
        Retry loop, budget and thread pool.
    notes : dict
        Per-item notes (text over a limit, pages left out, service truncation).
    extra : dict
        Backend state shared the same way (a client, a length report).
    """

    transport: RetryingTransport
    notes: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    siblings: dict[int, HostedEmbedder] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class HostedEmbedder(BaseEmbedder):
    """Base class for embedders served over the network; see the module docstring.

    Subclasses call :meth:`_start` in ``__init__`` with their transport, then
    ``_set_dim``. The one class attribute to choose is ``whole_call``: ``True`` embeds
    a whole ``embed`` call as one batch (one budget check for the call), ``False`` in the
    base's per-modality batches of ``batch_size``.
    """

    #: One batch per ``embed`` call (budget checked for the whole call) or per chunk.
    whole_call: ClassVar[bool] = False
    #: The sizes the service computes itself (``at_dim`` requests them).
    dims: tuple[int, ...] = ()

    _shared: Shared

    def _start(self, transport: RetryingTransport, **extra: Any) -> None:
        """Create the state shared with size siblings."""
        self._shared = Shared(transport, extra=dict(extra))

    # -- hooks ------------------------------------------------------------------------
    @abstractmethod
    def _set_dim(self, dim: int) -> None:
        """Set ``dim``, ``matryoshka_dims``, ``modalities`` and ``params`` for ``dim``."""

    @abstractmethod
    def _requests(self, items: list[Item], purpose: str, *, record: bool) -> list[Any]:
        """The requests (:class:`HostedRequest`) that embed ``items``, built offline."""

    @abstractmethod
    def _send(self, request: Any) -> Any:
        """Send one request (retries included) and return the service's answer."""

    @abstractmethod
    def _parse(self, request: Any, answer: Any, items: list[Item]) -> list[tuple[int, Any]]:
        """``(item position, piece)`` pairs of one answer, in the request's order."""

    @abstractmethod
    def _pool(self, items: list[Item], pieces: Mapping[int, list[Any]]) -> np.ndarray:
        """Raw ``(len(items), dim)`` rows; only the rows of positions in ``pieces`` count."""

    @abstractmethod
    def _call_error(self, failures: list[CallFailure]) -> BaseException:
        """The backend's error for requests that failed for good."""

    def _chunks(self, items: list[Item]) -> list[tuple[str, list[int]]]:
        """``(modality, positions)`` batches: the base's, or one for a ``whole_call`` service."""
        if self.whole_call:
            return [("mixed", list(range(len(items))))]
        return super()._chunks(items)

    def _before_send(self, items: list[Item], requests: list[Any]) -> None:
        """Record notes and reports once the budget allows the batch (default: none)."""

    def _connect(self) -> None:
        """Build the client before requests go out, so a setup error is raised once."""

    def _room_label(self, modality: str, items: list[Item]) -> str:
        """How a budget error names the batch it refused."""
        return f"embedding {len(items)} item(s)"

    # -- public API -------------------------------------------------------------------
    @property
    def notes(self) -> dict[str, list[str]]:
        """Per-item notes: text over a limit, service truncation, content left out."""
        return self._shared.notes

    @property
    def usage(self) -> dict[str, int | float | None]:
        """Request and cost counters so far (shared with siblings), and ``max_requests``."""
        return self._shared.transport.usage.as_dict()

    @property
    def served_dims(self) -> tuple[int, ...]:
        """Sizes the service computes itself (requested, never truncated client-side)."""
        return self.dims

    def at_dim(self, dim: int) -> HostedEmbedder:
        """The sibling embedder that requests ``dim`` from the service.

        It shares this one's client, thread pool, budget and notes; its fingerprint
        includes ``dim``, so a cache keeps its answers apart from other sizes'.
        """
        if dim == self.dim:
            return self
        with self._shared.lock:
            sibling = self._shared.siblings.get(int(dim))
            if sibling is None:
                sibling = copy.copy(self)
                sibling._set_dim(dim)
                self._shared.siblings[int(dim)] = sibling
        return sibling

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Embed ``items`` in order; a ``dim`` the service serves is requested, not truncated.

        See :meth:`audit.embedders.base.BaseEmbedder.embed` for the contract; whatever
        the error, it carries the rows finished before it.
        """
        sibling = self._sibling_for(dim)
        if sibling is not None:
            return sibling.embed(items, purpose=purpose)
        return super().embed(items, purpose=purpose, dim=dim)

    def plan_usage(
        self, items: Sequence[Item], *, purpose: str = "index", dim: int | None = None
    ) -> UsageCounts:
        """What :meth:`embed` would send for ``items``, counted without sending anything.

        The same checks, batches and request bodies as ``embed`` are built locally (no
        client, no credentials), then counted: the counters equal those of a run in which
        every request succeeds at its first attempt. Not planned, because they depend on
        the service: ``retries``, ``throttles`` and ``polls`` of asynchronous jobs.

        Raises
        ------
        BadItemsError, ValueError
            Exactly when ``embed`` would refuse the items before sending.
        """
        sibling = self._sibling_for(dim)
        if sibling is not None:
            return sibling.plan_usage(items, purpose=purpose)
        items = list(items)
        self._check(items, purpose, dim)
        usage = Usage()
        for _, idx in self._chunks(items):
            for req in self._requests([items[i] for i in idx], purpose, record=False):
                usage.take_request(req.label, req.size, retry=False)
                usage.add(**req.units, async_jobs=int(req.async_job))
        counts = usage.snapshot()
        counts.media_seconds = round(counts.media_seconds, 3)
        return counts

    def close(self) -> None:
        """Release the request thread pool."""
        self._shared.transport.close()

    # -- the driver -------------------------------------------------------------------
    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        requests = self._requests(items, purpose, record=True)
        transport = self._shared.transport
        transport.usage.check_room(len(requests), self._room_label(modality, items))
        self._before_send(items, requests)
        self._connect()
        results = transport.map(lambda req: self._answer(req, items), requests)
        pieces: dict[int, list[Any]] = {}
        unanswered: set[int] = set()
        for req, answer in zip(requests, results, strict=True):
            if isinstance(answer, BaseException):
                unanswered.update(self._positions(req, items))
                continue
            for position, piece in answer:
                pieces.setdefault(position, []).append(piece)
        error = batch_error(results, self._call_error)
        if error is None:
            return self._pool(items, pieces)
        # Answers paid for survive the failure: an item whose every request was answered
        # leaves with the error (raw rows; ``run_batches`` finishes them), and a cache
        # keeps it.
        done = sorted(set(pieces) - unanswered)
        if done:
            rows = self._pool(items, {i: pieces[i] for i in done})
            keep_finished(error, items, done, rows[done])
        raise error

    def _answer(self, req: Any, items: list[Item]) -> list[tuple[int, Any]]:
        answer = self._send(req)
        self._shared.transport.usage.add(**req.units)  # billed once an answer arrives
        return self._parse(req, answer, items)

    def _positions(self, req: Any, items: list[Item]) -> Sequence[int]:
        return req.positions

    def _sibling_for(self, dim: int | None) -> HostedEmbedder | None:
        """The sibling that requests ``dim``, when the service serves it below ``self.dim``."""
        if dim is not None and dim != self.dim and dim in self.dims and dim < self.dim:
            return self.at_dim(int(dim))
        return None

    def _note(self, item_id: str, note: str) -> None:
        with self._shared.lock:
            notes = self._shared.notes.setdefault(item_id, [])
            if note not in notes:
                notes.append(note)


def ids_text(ids: Sequence[str], limit: int = 10) -> str:
    """``a, b, c and 7 more``: item ids for a log line."""
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more
