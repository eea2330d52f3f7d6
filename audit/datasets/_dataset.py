"""The :class:`Dataset` every loader returns, and the error that lists every problem.

A dataset is a retrieval benchmark in the BEIR sense: a corpus of items, a set of
queries and graded relevance judgements (qrels) from query ids to corpus ids. Query
ids and corpus ids are separate namespaces (as in BEIR), but each is unique within
itself. A dataset may have no queries (a corpus for bias probes only).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.items import BadItemsError, Item, ItemError, ItemLimits, validate_items

log = logging.getLogger(__name__)

# A broken file can produce thousands of problems; the message lists this many and
# counts the rest (``DatasetError.errors`` keeps all of them).
_MAX_LISTED = 50


class DatasetError(BadItemsError):
    """A dataset failed to load or validate; lists every problem found, not only the first.

    Each problem is an :class:`~audit.items.ItemError` whose ``item_id`` is where it was
    found: an item id, or ``file:line`` for a problem in a file.

    Parameters
    ----------
    errors : sequence of ItemError
        Every problem found.
    dataset : str, optional
        The dataset's name or path, for the message.
    """

    def __init__(self, errors: Sequence[ItemError], dataset: str | None = None) -> None:
        super().__init__(errors)
        self.dataset = dataset
        listed = "\n".join(f"  - {e.item_id}: {e.reason}" for e in self.errors[:_MAX_LISTED])
        more = len(self.errors) - _MAX_LISTED
        if more > 0:
            listed += f"\n  ... and {more} more"
        where = f"dataset {dataset!r}: " if dataset else ""
        self.args = (f"{where}{len(self.errors)} problem(s):\n{listed}",)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class Dataset:
    """A retrieval dataset: corpus, queries, graded qrels and a card.

    Construction checks the structure (unique ids, qrels that point to existing items,
    integer grades) and raises one :class:`DatasetError` listing every problem. Content
    (files, decoding, sizes) is checked by :meth:`validate`.

    Parameters
    ----------
    name : str
        Short name, used in reports.
    root : pathlib.Path or None
        Folder the dataset was loaded from (``None`` for in-memory sources).
    corpus : list of Item
        The items searched.
    queries : list of Item
        The items searched with.
    qrels : dict
        ``{query_id: {corpus_id: grade}}``; a grade is a non-negative int, 0 meaning
        judged not relevant.
    card : dict
        Provenance, license, size, attributes and free description.
    split : str
        Which qrels split this is (BEIR's ``test``, ``dev``, ...).
    """

    name: str
    root: Path | None
    corpus: list[Item]
    queries: list[Item]
    qrels: dict[str, dict[str, int]]
    card: dict[str, Any] = field(default_factory=dict)
    split: str = "test"

    def __post_init__(self) -> None:
        errors = check_structure(self.corpus, self.queries, self.qrels)
        if errors:
            raise DatasetError(errors, self.name)

    # -- views ---------------------------------------------------------------------------

    @property
    def corpus_modalities(self) -> tuple[str, ...]:
        """Modalities present in the corpus, sorted."""
        return tuple(sorted({item.modality for item in self.corpus}))

    @property
    def query_modalities(self) -> tuple[str, ...]:
        """Modalities present in the queries, sorted."""
        return tuple(sorted({item.modality for item in self.queries}))

    @property
    def modality_pair(self) -> str:
        """``"query->corpus"`` modalities, e.g. ``"text->image"`` (``+`` joins mixtures,
        ``none`` when there are no queries)."""
        return f"{'+'.join(self.query_modalities) or 'none'}->{'+'.join(self.corpus_modalities)}"

    def corpus_by_id(self) -> dict[str, Item]:
        """Corpus items keyed by id."""
        return {item.id: item for item in self.corpus}

    def queries_by_id(self) -> dict[str, Item]:
        """Query items keyed by id."""
        return {item.id: item for item in self.queries}

    def groups(self, attribute: str, *, of: str = "corpus") -> dict[str, list[str]]:
        """Ids per value of one attribute, e.g. ``groups("gender")``.

        Parameters
        ----------
        attribute : str
            Attribute name.
        of : {"corpus", "queries"}
            Which side to group.

        Returns
        -------
        dict
            ``{value: [ids]}`` over items that carry the attribute, values as str.
        """
        if of not in ("corpus", "queries"):
            raise ValueError(f"of must be 'corpus' or 'queries', not {of!r}")
        out: dict[str, list[str]] = defaultdict(list)
        for item in self.corpus if of == "corpus" else self.queries:
            if attribute in item.attributes:
                out[str(item.attributes[attribute])].append(item.id)
        return dict(out)

    def attribute_names(self, *, of: str = "corpus") -> list[str]:
        """Attribute names present on the corpus (or the queries), sorted."""
        items = self.corpus if of == "corpus" else self.queries
        return sorted({key for item in items for key in item.attributes})

    def describe(self) -> dict[str, Any]:
        """Counts and modalities, suitable for a report or a card's ``size`` entry."""
        n_judgements = sum(len(v) for v in self.qrels.values())
        return {
            "name": self.name,
            "split": self.split,
            "modality_pair": self.modality_pair,
            "corpus": len(self.corpus),
            "queries": len(self.queries),
            "judgements": n_judgements,
            "corpus_modalities": dict(Counter(i.modality for i in self.corpus)),
            "attributes": self.attribute_names(),
        }

    # -- checks --------------------------------------------------------------------------

    def validate(self, limits: ItemLimits | None = None) -> Dataset:
        """Check every item's content; raise one :class:`DatasetError` listing all bad items.

        Returns
        -------
        Dataset
            ``self``, so that ``load_dataset(spec).validate()`` chains.
        """
        errors: list[ItemError] = []
        for side in (self.corpus, self.queries):
            try:
                validate_items(side, limits)
            except BadItemsError as exc:
                errors.extend(exc.errors)
        if errors:
            raise DatasetError(errors, self.name)
        return self


def check_structure(
    corpus: Iterable[Item], queries: Iterable[Item], qrels: Mapping[str, Mapping[str, Any]]
) -> list[ItemError]:
    """Structural problems of a corpus/queries/qrels triple, all of them.

    Duplicate ids on either side, qrels naming unknown ids, and grades that are not
    non-negative integers.
    """
    errors: list[ItemError] = []
    corpus_ids: set[str] = set()
    for item in corpus:
        if item.id in corpus_ids:
            errors.append(ItemError(item.id, "duplicate corpus id"))
        corpus_ids.add(item.id)
    query_ids: set[str] = set()
    for item in queries:
        if item.id in query_ids:
            errors.append(ItemError(item.id, "duplicate query id"))
        query_ids.add(item.id)
    for qid, judged in qrels.items():
        if qid not in query_ids:
            errors.append(ItemError(str(qid), "qrels name a query that is not in the queries"))
        for cid, grade in judged.items():
            if cid not in corpus_ids:
                errors.append(ItemError(str(qid), f"qrels name unknown corpus id {cid!r}"))
            if isinstance(grade, bool) or not isinstance(grade, int) or grade < 0:
                errors.append(
                    ItemError(str(qid), f"grade for {cid!r} must be a non-negative int: {grade!r}")
                )
    return errors


def as_grade(value: Any) -> int:
    """A relevance grade from an int, an integral float or a numeric string.

    Raises
    ------
    ValueError
        When the value is not a non-negative integer (e.g. ``0.5`` or ``"high"``).
    """
    original = value
    if isinstance(value, bool):
        raise ValueError(f"grade must be a number, not {value!r}")
    if isinstance(value, str):
        value = value.strip()
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise ValueError(f"grade is not a number: {original!r}") from None
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"grade is not a number: {original!r}") from None
    if as_float != as_float or as_float != int(as_float) or as_float < 0:
        raise ValueError(f"grade must be a non-negative integer, got {original!r}")
    return int(as_float)


def keep_judged_queries(
    queries: list[Item], qrels: Mapping[str, Mapping[str, int]], source: str
) -> list[Item]:
    """Queries that have judgements in this split (BEIR keeps queries of all splits in one
    file); logs how many were left out so nothing disappears silently."""
    kept = [q for q in queries if q.id in qrels]
    if len(kept) < len(queries):
        log.info(
            "%s: %d of %d queries have no judgements in this split and are left out",
            source,
            len(queries) - len(kept),
            len(queries),
        )
    return kept
