"""SafeEmbedder: the content-safety filter as an Embedder wrapper.

Contract of a batch:

- :meth:`SafeEmbedder.embed` returns the usual ``(n, dim)`` float32 array when no item is
  blocked (flagged items are embedded and logged). If any item is blocked it embeds
  nothing at all (the wrapped embedder, possibly a remote API, never sees the batch) and
  raises :class:`~audit.safety.BlockedItemsError` listing every blocked id and why.
- :meth:`SafeEmbedder.embed_allowed` returns a :class:`ScreenedBatch`: vectors for the
  allowed and flagged items only, a mask saying which, and every verdict.
- :meth:`SafeEmbedder.screen` only decides.

As every :class:`~audit.embedders.EmbedderWrapper`, it passes through only the identity
and read-only abilities (``fingerprint``, ``describe``, ``served_dims``): anything that
embeds must go through the filter. The white-box ``differentiable`` path is the backend's
(reached with ``audit.embedders.unwrap``) and is not filtered; it serves attacks on the
model, not the ingestion of content.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audit.embedders._wrapper import EmbedderWrapper
from audit.embedders.base import Embedder, Purpose, check_request
from audit.items import Item
from audit.safety._decision import BlockedItemsError, Verdict
from audit.safety._filter import SafetyFilter
from audit.safety._log import DecisionLog
from audit.safety._media import Transcribe
from audit.safety._policy import Policy, default_policy, resolve_policy
from audit.safety._registry import build_checkers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScreenedBatch:
    """Result of :meth:`SafeEmbedder.embed_allowed`.

    Attributes
    ----------
    vectors : np.ndarray
        float32 ``(n_allowed, dim)`` rows for the items not blocked, in batch order.
    allowed : np.ndarray
        bool ``(n,)``: True where the item was embedded (``vectors`` has its row).
    verdicts : list of Verdict
        One per input item.
    """

    vectors: np.ndarray
    allowed: np.ndarray
    verdicts: list[Verdict]

    @property
    def blocked_ids(self) -> list[str]:
        """Ids of the blocked items."""
        return [v.item_id for v in self.verdicts if v.blocked]


class SafeEmbedder(EmbedderWrapper):
    """Wrap an Embedder with the content-safety filter.

    Parameters
    ----------
    base : Embedder
        The wrapped embedder; blocked items never reach it.
    safety : SafetyFilter
        The filter (policy, checkers, decisions log).
    """

    def __init__(self, base: Embedder, safety: SafetyFilter) -> None:
        super().__init__(base)
        self.safety = safety

    def wrapper_info(self) -> dict[str, Any]:
        """The report's ``wrappers.safety`` block."""
        return {"safety": self.safety.describe()}

    def screen(self, items: Sequence[Item]) -> list[Verdict]:
        """Decide on every item (logged), embedding nothing."""
        return self.safety.screen(items)

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Embed a batch only if no item is blocked.

        Raises
        ------
        BlockedItemsError
            If any item is blocked; nothing of the batch was embedded.
        """
        items = list(items)
        check_request(self, items, purpose, dim)
        verdicts = self.safety.screen(items)
        blocked = [v for v in verdicts if v.blocked]
        if blocked:
            raise BlockedItemsError(blocked)
        return self.base.embed(items, purpose=purpose, dim=dim)

    def embed_allowed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> ScreenedBatch:
        """Embed the items that are not blocked; report which were and why."""
        items = list(items)
        check_request(self, items, purpose, dim)
        verdicts = self.safety.screen(items)
        mask = np.array([not v.blocked for v in verdicts], dtype=bool)
        keep = [it for it, ok in zip(items, mask, strict=True) if ok]
        width = dim or self.dim
        vectors = (
            self.base.embed(keep, purpose=purpose, dim=dim)
            if keep
            else np.zeros((0, width), dtype=np.float32)
        )
        return ScreenedBatch(vectors, mask, verdicts)


def build_filter(
    policy: Policy | str | Path | None = None,
    *,
    log_path: str | Path | None = None,
    concept_embedder: Embedder | None = None,
    transcribe: Transcribe | None = None,
) -> SafetyFilter:
    """Build a :class:`SafetyFilter` from a policy (object, TOML path, or the default).

    Parameters
    ----------
    policy : Policy, str, Path or None
        The policy; ``None`` is the packaged default.
    log_path : str or Path, optional
        Decisions log file (e.g. ``<run_dir>/safety/decisions.jsonl``).
    concept_embedder : Embedder, optional
        Embedder of the concept check (default: the one the policy names).
    transcribe : callable, optional
        ``Item -> str`` for audio and video (default: offline faster-whisper).
    """
    if policy is None:
        policy = default_policy()
    elif not isinstance(policy, Policy):
        policy = resolve_policy(policy)
    checkers = build_checkers(policy, concept_embedder=concept_embedder, transcribe=transcribe)
    decisions = DecisionLog(log_path, policy_sha256=policy.sha256) if log_path else None
    return SafetyFilter(checkers, policy, log=decisions)
