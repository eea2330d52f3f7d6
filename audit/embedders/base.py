"""The Embedder protocol every backend and wrapper implements, and a base class for backends.

A backend subclasses :class:`BaseEmbedder` and implements one hook, ``_embed_batch``; the
base owns validation, batching, the progress bar, output checks (shape, NaN, zero rows),
L2 normalisation and Matryoshka truncation, so every backend behaves the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

from audit.items import BadItemsError, Item, ItemError, ItemLimits, validate_items

if TYPE_CHECKING:
    import torch

Purpose = Literal["index", "query"]
PURPOSES: tuple[str, ...] = ("index", "query")

log = logging.getLogger(__name__)


class EmbeddingError(RuntimeError):
    """A backend returned unusable vectors (wrong shape, NaN/inf, all-zero rows)."""


@dataclass(frozen=True)
class DifferentiablePath:
    """White-box access for attacks.

    Attributes
    ----------
    module : torch.nn.Module
        Maps a batch tensor (images: NCHW in [0, 1]; audio: N x samples) to L2-normalised
        embeddings of the embedder's native size.
    to_tensor : callable
        Turns one :class:`~audit.items.Item` into the 1 x ... tensor ``module`` accepts.
    """

    module: torch.nn.Module
    to_tensor: Callable[[Item], torch.Tensor]


@runtime_checkable
class Embedder(Protocol):
    """What a suite needs from an embedding model (backend or wrapper).

    Attributes
    ----------
    name : str
        Human-readable model name.
    modalities : frozenset of str
        The modalities ``embed`` accepts.
    dim : int
        Native embedding size.
    matryoshka_dims : tuple of int
        Sizes that are trained truncations (empty for a non-MRL model; truncation to any
        size is still allowed and reported as untrained).
    """

    name: str
    modalities: frozenset[str]
    dim: int
    matryoshka_dims: tuple[int, ...]

    @property
    def fingerprint(self) -> str:
        """Cache-key id: changes whenever the vectors could (weights, output options).

        :class:`BaseEmbedder` derives it from name, weight hashes and params; a wrapper
        that does not change vectors returns its base's, one that does adds to it.
        """
        ...

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Return float32 (n, dim) L2-normalised rows, one per item, in order."""
        ...


# Optional abilities. Each is a small runtime-checkable Protocol: code that needs one asks
# ``isinstance(emb, SupportsX)`` (or finds the layer that has it with
# ``audit.embedders.unwrap``) instead of probing attribute names.


@runtime_checkable
class Describable(Protocol):
    """An embedder that describes itself for the report (weights, params, usage, ...)."""

    def describe(self) -> dict[str, Any]:
        """JSON-ready description; see :meth:`BaseEmbedder.describe`."""
        ...


@runtime_checkable
class SupportsDifferentiable(Protocol):
    """An embedder with a white-box path for gradient attacks (may still raise
    ``NotImplementedError`` for a modality it has no path for)."""

    def differentiable(self, modality: str) -> DifferentiablePath:
        """The differentiable path of ``modality``."""
        ...


@runtime_checkable
class SupportsServedDims(Protocol):
    """An embedder that computes some smaller sizes itself (Nova's and Vertex's MRL sizes):
    ``embed(dim=d)`` for ``d`` in ``served_dims`` asks the model, it does not truncate."""

    @property
    def served_dims(self) -> tuple[int, ...]:
        """The sizes asked of the model rather than truncated client-side."""
        ...


@runtime_checkable
class SupportsAtDim(Protocol):
    """An embedder whose served sizes are siblings: ``at_dim(d)`` embeds at ``d`` natively,
    with its own fingerprint (so a cache keys each size apart)."""

    def at_dim(self, dim: int) -> Embedder:
        """The sibling whose native size is ``dim`` (``self`` when ``dim == self.dim``)."""
        ...


@runtime_checkable
class SupportsItemLimits(Protocol):
    """An embedder that refuses items beyond these limits (text length, image size, ...)
    before sending anything; :class:`BaseEmbedder` has them."""

    limits: ItemLimits


