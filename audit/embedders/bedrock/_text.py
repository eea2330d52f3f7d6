"""Text-length limits of the Bedrock models, checked on the client and reported.

Nothing is cut on the client: the service truncates (or refuses, when truncation is off).
Each family judges its own texts (``BedrockFamily.text_finding``). What the client
knows is recorded per item (``emb.notes``) and counted
(``describe()["truncation"]``), so truncation is never silent:

- ``over``: over a documented *character* limit (Nova: 8,192), so the service truncates
  per ``truncationMode``;
- ``reported``: the service said it truncated (Nova's ``truncatedCharLength``);
- ``likely`` / ``possible``: over a *token* limit whose tokenizer is not available
  offline (Cohere v4: ``max_tokens`` or 128,000; Marengo 2.7: 77), judged by the bounds
  of :func:`audit.embedders.bedrock._cohere.token_bounds` and
  :func:`audit.embedders.bedrock._marengo.token_bounds`: ``likely`` when even the
  estimate (Cohere) or lower bound (Marengo) is over, ``possible`` when only the
  upper bound is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audit.items import Item

if TYPE_CHECKING:
    from audit.embedders.bedrock._family import BedrockFamily

LEVELS = ("over", "reported", "likely", "possible")
_SHOWN = 20


@dataclass(frozen=True)
class Finding:
    """One text item at or over a limit."""

    item_id: str
    level: str
    note: str


def check_texts(
    family: BedrockFamily, items: list[Item], *, mode: str, max_tokens: int | None = None
) -> list[Finding]:
    """Findings for the text items of ``items`` over (or possibly over) the family's limit.

    ``mode`` is the truncation setting as sent (for the notes).
    """
    out: list[Finding] = []
    for item in items:
        if item.modality != "text" or not isinstance(item.content, str):
            continue
        finding = family.text_finding(item.id, item.content, mode, max_tokens)
        if finding is not None:
            out.append(finding)
    return out


def bounded_finding(
    item_id: str, limit: int, low: int, upper: int, note: Callable[[str], str]
) -> Finding | None:
    """A token-limit finding from bounds: none when ``upper`` is within ``limit``,
    ``likely`` when even ``low`` (an estimate or lower bound) is over, else ``possible``;
    ``note(level)`` words it."""
    if upper <= limit:
        return None
    level = "likely" if low > limit else "possible"
    return Finding(item_id, level, note(level))


class TruncationLog:
    """Which items are over, reported truncated, likely or possibly over (thread-safe)."""

    def __init__(self) -> None:
        self._ids: dict[str, dict[str, None]] = {level: {} for level in LEVELS}
        self._lock = threading.Lock()

    def add(self, level: str, item_id: str) -> None:
        """Record ``item_id`` at ``level`` (idempotent)."""
        with self._lock:
            self._ids[level][item_id] = None

    def as_dict(self, limit: str | None, mode: str) -> dict[str, object]:
        """Counts per level and the first item ids of each, for ``describe()``."""
        with self._lock:
            ids = {level: list(found) for level, found in self._ids.items()}
        return {
            "limit": limit,
            "mode": mode,
            "counts": {level: len(found) for level, found in ids.items()},
            "items": {level: found[:_SHOWN] for level, found in ids.items() if found},
        }
