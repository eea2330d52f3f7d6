"""Turn search results into runs (query id -> ranked doc ids) for the metrics."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from audit.retrieval._search import SearchResult


def run_from_search(
    result: SearchResult,
    query_ids: Sequence[Hashable] | np.ndarray,
    corpus_ids: Sequence[Hashable] | np.ndarray,
) -> dict[Hashable, list[Hashable]]:
    """Ranked document ids per query from a :class:`SearchResult`.

    Parameters
    ----------
    result : SearchResult
        Output of :func:`search`; its rows follow ``query_ids``.
    query_ids : sequence
        One unique id per query row.
    corpus_ids : sequence
        Id of each corpus row (``result.indices`` index into it).

    Returns
    -------
    dict
        Query id -> list of document ids, best first; empty slots (``-1``) of
        approximate engines are left out. NumPy scalars become Python ones.
    """
    qids = np.asarray(query_ids).tolist()
    if len(qids) != result.indices.shape[0]:
        raise ValueError(
            f"query_ids has {len(qids)} ids but the result has {result.indices.shape[0]} queries"
        )
    if len(set(qids)) != len(qids):
        raise ValueError("query_ids must be unique")
    docs = np.asarray(corpus_ids)
    if docs.ndim != 1:
        raise ValueError(f"corpus_ids must be 1-D, got shape {docs.shape}")
    top = int(result.indices.max(initial=-1))
    if top >= docs.shape[0]:
        raise ValueError(
            f"result refers to corpus row {top} but corpus_ids has {docs.shape[0]} ids"
        )
    run: dict[Hashable, list[Hashable]] = {}
    for qid, row in zip(qids, result.indices, strict=True):
        run[qid] = docs[row[row >= 0]].tolist()
    return run
