"""The checker contract: one hook per checker kind; the reduction to a Decision lives here.

A checker scores one item and returns :class:`~audit.safety._decision.Finding` objects;
:meth:`Checker.check` reduces them to the checker's one
:class:`~audit.safety._decision.Decision`. Image and text checkers implement a hook on the
decoded payload (``image_findings`` / ``text_findings``), so the document, audio and video
checkers can run them on page renders, frames and transcripts without re-encoding.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from audit.items import Item, ItemError, load_image
from audit.safety._decision import Decision, Finding, reduce_findings


class Checker(ABC):
    """Scores items of some modalities for unsafe content; never stores the content.

    Subclasses set ``name`` and ``modalities`` and implement :meth:`_findings`.
    """

    name: str = "checker"
    modalities: frozenset[str] = frozenset()

    def findings(self, item: Item) -> list[Finding]:
        """Every category this checker scored for ``item``.

        Raises
        ------
        ItemError
            If the item's modality is not one this checker reads.
        """
        if item.modality not in self.modalities:
            raise ItemError(item.id, f"checker {self.name} does not read {item.modality!r}")
        return self._findings(item)

    def findings_batch(self, items: Sequence[Item]) -> list[list[Finding]]:
        """:meth:`findings` of several items (checkers that batch, e.g. embeddings, override
        ``_findings_batch``)."""
        for item in items:
            if item.modality not in self.modalities:
                raise ItemError(item.id, f"checker {self.name} does not read {item.modality!r}")
        return self._findings_batch(list(items))

    def _findings_batch(self, items: list[Item]) -> list[list[Finding]]:
        return [self._findings(item) for item in items]

    def check(self, item: Item, severity: Callable[[str], int] | None = None) -> Decision:
        """The checker's decision on ``item`` (the worst hit, else the top score)."""
        return reduce_findings(self.findings(item), self.name, severity)

    def describe(self) -> dict[str, Any]:
        """Configuration for reports (thresholds, list sizes; never content)."""
        return {"modalities": sorted(self.modalities)}

    @abstractmethod
    def _findings(self, item: Item) -> list[Finding]:
        """Score ``item`` (its modality is already checked)."""


class ImageChecker(Checker):
    """A checker of decoded RGB images; hook: :meth:`image_findings`."""

    modalities = frozenset({"image"})

    def _findings(self, item: Item) -> list[Finding]:
        return self.image_findings(load_image(item))

    @abstractmethod
    def image_findings(self, image: Any) -> list[Finding]:
        """Score one RGB ``PIL.Image``."""


class TextChecker(Checker):
    """A checker of text; hook: :meth:`text_findings`."""

    modalities = frozenset({"text"})

    def _findings(self, item: Item) -> list[Finding]:
        assert isinstance(item.content, str)
        return self.text_findings(item.content)

    @abstractmethod
    def text_findings(self, text: str) -> list[Finding]:
        """Score one text."""


def prefixed(findings: list[Finding], where: str) -> list[Finding]:
    """Findings with ``where`` (e.g. ``page 2``) prepended to each reason."""
    return [Finding(f.category, f.score, f.hit, f"{where}: {f.reason}") for f in findings]