@runtime_checkable
class SupportsUsagePlanning(Protocol):
    """A hosted backend that can say what a call would send without sending it."""

    def plan_usage(
        self, items: Sequence[Item], *, purpose: str = "index", dim: int | None = None
    ) -> Any:
        """The ``UsageCounts`` (requests, characters, images, ...) ``embed`` would send."""
        ...


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation in float32 (rows must be non-zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / norms).astype(np.float32, copy=False)


def truncate(vectors: np.ndarray, dim: int | None, native_dim: int) -> np.ndarray:
    """Keep the first ``dim`` coordinates and re-normalise (Matryoshka truncation)."""
    if dim is None or dim == native_dim:
        return vectors
    if not isinstance(dim, int | np.integer) or not 1 <= dim <= native_dim:
        raise ValueError(f"dim must be an int in [1, {native_dim}], got {dim!r}")
    return l2_normalize(vectors[:, :dim])


def check_vectors(vectors: Any, items: Sequence[Item], dim: int, backend: str) -> np.ndarray:
    """Check a backend's raw output; name the items whose rows are unusable."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.shape != (len(items), dim):
        raise EmbeddingError(
            f"{backend} returned shape {arr.shape} for {len(items)} item(s); "
            f"expected ({len(items)}, {dim})"
        )
    bad = ~np.isfinite(arr).all(axis=1)
    zero = np.linalg.norm(np.where(np.isfinite(arr), arr, 0), axis=1) == 0
    problems = [
        f"{it.id} ({'NaN/inf values' if b else 'all-zero vector'})"
        for it, b, z in zip(items, bad, zero, strict=True)
        if b or z
    ]
    if problems:
        raise EmbeddingError(f"{backend} returned unusable vectors for: {', '.join(problems)}")
    return arr


def check_request(embedder: Embedder, items: Sequence[Item], purpose: str, dim: int | None) -> None:
    """Validate the arguments of ``embed`` shared by backends and wrappers."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}")
    if dim is not None and (not isinstance(dim, int | np.integer) or not 1 <= dim <= embedder.dim):
        raise ValueError(f"dim must be an int in [1, {embedder.dim}], got {dim!r}")
    unsupported = [
        ItemError(it.id, f"{embedder.name} does not embed modality {it.modality!r}")
        for it in items
        if it.modality not in embedder.modalities
    ]
    if unsupported:
        raise BadItemsError(unsupported)


@dataclass(frozen=True)
class FinishedRows:
    """Rows an ``embed`` call finished before it failed, carried by the exception.

    A backend that fails part-way (an endpoint that vanished, a spent budget, a bad
    answer) still returns what it was paid for: the exception carries these rows, and
    :class:`~audit.cache.CachedEmbedder` stores them before re-raising.

    Attributes
    ----------
    index : numpy.ndarray
        int64 positions of the finished items in the call's ``items``.
    ids : tuple of str
        Their item ids (a consumer checks them against its own items).
    vectors : numpy.ndarray
        float32 rows: raw from a backend hook, final (L2-normalised, at the size the call
        returns) from ``embed``.
    """

    index: np.ndarray
    ids: tuple[str, ...]
    vectors: np.ndarray


def keep_finished(
    exc: BaseException, items: Sequence[Item], index: Sequence[int] | np.ndarray, vectors: Any
) -> None:
    """Attach to ``exc`` the rows finished before it (positions in ``items``, vectors).

    Replaces rows attached by a deeper layer (in that layer's positions); with no rows,
    removes them. Never raises: it runs while ``exc`` propagates, and must not mask it.
    """
    try:
        idx = np.asarray(index, dtype=np.int64).reshape(-1)
        if len(idx) == 0:
            if hasattr(exc, "finished_rows"):
                del exc.finished_rows  # type: ignore[attr-defined]
            return
        rows = np.asarray(vectors, dtype=np.float32).reshape(len(idx), -1)
        ids = tuple(items[i].id for i in idx.tolist())
        exc.finished_rows = FinishedRows(idx, ids, rows)  # type: ignore[attr-defined]
    except Exception as bug:  # the original error matters more than the rows
        log.warning("could not keep the rows finished before %r: %s", exc, bug)


