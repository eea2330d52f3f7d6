"""Test doubles shared across test folders (a unique module name: no conftest clashes)."""

from __future__ import annotations

import hashlib

import numpy as np

from audit.embedders.base import BaseEmbedder
from audit.items import Item


class HashEmbedder(BaseEmbedder):
    """Deterministic vectors from a content hash; counts what it embeds."""

    name = "hash"
    dim = 16
    modalities = frozenset({"text", "image"})

    def __init__(self, dim: int = 16) -> None:
        super().__init__()
        self.dim = dim
        self.calls: list[str] = []
        self.progress = False
        self.params = {"dim": dim}

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        out = []
        for it in items:
            self.calls.append(it.id)
            seed = int.from_bytes(hashlib.sha256(it.read_bytes()).digest()[:8], "little")
            out.append(np.random.default_rng(seed).normal(size=self.dim))
        return np.asarray(out)


class BrokenEmbedder(HashEmbedder):
    """A backend that breaks on its first call (a run that fails mid-way: exit 3)."""

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        raise RuntimeError("backend broke: weat99")


def register_embedder(monkeypatch, name: str, cls: type) -> str:
    """Make ``cls`` the embedder spec ``name`` for one test (undone by ``monkeypatch``)."""
    import sys
    import types

    from audit.embedders import EMBEDDERS, EmbedderEntry

    module = types.ModuleType(f"fake_embedders_{name}")
    setattr(module, cls.__name__, cls)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(
        EMBEDDERS._entries, name, EmbedderEntry(f"{module.__name__}:{cls.__name__}", "")
    )
    return name
