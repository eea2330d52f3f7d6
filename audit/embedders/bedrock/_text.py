"""Text-length limits of the Bedrock models, checked on the client and reported.

Nothing is cut on the client: the service truncates (or refuses, when truncation is off).
What the client knows is recorded per item (``emb.notes``) and counted
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
from dataclasses import dataclass

from audit.embedders.bedrock import _cohere as cohere
from audit.embedders.bedrock import _marengo as marengo
from audit.embedders.bedrock._models import NOVA_TEXT_CHAR_LIMIT
from audit.items import Item

LEVELS = ("over", "reported", "likely", "possible")
_SHOWN = 20


@dataclass(frozen=True)
class Finding:
    """One text item at or over a limit."""

    item_id: str
    level: str
    note: str


def limit_of(family: str, max_tokens: int | None) -> str | None:
    """The documented text limit of a model family, in words (None: not checked)."""
    if family == "nova":
        return f"{NOVA_TEXT_CHAR_LIMIT:,} characters"
    if family == "cohere":
        return f"{max_tokens or cohere.MAX_TOKENS:,} tokens"
    if family == "marengo":
        return f"{marengo.MARENGO_TEXT_TOKENS} tokens"
    return None


def check_texts(
    family: str, items: list[Item], *, mode: str, max_tokens: int | None = None
) -> list[Finding]:
    """Findings for the text items of ``items`` over (or possibly over) the limit.

    ``mode`` is the truncation setting as sent (for the notes).
    """
    out: list[Finding] = []
    for item in items:
        if item.modality != "text" or not isinstance(item.content, str):
            continue
        text = item.content
        if family == "nova" and len(text) > NOVA_TEXT_CHAR_LIMIT:
            note = f"text over the documented {NOVA_TEXT_CHAR_LIMIT:,} characters"
            out.append(Finding(item.id, "over", note))
        elif family == "cohere":
            limit = max_tokens or cohere.MAX_TOKENS
            estimate, upper = cohere.token_bounds(text)
            if upper > limit:
                level = "likely" if estimate > limit else "possible"
                out.append(
                    Finding(
                        item.id,
                        level,
                        f"text {level} over the {limit:,}-token limit (tokenizer not "
                        f"available offline: at most {upper:,} tokens by UTF-8 bytes, about "
                        f"{estimate:,} at 4 characters per token); truncate={mode}",
                    )
                )
        elif family == "marengo":
            lower, upper = marengo.token_bounds(text)
            if upper > marengo.MARENGO_TEXT_TOKENS:
                level = "likely" if lower > marengo.MARENGO_TEXT_TOKENS else "possible"
                out.append(
                    Finding(
                        item.id,
                        level,
                        f"text {level} over Marengo's documented 77-token limit (tokenizer "
                        f"not documented: between {lower} and {upper} tokens); "
                        f"textTruncate={mode}",
                    )
                )
    return out


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
