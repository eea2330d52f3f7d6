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

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Return float32 (n, dim) L2-normalised rows, one per item, in order."""
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
        """
        items = list(items)
        check_request(self, items, purpose, dim)
        validate_items(items, self.limits)
        out = np.empty((len(items), self.dim), dtype=np.float32)
        if not items:
            return out[:, : dim or self.dim]
        from tqdm.auto import tqdm

        by_modality: dict[str, list[int]] = {}
        for i, it in enumerate(items):
            by_modality.setdefault(it.modality, []).append(i)
        with tqdm(
            total=len(items),
            desc=f"embed {self.name}",
            unit="item",
            delay=1.0,  # only long work gets a bar
            disable=not self.progress,
            leave=False,
        ) as bar:
            for modality, idx in by_modality.items():
                size = self.modality_batch_size.get(modality, self.batch_size)
                for start in range(0, len(idx), size):
                    chunk = idx[start : start + size]
                    batch = [items[i] for i in chunk]
                    raw = self._embed_batch(modality, batch, purpose)
                    out[chunk] = check_vectors(raw, batch, self.dim, self.name)
                    bar.update(len(chunk))
        return truncate(l2_normalize(out), dim, self.dim)

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
