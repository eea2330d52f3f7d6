"""Shared helpers that turn table rows (Hugging Face, manifests, benchmarks) into a Dataset.

:class:`PairBuilder` accumulates corpus items, queries and judgements and collects every
problem, so that a loader reports all bad rows at once. :func:`media_content` turns a
media cell (a Hugging Face ``Image``/``Audio``/``Video``/``Pdf`` struct, raw bytes, or a
path) into item content without ever following a path outside a given folder.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit.datasets._dataset import Dataset, DatasetError
from audit.datasets._paths import UnsafePathError, resolve_inside
from audit.items import Item, ItemError


class PairBuilder:
    """Accumulate corpus, queries and qrels row by row, collecting every problem.

    Parameters
    ----------
    name : str
        Dataset name, for error messages and the result.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.corpus: dict[str, Item] = {}
        self.queries: dict[str, Item] = {}
        self.qrels: dict[str, dict[str, int]] = {}
        self.errors: list[ItemError] = []
        self._query_counts: dict[str, int] = {}
        self._captions: dict[str, set[str]] = {}

    def error(self, where: str, reason: str) -> None:
        """Record one problem found at ``where`` (row, file:line or item id)."""
        self.errors.append(ItemError(where, reason))

    def add_corpus(
        self,
        corpus_id: str,
        modality: str,
        content: str | Path | bytes,
        attributes: Mapping[str, Any] | None = None,
    ) -> bool:
        """Add a corpus item once; a repeated id keeps the first (rows per caption)."""
        if corpus_id in self.corpus:
            return False
        try:
            item = Item(corpus_id, modality, content, dict(attributes or {}))  # type: ignore[arg-type]
        except ItemError as exc:
            self.errors.append(exc)
            return False
        self.corpus[corpus_id] = item
        return True

    def add_query(
        self,
        text: str,
        relevant: Mapping[str, int] | str,
        *,
        query_id: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Add a text query judged relevant (grade 1) to ``relevant`` (an id or a mapping).

        Without ``query_id`` the id is ``"<corpus id>/q<k>"``, k counting that item's
        queries from 0. A repeated ``query_id`` adds judgements to the existing query.
        """
        judged = {relevant: 1} if isinstance(relevant, str) else dict(relevant)
        if query_id is None:
            first = next(iter(judged))
            k = self._query_counts.get(first, 0)
            self._query_counts[first] = k + 1
            query_id = f"{first}/q{k}"
        if not isinstance(text, str) or not text.strip():
            self.error(query_id, "empty query text")
            return None
        if query_id not in self.queries:
            self.queries[query_id] = Item(query_id, "text", text.strip(), dict(attributes or {}))
        self.qrels.setdefault(query_id, {}).update(judged)
        return query_id

    def add_caption(self, text: str, corpus_id: str) -> str | None:
        """A query for one caption of ``corpus_id``; a caption repeated for the same item
        (mirrors repeat the caption list on every row) is added once."""
        text = text.strip() if isinstance(text, str) else text
        seen = self._captions.setdefault(corpus_id, set())
        if text in seen:
            return None
        seen.add(text)
        return self.add_query(text, corpus_id)

    def build(
        self, *, split: str, root: Path | None = None, card: Mapping[str, Any] | None = None
    ) -> Dataset:
        """The dataset, or one :class:`DatasetError` listing every recorded problem."""
        if self.errors:
            raise DatasetError(self.errors, self.name)
        return Dataset(
            name=self.name,
            root=root,
            corpus=list(self.corpus.values()),
            queries=list(self.queries.values()),
            qrels=self.qrels,
            card=dict(card or {}),
            split=split,
        )


def media_content(
    value: Any, where: str, builder: PairBuilder, media_root: Path | None
) -> bytes | Path | None:
    """Item content for a media cell, or ``None`` after recording why it is unusable.

    Inline bytes are used as they are. A path is followed only inside ``media_root``
    (a dataset from a hub must not make the tool read, or send to a remote embedder,
    arbitrary local files); without ``media_root`` a path-only cell is an error.
    """
    if isinstance(value, dict):
        data, path = value.get("bytes"), value.get("path")
        if data:
            return bytes(data)
        value = path
    if isinstance(value, bytes | bytearray | memoryview):
        if not value:
            builder.error(where, "empty media bytes")
            return None
        return bytes(value)
    if _is_pil(value):
        buffer = io.BytesIO()
        value.save(buffer, format="PNG")
        return buffer.getvalue()
    if isinstance(value, str | Path) and str(value).strip():
        if media_root is None:
            builder.error(
                where,
                f"media has no inline bytes, only a path {str(value)!r}; pass media_root= "
                "(the folder the paths are relative to) to load such files",
            )
            return None
        try:
            path = resolve_inside(media_root, str(value))
        except UnsafePathError as exc:
            builder.error(where, str(exc))
            return None
        if not path.is_file():
            builder.error(where, f"file not found: {value}")
            return None
        return path
    builder.error(where, f"no media content (got {type(value).__name__})")
    return None


def texts_of(value: Any) -> list[str]:
    """Caption-like cells to a list of strings: a str, a list of str, a ``{"raw": ...}``
    struct (Karpathy ``sentences``) or a list of such structs."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        raw = value.get("raw", value.get("text"))
        return texts_of(raw)
    if isinstance(value, list | tuple):
        out: list[str] = []
        for entry in value:
            out.extend(texts_of(entry))
        return out
    return [str(value)]


def plain(value: Any) -> Any:
    """A JSON-friendly Python value (NumPy scalars and arrays to Python)."""
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _is_pil(value: Any) -> bool:
    return type(value).__module__.startswith("PIL.") and hasattr(value, "save")