def finished_for(exc: BaseException, items: Sequence[Item], width: int) -> FinishedRows | None:
    """The finished rows ``exc`` carries for a call on ``items``, if they fit that call.

    Rows attached for another call (positions out of range, other ids, another width)
    are ignored, so a wrapper that forgot to translate positions cannot misfile vectors.
    """
    rows = getattr(exc, "finished_rows", None)
    if not isinstance(rows, FinishedRows) or len(rows.index) == 0:
        return None
    n = len(rows.index)
    if rows.vectors.shape != (n, width) or len(rows.ids) != n:
        return None
    if rows.index.min() < 0 or rows.index.max() >= len(items):
        return None
    if any(items[i].id != rid for i, rid in zip(rows.index.tolist(), rows.ids, strict=True)):
        return None
    return rows


def keep_final(
    exc: BaseException,
    items: Sequence[Item],
    index: Sequence[int] | np.ndarray,
    raw: Any,
    dim: int | None,
    native_dim: int,
) -> None:
    """Attach raw finished rows as ``embed`` returns them: unusable rows dropped (they are
    embedded again next time), the rest L2-normalised and truncated to ``dim``."""
    try:
        idx = np.asarray(index, dtype=np.int64).reshape(-1)
        arr = np.asarray(raw, dtype=np.float32).reshape(len(idx), native_dim)
        finite = np.isfinite(arr).all(axis=1)
        ok = finite & (np.linalg.norm(np.where(finite[:, None], arr, 0), axis=1) > 0)
        rows = truncate(l2_normalize(arr[ok]), dim, native_dim)
    except Exception as bug:  # never mask the error in flight
        log.warning("could not keep the rows finished before %r: %s", exc, bug)
        return
    keep_finished(exc, items, idx[ok], rows)


def finish_raw(exc: BaseException, items: Sequence[Item], dim: int | None, native_dim: int) -> None:
    """For an ``embed`` that calls its raw hook on all ``items`` at once: turn the raw rows
    the hook's exception carries into final ones (or drop rows that do not fit)."""
    rows = finished_for(exc, items, native_dim)
    if rows is None:
        if hasattr(exc, "finished_rows"):
            del exc.finished_rows  # type: ignore[attr-defined]
        return
    keep_final(exc, items, rows.index, rows.vectors, dim, native_dim)


def finish_checked(
    emb: BaseEmbedder, items: Sequence[Item], raw: Any, dim: int | None
) -> np.ndarray:
    """Checked, normalised, truncated rows of a whole call's raw output; when a row is
    unusable, the error carries the usable ones."""
    try:
        checked = check_vectors(raw, items, emb.dim, emb.name)
    except EmbeddingError as exc:
        arr = np.asarray(raw, dtype=np.float32)
        if arr.shape == (len(items), emb.dim):
            keep_final(exc, items, range(len(items)), arr, dim, emb.dim)
        raise
    return truncate(l2_normalize(checked), dim, emb.dim)


def run_batches(
    emb: BaseEmbedder,
    items: list[Item],
    chunks: Sequence[tuple[str, list[int]]],
    purpose: str,
    dim: int | None,
    advance: Callable[[int], Any] | None = None,
) -> np.ndarray:
    """``emb._embed_batch`` over ``(modality, positions)`` chunks; final rows in order.

    On any error (``BaseException``: Ctrl-C too) the exception leaves carrying every row
    finished so far, whole batches and the finished part of the failing one.
    """
    out = np.empty((len(items), emb.dim), dtype=np.float32)
    done: list[int] = []
    try:
        for modality, chunk in chunks:
            batch = [items[i] for i in chunk]
            try:
                raw = emb._embed_batch(modality, batch, purpose)
            except BaseException as exc:
                part = finished_for(exc, batch, emb.dim)
                if part is not None:
                    positions = [chunk[i] for i in part.index.tolist()]
                    out[positions] = part.vectors
                    done += positions
                raise
            try:
                out[chunk] = check_vectors(raw, batch, emb.dim, emb.name)
            except EmbeddingError:
                arr = np.asarray(raw, dtype=np.float32)
                if arr.shape == (len(chunk), emb.dim):  # keep_final drops the unusable rows
                    out[chunk] = arr
                    done += chunk
                raise
            done += chunk
            if advance is not None:
                advance(len(chunk))
    except BaseException as exc:
        keep_final(exc, items, done, out[done], dim, emb.dim)
        raise
    return truncate(l2_normalize(out), dim, emb.dim)


