"""Decisions, per-item verdicts and the error a blocked batch raises.

Nothing here ever holds content: a :class:`Decision` carries a category, a score, the
checker's name and a reason written by the checker from list entries and numbers only;
a :class:`Verdict` adds the item id, modality and the content's sha256.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["allow", "flag", "block"]
ACTIONS: tuple[str, ...] = ("allow", "flag", "block")
#: Ordering of actions: a block outranks a flag, which outranks an allow.
SEVERITY: dict[str, int] = {"allow": 0, "flag": 1, "block": 2}

#: Category of the decision a failing checker produces (always blocks: fail closed).
ERROR_CATEGORY = "checker-error"
#: Category used when no checker covers an item's modality.
UNCHECKED_CATEGORY = "unchecked"


@dataclass(frozen=True)
class Finding:
    """One category a checker scored for one item (a step towards a :class:`Decision`).

    Attributes
    ----------
    category : str
        What was found (policy category name).
    score : float
        Higher means more likely unsafe; the checker documents its scale.
    hit : bool
        Whether the score crossed the checker's threshold for ``category``.
    reason : str
        Why, in words that never quote the content (list entries, distances, labels).
    """

    category: str
    score: float
    hit: bool
    reason: str


@dataclass(frozen=True)
class Decision:
    """One checker's decision about one item.

    Attributes
    ----------
    allowed : bool
        False when the checker found something at or over its threshold (or failed).
    category : str or None
        The category found (the worst one when several hit); ``None`` when nothing scored.
    score : float or None
        The checker's score for ``category``; ``None`` for an error.
    checker : str
        Name of the checker.
    reason : str
        Why, never quoting the content.
    error : bool
        True when the checker raised; such a decision always blocks (fail closed).
    """

    allowed: bool
    category: str | None
    score: float | None
    checker: str
    reason: str
    error: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (the decisions log and reports use it)."""
        return {
            "allowed": self.allowed,
            "category": self.category,
            "score": None if self.score is None else round(float(self.score), 6),
            "checker": self.checker,
            "reason": self.reason,
            "error": self.error,
        }


def reduce_findings(
    findings: Iterable[Finding],
    checker: str,
    severity: Callable[[str], int] | None = None,
) -> Decision:
    """Turn a checker's findings into its one decision.

    Among hits, the decision names the most severe category (by ``severity``, e.g. the
    policy's block > flag ranking), then the highest score. Without hits it reports the
    highest-scoring category as allowed, or an empty allow when nothing scored.
    """
    rank = severity or (lambda _category: 0)
    findings = list(findings)
    hits = [f for f in findings if f.hit]
    if hits:
        worst = max(hits, key=lambda f: (rank(f.category), f.score))
        return Decision(False, worst.category, float(worst.score), checker, worst.reason)
    if findings:
        top = max(findings, key=lambda f: f.score)
        return Decision(True, top.category, float(top.score), checker, top.reason)
    return Decision(True, None, None, checker, "nothing scored")


def error_decision(checker: str, exc: BaseException) -> Decision:
    """The fail-closed decision of a checker that raised (the error text is recorded)."""
    text = " ".join(str(exc).split())[:300]  # one line, bounded: the log stays readable
    return Decision(
        False, ERROR_CATEGORY, None, checker, f"checker failed: {type(exc).__name__}: {text}", True
    )


@dataclass(frozen=True)
class Verdict:
    """The filter's verdict on one item: the action and every checker's decision.

    Attributes
    ----------
    item_id : str
        The item's id.
    modality : str
        The item's modality.
    content_sha256 : str or None
        SHA-256 of the content (``None`` only when the content could not be read).
    action : {"allow", "flag", "block"}
        What the policy decided; flagged items are embedded and logged, blocked ones not.
    decisions : tuple of Decision
        One per checker that ran.
    """

    item_id: str
    modality: str
    content_sha256: str | None
    action: Action
    decisions: tuple[Decision, ...] = field(default_factory=tuple)

    @property
    def blocked(self) -> bool:
        """True when the item must not reach the embedder."""
        return self.action == "block"

    @property
    def categories(self) -> tuple[str, ...]:
        """Categories of the decisions that did not allow the item."""
        return tuple(d.category or "" for d in self.decisions if not d.allowed)

    def summary(self) -> str:
        """``category (checker): reason`` of every non-allowing decision, ``;``-joined."""
        parts = [f"{d.category} ({d.checker}): {d.reason}" for d in self.decisions if not d.allowed]
        return "; ".join(parts) or "allowed"

    def to_record(self) -> dict[str, Any]:
        """The decisions-log record (no content, only its hash)."""
        return {
            "item_id": self.item_id,
            "modality": self.modality,
            "content_sha256": self.content_sha256,
            "action": self.action,
            "decisions": [d.to_dict() for d in self.decisions],
        }


class BlockedItemsError(ValueError):
    """A batch held blocked items; nothing of it was embedded.

    Attributes
    ----------
    verdicts : list of Verdict
        The verdicts of the blocked items (ids, categories, reasons).
    """

    def __init__(self, verdicts: Sequence[Verdict]) -> None:
        self.verdicts = list(verdicts)
        lines = "\n".join(f"  - {v.item_id}: {v.summary()}" for v in self.verdicts[:50])
        more = len(self.verdicts) - 50
        if more > 0:
            lines += f"\n  ... and {more} more"
        super().__init__(
            f"{len(self.verdicts)} item(s) blocked by the content-safety filter "
            f"(nothing was embedded):\n{lines}"
        )

    @property
    def item_ids(self) -> list[str]:
        """Ids of the blocked items, in batch order."""
        return [v.item_id for v in self.verdicts]
