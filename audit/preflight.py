"""Validate every item a run will embed before embedding starts, and report all bad ones.

A run's suites load their datasets through the :class:`RunDatasets` of the run context.
Before any suite runs, :func:`audit.runner.run_suites` asks each suite which datasets it
will load (:meth:`audit.suites.base.Suite.dataset_specs`) and calls
:meth:`RunDatasets.preflight`: every item of every one of them is checked
(:func:`audit.items.check_item`: text encoding and size, empty files, image bombs, PDF,
audio and video headers) and one :class:`RunItemsError` names every bad item of every
dataset, so one run shows the user all that must be fixed. Each dataset, as the run uses
it, is also hashed once there (:func:`audit._repro.dataset_record`): the report's
``reproducibility.datasets``.

With ``skip_bad_items`` the run goes on without them instead: each is recorded as a
:class:`~audit.report.SkippedItem` (the report's ``skipped_items``), the qrels rows naming a skipped
item are dropped (counted on the item), and a query left without any judgement is
skipped too, saying why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from audit._repro import dataset_record
from audit.items import BadItemsError, ItemError, ItemLimits, check_item
from audit.report import SkippedItem

log = logging.getLogger(__name__)

#: Lines a :class:`RunItemsError` message lists; the rest are counted (``errors`` keeps all).
MAX_LISTED = 100
NO_JUDGEMENTS_LEFT = "no judgements left: every corpus item it was judged against was skipped"


@dataclass(frozen=True)
class Problem:
    """A bad item (or an unloadable dataset) found by the pre-flight check."""

    dataset: str
    side: str  # "corpus", "queries", or "dataset" when the dataset itself does not load
    error: ItemError


class RunItemsError(BadItemsError):
    """Bad items in the datasets of a run: every one, with its dataset, side and reason.

    ``errors`` holds every :class:`~audit.items.ItemError`; ``problems`` the same with
    their dataset and side. The message lists :data:`MAX_LISTED` lines and counts the rest.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__([p.error for p in problems])
        self.problems = list(problems)
        lines = [
            f"  - {p.dataset} {p.side} {p.error.item_id!r}: {p.error.reason}"
            for p in self.problems[:MAX_LISTED]
        ]
        more = len(self.problems) - MAX_LISTED
        if more > 0:
            lines.append(f"  ... and {more} more")
        n_sets = len({p.dataset for p in self.problems})
        loads = any(p.side == "dataset" for p in self.problems)
        hint = (
            "fix them, or re-run with --skip-bad-items to leave the bad items out "
            "(recorded in the report)"
            if not loads
            else "fix them (a dataset that does not load cannot be skipped)"
        )
        self.args = (
            f"{len(self.problems)} bad item(s) in {n_sets} dataset(s); nothing was embedded:\n"
            + "\n".join(lines)
            + f"\n{hint}",
        )

    def __str__(self) -> str:
        return str(self.args[0])