def fingerprint_of(name: str, weights: Mapping[str, str], params: Mapping[str, Any]) -> str:
    """Stable id of a model configuration: name, weight hashes and output-changing params."""
    blob = json.dumps(
        {"name": name, "weights": dict(weights), "params": dict(params)},
        sort_keys=True,
        default=str,
    )
    return f"{name}@{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


class BaseEmbedder(ABC):
    """Base class for backends: one hook, ``_embed_batch``; the rest lives here.

    Subclasses set ``name``, ``modalities``, ``dim``, ``matryoshka_dims``, ``weights``
    (file name -> sha256) and ``params`` (anything that changes the output vectors).
    """

    name: str = "base"
    modalities: frozenset[str] = frozenset()
    dim: int = 0
    matryoshka_dims: tuple[int, ...] = ()
    batch_size: int = 64
    # Per-modality override: a backend that batches internally (sentence-transformers sorts
    # a whole call by length to cut padding) should get large chunks.
    modality_batch_size: dict[str, int] = {}  # noqa: RUF012 (read-only class default)
    limits: ItemLimits = ItemLimits()

    def __init__(self) -> None:
        self.weights: dict[str, str] = {}
        self.params: dict[str, Any] = {}
        self.progress: bool = True

    @property
    def fingerprint(self) -> str:
        """Cache-key id: name + weight hashes + output-changing parameters."""
        return fingerprint_of(self.name, self.weights, self.params)

    def describe(self) -> dict[str, Any]:
        """What the report records about this embedder."""
        return {
            "name": self.name,
            "modalities": sorted(self.modalities),
            "dim": self.dim,
            "matryoshka_dims": list(self.matryoshka_dims),
            "weights": dict(self.weights),
            "params": {k: v for k, v in self.params.items() if _jsonable(v)},
        }

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Embed ``items`` in order; see :class:`Embedder`.

        Raises
        ------
        BadItemsError
            Listing every item that is invalid or of an unsupported modality.
        EmbeddingError
            If the backend returns vectors of the wrong shape, NaN/inf or zero rows.
            Whatever the error, it carries the rows finished before it
            (:func:`finished_for`), so a cache keeps answers already paid for.
        """
        items = list(items)
        self._check(items, purpose, dim)
        if not items:
            return np.empty((0, dim or self.dim), dtype=np.float32)
        from audit.progress import Progress

        chunks = self._chunks(items)
        # A bar on a terminal, else a log line per 30 s of a long call (a CI log gets no
        # carriage-return bars); the suite's own progress keeps the heartbeat.
        with Progress(
            f"embed {self.name}",
            len(items),
            unit="items",
            enabled=self.progress,
            heartbeat=False,
            delay=1.0,  # only long work gets a bar
        ) as bar:
            return run_batches(self, items, chunks, purpose, dim, bar.update)

    def _check(self, items: list[Item], purpose: str, dim: int | None) -> None:
        """The checks :meth:`embed` runs before anything is built (request, then items)."""
        check_request(self, items, purpose, dim)
        validate_items(items, self.limits)

    def _chunks(self, items: list[Item]) -> list[tuple[str, list[int]]]:
        """``(modality, positions)`` batches: by modality, in first-seen order, then by
        ``modality_batch_size`` (default ``batch_size``)."""
        by_modality: dict[str, list[int]] = {}
        for i, it in enumerate(items):
            by_modality.setdefault(it.modality, []).append(i)
        return [
            (modality, idx[start : start + size])
            for modality, idx in by_modality.items()
            for size in [self.modality_batch_size.get(modality, self.batch_size)]
            for start in range(0, len(idx), size)
        ]

    @abstractmethod
    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        """Return raw (n, dim) vectors for items of one modality (need not be normalised)."""

    def differentiable(self, modality: str) -> DifferentiablePath:
        """White-box path for attacks; backends without one raise ``NotImplementedError``."""
        raise NotImplementedError(f"{self.name} has no differentiable {modality} path")


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except TypeError:
        return False
    return True
