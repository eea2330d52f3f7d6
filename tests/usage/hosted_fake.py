"""A fake hosted backend with ``plan_usage``, usage counters and served sizes (no network).

Spec: ``fakehosted:<model>[?dim=N&text_only=1]``. One "request" per item; every item it
embeds is appended to :data:`SENT` (model, item id, purpose, size), so a test sees
exactly what would have gone over the wire, and every ``plan_usage`` call to
:data:`PLANNED`. Sizes 8 and 4 are served by the "service" (``at_dim``), like Nova's.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

import numpy as np

from audit.embedders import EMBEDDERS, EmbedderEntry
from audit.embedders._usage import UsageCounts
from audit.embedders.base import BaseEmbedder, Purpose, check_request
from audit.items import Item

SENT: list[tuple[str, str, str, int]] = []
PLANNED: list[tuple[str, int]] = []
KIND = "fakehosted"


def register(monkeypatch: Any) -> None:
    """Make ``fakehosted:`` a known embedder kind for one test (undone afterwards)."""
    entry = EmbedderEntry("hosted_fake:from_spec", "test stand-in", needs_arg=True)
    monkeypatch.setitem(EMBEDDERS._entries, KIND, entry)
    SENT.clear()
    PLANNED.clear()


def units(items: Sequence[Item]) -> dict[str, int]:
    """What the fake bills: one request per item, text characters, images."""
    return {
        "requests": len(items),
        "text_chars": sum(len(str(it.content)) for it in items if it.modality == "text"),
        "images": sum(it.modality == "image" for it in items),
    }


class FakeHosted(BaseEmbedder):
    """Deterministic hash vectors; Matryoshka-style sizes served by the "service"."""

    def __init__(self, model: str, *, dim: int = 8, text_only: bool = False) -> None:
        super().__init__()
        self.model_id = model
        self.name = f"fake-{model}"
        self.modalities = frozenset({"text"} if text_only else {"text", "image"})
        self.dim = dim
        self.matryoshka_dims = tuple(d for d in (8, 4) if d <= dim)
        self.params = {"model_id": model, "dim": dim}
        self.progress = False
        self._counts: dict[str, int] = {"requests": 0, "text_chars": 0, "images": 0}

    @property
    def served_dims(self) -> tuple[int, ...]:
        return self.matryoshka_dims

    @property
    def usage(self) -> dict[str, int]:
        return dict(self._counts)

    def at_dim(self, dim: int) -> FakeHosted:
        if dim == self.dim:
            return self
        sibling = copy.copy(self)  # shares the counters, like Bedrock's siblings
        sibling.dim = int(dim)
        sibling.matryoshka_dims = tuple(d for d in (8, 4) if d <= dim)
        sibling.params = {"model_id": self.model_id, "dim": int(dim)}
        return sibling

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["model_id"] = self.model_id
        out["usage"] = self.usage
        return out

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        if dim is not None and dim != self.dim and dim in self.served_dims:
            return self.at_dim(int(dim)).embed(items, purpose=purpose)
        return super().embed(items, purpose=purpose, dim=dim)

    def plan_usage(
        self, items: Sequence[Item], *, purpose: str = "index", dim: int | None = None
    ) -> UsageCounts:
        items = list(items)
        check_request(self, items, purpose, dim)
        PLANNED.append((self.model_id, len(items)))
        return UsageCounts(**units(items))

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        for it in items:
            SENT.append((self.model_id, it.id, purpose, self.dim))
        for name, value in units(items).items():
            self._counts[name] += value
        out = []
        for it in items:
            seed = hashlib.sha256(self.model_id.encode() + it.read_bytes()).digest()[:8]
            vec = np.random.default_rng(int.from_bytes(seed, "little")).normal(size=8)
            out.append(vec[: self.dim])
        return np.asarray(out)


def from_spec(arg: str) -> FakeHosted:
    model, _, query = arg.partition("?")
    opts = dict(parse_qsl(query))
    return FakeHosted(
        model, dim=int(opts.get("dim", 8)), text_only=opts.get("text_only", "0") == "1"
    )