class RunDatasets:
    """The datasets of one run: each loaded once, every item checked before use.

    Parameters
    ----------
    skip_bad_items : bool
        Leave bad items out (recorded in :attr:`skipped`) instead of raising.
    limits : ItemLimits, optional
        Size limits of the item checks.
    loader : callable, optional
        ``spec -> Dataset`` (default :func:`audit.datasets.load_dataset`).
    """

    def __init__(
        self,
        *,
        skip_bad_items: bool = False,
        limits: ItemLimits | None = None,
        loader: Callable[[str], Any] | None = None,
    ) -> None:
        self.skip_bad_items = skip_bad_items
        self.limits = limits or ItemLimits()
        self._loader = loader
        self._loaded: dict[str, Any] = {}
        self._records: dict[str, dict[str, Any]] = {}
        self.skipped: list[SkippedItem] = []

    def get(self, spec: str) -> Any:
        """The dataset of ``spec``, checked (and cleaned with ``skip_bad_items``).

        Raises
        ------
        RunItemsError
            Naming every bad item of it (without ``skip_bad_items``), or why it does not load.
        """
        if spec not in self._loaded:
            self.preflight([spec])
        return self._loaded[spec]

    def preflight(self, specs: Iterable[str]) -> None:
        """Load and check every dataset of ``specs``; one error names every bad item.

        Raises
        ------
        RunItemsError
            Listing the bad items of all the datasets together (and the datasets that do
            not load). With ``skip_bad_items`` only datasets that do not load raise; bad
            items are left out and recorded in :attr:`skipped`.
        """
        problems: list[Problem] = []
        checked: dict[str, tuple[Any, list[Problem]]] = {}
        for spec in dict.fromkeys(specs):
            if spec in self._loaded or spec in checked:
                continue
            try:
                ds = self._load(spec)
            except BadItemsError as exc:  # DatasetError: the files themselves are broken
                problems += [Problem(spec, "dataset", e) for e in exc.errors]
                continue
            except Exception as exc:  # e.g. a hub dataset without network: name it too
                reason = f"does not load: {type(exc).__name__}: {exc}"
                problems.append(Problem(spec, "dataset", ItemError(spec, reason)))
                continue
            found = self._check(spec, ds)
            checked[spec] = (ds, found)
            problems += found
        if problems and (not self.skip_bad_items or any(p.side == "dataset" for p in problems)):
            raise RunItemsError(problems)
        for spec, (ds, found) in checked.items():
            used = self._without(spec, ds, found) if found else ds
            self._loaded[spec] = used
            # Hashed once, as the run uses it (bad items left out): the provenance record.
            skipped = sum(1 for s in self.skipped if s.dataset == spec)
            self._records[spec] = dataset_record(spec, used, items_skipped=skipped)

    def records(self) -> list[dict[str, Any]]:
        """``reproducibility.datasets``: one entry per dataset loaded, in load order.

        Each is :func:`audit._repro.dataset_record`: spec, name, split, card, counts,
        content sha256 (computed once, when the dataset was loaded and checked).
        """
        return [dict(r) for r in self._records.values()]

    def _load(self, spec: str) -> Any:
        if self._loader is not None:
            return self._loader(spec)
        from audit.datasets import load_dataset

        return load_dataset(spec)

    def _check(self, spec: str, ds: Any) -> list[Problem]:
        found: list[Problem] = []
        for side, items in (("corpus", ds.corpus), ("queries", ds.queries)):
            for item in items:
                try:
                    check_item(item, self.limits)
                except ItemError as exc:
                    found.append(Problem(spec, side, exc))
        return found

    def _without(self, spec: str, ds: Any, found: list[Problem]) -> Any:
        """``ds`` without the bad items, their qrels rows, and queries left unjudged."""
        bad = {
            side: {p.error.item_id: p.error.reason for p in found if p.side == side}
            for side in ("corpus", "queries")
        }
        dropped = dict.fromkeys(bad["corpus"], 0)
        qrels: dict[str, dict[str, int]] = {}
        for qid, judged in ds.qrels.items():
            if qid in bad["queries"]:
                continue
            kept = {}
            for cid, grade in judged.items():
                if cid in dropped:
                    dropped[cid] += 1
                else:
                    kept[cid] = grade
            qrels[qid] = kept
        skipped = [
            SkippedItem(
                dataset=spec, side="corpus", id=cid, reason=reason, judgements_dropped=dropped[cid]
            )
            for cid, reason in bad["corpus"].items()
        ]
        skipped += [
            SkippedItem(
                dataset=spec,
                side="queries",
                id=qid,
                reason=reason,
                judgements_dropped=len(ds.qrels.get(qid, {})),
            )
            for qid, reason in bad["queries"].items()
        ]
        # A query whose judged items were all skipped can no longer be scored.
        unjudged = {q for q, judged in qrels.items() if not judged and ds.qrels.get(q)}
        skipped += [
            SkippedItem(dataset=spec, side="queries", id=q, reason=NO_JUDGEMENTS_LEFT)
            for q in sorted(unjudged)
        ]
        for q in unjudged:
            del qrels[q]
        gone_q = set(bad["queries"]) | unjudged
        self.skipped += skipped
        log.warning(
            "%s: skipped %d bad item(s) and %d qrels row(s) (--skip-bad-items)",
            spec,
            len(skipped),
            sum(s.judgements_dropped for s in skipped),
        )
        return replace(
            ds,
            corpus=[it for it in ds.corpus if it.id not in bad["corpus"]],
            queries=[q for q in ds.queries if q.id not in gone_q],
            qrels=qrels,
        )
