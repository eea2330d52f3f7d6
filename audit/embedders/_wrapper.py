"""The base of every Embedder wrapper, and the walk over a composed chain.

A wrapper (cache, projection, safety filter, Ray engine, dry-run planner, ...) holds the
embedder it wraps as ``base`` and is itself an :class:`~audit.embedders.base.Embedder`.
:class:`EmbedderWrapper` forwards the identity explicitly (``name``, ``modalities``,
``dim``, ``matryoshka_dims``, ``fingerprint``) and the read-only abilities every layer
shares (``describe``, ``served_dims``); anything else of a particular layer (the cache's
hit counters, the projection's debiaser, the backend's white-box path) is reached by
finding that layer with :func:`unwrap` / :func:`chain`, never by attribute forwarding, so
an attribute read on a wrapper is always that wrapper's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar, overload

import numpy as np

from audit.embedders.base import Describable, Embedder, Purpose, SupportsServedDims
from audit.items import Item

__all__ = ["EmbedderWrapper", "chain", "served_dims_of", "unwrap"]

W = TypeVar("W")

# A chain deeper than this is a cycle (a wrapper wrapping itself), not a pipeline.
_MAX_DEPTH = 64


class EmbedderWrapper:
    """Base class of the wrappers composed around a backend.

    Parameters
    ----------
    base : Embedder
        The wrapped embedder (a backend or another wrapper).

    Notes
    -----
    A subclass implements ``embed`` and may override the identity (a projection changes
    ``name``, ``dim`` and ``fingerprint``). A subclass that *replaces* the layers below it
    (the dry-run planner: nothing under it may ever be called) sets ``terminal = True``;
    :func:`chain` then ends at it, so whoever looks for "the backend" gets the stand-in.

    Reading an attribute a wrapper does not have raises an ``AttributeError`` that says
    so and how to reach the layer that has it; nothing is forwarded implicitly.
    """

    terminal: ClassVar[bool] = False

    def __init__(self, base: Embedder) -> None:
        if not isinstance(base, Embedder):
            raise TypeError(
                f"{type(self).__name__} wraps an Embedder (name, modalities, dim, "
                f"matryoshka_dims, fingerprint, embed); got {type(base).__name__}"
            )
        self.base = base
        self.name: str = base.name
        self.modalities: frozenset[str] = base.modalities
        self.dim: int = base.dim
        self.matryoshka_dims: tuple[int, ...] = base.matryoshka_dims

    @property
    def fingerprint(self) -> str:
        """The base's fingerprint (a wrapper that changes vectors overrides this)."""
        return str(self.base.fingerprint)

    @property
    def served_dims(self) -> tuple[int, ...]:
        """The sizes the model under this wrapper computes itself (empty for most)."""
        return served_dims_of(self.base)

    def describe(self) -> dict[str, Any]:
        """The description of the layer below (what the report records about the model)."""
        if isinstance(self.base, Describable):
            return self.base.describe()
        return {
            "name": self.name,
            "modalities": sorted(self.modalities),
            "dim": self.dim,
            "matryoshka_dims": list(self.matryoshka_dims),
        }

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Embed through this wrapper; see :class:`~audit.embedders.base.Embedder`."""
        raise NotImplementedError(f"{type(self).__name__} must implement embed")

    def chain(self) -> list[Embedder]:
        """The layers from this one inwards, ending with the backend (see :func:`chain`)."""
        return chain(self)

    @overload
    def unwrap(self, kind: None = None) -> Embedder: ...

    @overload
    def unwrap(self, kind: type[W]) -> W | None: ...

    def unwrap(self, kind: type[Any] | None = None) -> Any:
        """The first layer that is a ``kind`` (None if none is), or the backend."""
        return unwrap(self, kind)

    def __getattr__(self, attr: str) -> Any:
        # Only called when normal lookup failed: say why instead of forwarding.
        raise AttributeError(
            f"{type(self).__name__} does not pass {attr!r} through to the wrapped embedder "
            "(a wrapper forwards only name, modalities, dim, matryoshka_dims, fingerprint, "
            "describe and served_dims; find the layer that has it with "
            "audit.embedders.unwrap(embedder, kind))"
        )


def chain(embedder: Embedder) -> list[Embedder]:
    """The layers of a composed embedder from the outside in, ending with the backend.

    A bare backend is a chain of one. A ``terminal`` wrapper (the dry-run planner) ends
    the chain: the layers below it must never be called.

    Raises
    ------
    ValueError
        If the chain loops (a wrapper that wraps itself).
    """
    out: list[Embedder] = [embedder]
    while isinstance(embedder, EmbedderWrapper) and not embedder.terminal:
        embedder = embedder.base
        if len(out) >= _MAX_DEPTH or any(layer is embedder for layer in out):
            raise ValueError(f"the wrapper chain of {out[0].name} loops")
        out.append(embedder)
    return out


@overload
def unwrap(embedder: Embedder, kind: None = None) -> Embedder: ...


@overload
def unwrap(embedder: Embedder, kind: type[W]) -> W | None: ...


def unwrap(embedder: Embedder, kind: type[Any] | None = None) -> Any:
    """The first layer of ``embedder``'s chain that is an instance of ``kind``.

    With no ``kind``, the innermost layer: the backend (or the planner standing in for
    it). ``kind`` may be a class or a runtime-checkable Protocol of
    :mod:`audit.embedders.base` (e.g. ``SupportsDifferentiable``). Returns None when no
    layer is a ``kind``.
    """
    layers = chain(embedder)
    if kind is None:
        return layers[-1]
    return next((layer for layer in layers if isinstance(layer, kind)), None)


def served_dims_of(embedder: Embedder) -> tuple[int, ...]:
    """The sizes ``embedder`` asks its model for instead of truncating (empty for most)."""
    if isinstance(embedder, SupportsServedDims):
        return tuple(embedder.served_dims or ())
    return ()
