"""Test doubles of the safety tests (a unique module name: no clashes across folders)."""

from __future__ import annotations

import numpy as np

from audit.embedders.base import BaseEmbedder
from audit.items import Item
from audit.safety import Finding, TextChecker


class TableEmbedder(BaseEmbedder):
    """Text -> a fixed vector from a table (unknown texts: the last axis); counts calls."""

    name = "table"
    modalities = frozenset({"text"})

    def __init__(self, table: dict[str, list[float]], dim: int = 3) -> None:
        super().__init__()
        self.table = table
        self.dim = dim
        self.progress = False
        self.calls: list[str] = []

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        self.calls += [it.id for it in items]
        other = [0.0] * (self.dim - 1) + [1.0]
        return np.array([self.table.get(str(it.content), other) for it in items], dtype=float)


class RaisingChecker(TextChecker):
    """A checker that always fails (to test failing closed)."""

    name = "raiser"

    def text_findings(self, text: str) -> list[Finding]:
        raise RuntimeError("detector crashed")


class WordChecker(TextChecker):
    """Hits when a word occurs (no model): category per word."""

    name = "words"

    def __init__(self, words: dict[str, str]) -> None:
        self.words = words

    def text_findings(self, text: str) -> list[Finding]:
        found = [w for w in self.words if w in text.split()]
        return [Finding(self.words[w], 1.0, True, f"word entry {i}") for i, w in enumerate(found)]
