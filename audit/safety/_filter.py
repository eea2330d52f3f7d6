"""The content-safety filter: run a policy's checkers on items and decide, fail closed.

For each item: every checker that reads its modality scores it; a checker that raises
yields a blocking ``checker-error`` decision with the error recorded; an item no checker
reads gets the policy's ``unchecked_action``. The action is the most severe action of
the categories that hit (block > flag > allow). Verdicts go to the decisions log and are
remembered by (modality, content sha256), so content seen twice is checked once (verdicts
holding an error are not remembered: the next call retries).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

from audit.embedders._media import LRUDict
from audit.items import Item
from audit.safety._checker import Checker
from audit.safety._decision import (
    SEVERITY,
    UNCHECKED_CATEGORY,
    Decision,
    Verdict,
    error_decision,
    reduce_findings,
)
from audit.safety._log import DecisionLog
from audit.safety._policy import Policy

log = logging.getLogger(__name__)


class SafetyFilter:
    """Screen items under a policy.

    Parameters
    ----------
    checkers : sequence of Checker
        The checkers (see :func:`~audit.safety.build_checkers`).
    policy : Policy
        Category actions and the unchecked action.
    log : DecisionLog, optional
        Where every verdict is appended.
    cache_size : int
        Verdicts remembered by content hash.
    """

    def __init__(
        self,
        checkers: Sequence[Checker],
        policy: Policy,
        *,
        log: DecisionLog | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self.checkers = list(checkers)
        self.policy = policy
        self.log = log
        self.counts: Counter[str] = Counter()
        self._memo: LRUDict[tuple[str, str], Verdict] = LRUDict(cache_size)

    def describe(self) -> dict[str, Any]:
        """Policy, checkers and action counts so far (for the report's wrappers block)."""
        return {
            "policy": self.policy.describe(),
            "checkers": {c.name: c.describe() for c in self.checkers},
            "counts": dict(self.counts),
            "log": str(self.log.path) if self.log else None,
        }

    def screen(self, items: Sequence[Item]) -> list[Verdict]:
        """One verdict per item, in order; every verdict is logged."""
        items = list(items)
        verdicts: list[Verdict | None] = [None] * len(items)
        cached = [False] * len(items)
        hashes: list[str | None] = [None] * len(items)
        todo: list[int] = []
        for i, item in enumerate(items):
            try:
                hashes[i] = item.content_sha256()
            except Exception as exc:  # unreadable content: block, say why
                verdicts[i] = self._verdict(item, None, [error_decision("filter", exc)])
                continue
            memo = self._memo.get((item.modality, hashes[i]))  # type: ignore[arg-type]
            if memo is not None:
                verdicts[i] = Verdict(
                    item.id, item.modality, memo.content_sha256, memo.action, memo.decisions
                )
                cached[i] = True
            else:
                todo.append(i)
        decisions: dict[int, list[Decision]] = {i: [] for i in todo}
        for checker in self.checkers:
            mine = [i for i in todo if items[i].modality in checker.modalities]
            for i, d in zip(mine, self._run(checker, [items[i] for i in mine]), strict=True):
                decisions[i].append(d)
        for i in todo:
            item = items[i]
            if not decisions[i]:
                decisions[i].append(
                    Decision(
                        False,
                        UNCHECKED_CATEGORY,
                        None,
                        "filter",
                        f"no checker of this policy reads {item.modality}",
                    )
                )
            verdict = self._verdict(item, hashes[i], decisions[i])
            verdicts[i] = verdict
            if not any(d.error for d in verdict.decisions):
                self._memo[(item.modality, hashes[i])] = verdict  # type: ignore[index]
        out = [v for v in verdicts if v is not None]
        self.counts.update(v.action for v in out)
        if self.log is not None:
            self.log.write(out, cached=cached)
        return out

    def _run(self, checker: Checker, items: list[Item]) -> list[Decision]:
        """Decisions of one checker on a batch. Checkers that batch (one model call for
        all items) are retried item by item if the batch fails, so one bad item blocks
        only itself; the others run item by item from the start."""
        if not items:
            return []
        if type(checker)._findings_batch is Checker._findings_batch or len(items) == 1:
            return [self._one(checker, item) for item in items]
        try:
            batches = checker.findings_batch(items)
            return [reduce_findings(f, checker.name, self.policy.severity) for f in batches]
        except Exception:
            log.debug("checker %s failed on a batch; retrying item by item", checker.name)
            return [self._one(checker, item) for item in items]

    def _one(self, checker: Checker, item: Item) -> Decision:
        try:
            return reduce_findings(checker.findings(item), checker.name, self.policy.severity)
        except Exception as exc:  # fail closed: the error blocks and is recorded
            log.warning("checker %s failed on item %r: %s", checker.name, item.id, exc)
            return error_decision(checker.name, exc)

    def _verdict(self, item: Item, sha: str | None, decisions: list[Decision]) -> Verdict:
        action = "allow"
        for d in decisions:
            if d.allowed:
                continue
            a = "block" if d.error else self.policy.action_for(d.category)
            if SEVERITY[a] > SEVERITY[action]:
                action = a
        return Verdict(item.id, item.modality, sha, action, tuple(decisions))  # type: ignore[arg-type]
