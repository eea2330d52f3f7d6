"""Retrieval metrics over a query stream: search and score one query chunk at a time.

:func:`evaluate` needs every query's ranking at once. For a large query set that is
``n_queries x depth`` ids held together; here each chunk is searched against one
prepared :class:`~audit.retrieval.SearchIndex` (the corpus and any FAISS index are
built once), scored, and its rankings dropped, so only per-query metric values (one
float per query and metric) are kept. The result equals ``evaluate`` on the whole run.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.retrieval._metrics import (
    DEFAULT_METRICS,
    RetrievalScores,
    _check_grade,
    evaluate,
    parse_metric,
)
from audit.retrieval._result import APPROXIMATE, positive_int
from audit.retrieval._search import SearchIndex

logger = logging.getLogger(__name__)

__all__ = ["StreamedEvaluation", "evaluate_chunked"]


@dataclass(frozen=True)
class StreamedEvaluation:
    """Metrics of a chunked evaluation and what the search engine reports.

    Attributes
    ----------
    scores : RetrievalScores
        As :func:`~audit.retrieval.evaluate` on the whole run (same query order:
        the qrels order).
    engine : str
        Search engine.
    depth : int
        Ranks searched per query (the largest metric cut-off, capped at the corpus).
    n_chunks : int
        Query chunks searched.
    recall : float or None
        Approximate engines: recall@depth against exact search, the mean over every
        measured query (chunk recalls weighted by their query counts).
    recall_at : dict of int to float
        Approximate engines: the same at each metric cut-off.
    recall_queries : int or None
        Queries the recall was measured on.
    params : dict
        Engine parameters actually used.
    """

    scores: RetrievalScores
    engine: str
    depth: int
    n_chunks: int
    recall: float | None = None
    recall_at: dict[int, float] = field(default_factory=dict)
    recall_queries: int | None = None
    params: dict[str, Any] = field(default_factory=dict)


def _relevant(qrels: Mapping[Hashable, Mapping[Hashable, int]]) -> dict[Hashable, Any]:
    """Queries of the qrels with a relevant document, every grade validated."""
    out = {}
    for q, judged in qrels.items():
        if not isinstance(judged, Mapping):
            raise TypeError(f"qrels[{q!r}] must be a mapping doc id -> grade")
        if any([_check_grade(g, q, d) > 0 for d, g in judged.items()]):
            out[q] = judged
    return out


def evaluate_chunked(
    queries: Any,
    corpus: Any,
    qrels: Mapping[Hashable, Mapping[Hashable, int]],
    metrics: Sequence[str] = DEFAULT_METRICS,
    *,
    query_ids: Sequence[Hashable],
    corpus_ids: Sequence[Hashable] | np.ndarray,
    query_chunk: int = 1024,
    engine: str = "faiss-flat",
    index: SearchIndex | None = None,
    recall_sample: int | None = None,
    **engine_params: Any,
) -> StreamedEvaluation:
    """Search and score queries chunk by chunk; equals ``evaluate`` on the full run.

    Parameters
    ----------
    queries : array-like of shape (n_queries, dim)
        Query vectors, rows aligned with ``query_ids``. A memory-mapped array is
        read one chunk at a time.
    corpus : array-like of shape (n_corpus, dim)
        Corpus vectors, rows aligned with ``corpus_ids`` (ignored when ``index`` is
        given).
    qrels : mapping
        Query id -> document id -> int grade (>= 1 relevant).
    metrics : sequence of str
        ``recall@K``, ``hit@K``, ``ndcg@K``, ``mrr@K``.
    query_ids : sequence
        Unique id per query row.
    corpus_ids : sequence
        Unique id per corpus row (ties: id ascending).
    query_chunk : int
        Queries searched and scored together.
    engine : str
        Search engine (default "faiss-flat", exact).
    index : SearchIndex, optional
        A prepared index over ``corpus`` (built with ``corpus_ids``) to reuse.
    recall_sample : int, optional
        Approximate engines: queries per chunk whose recall is measured (default all).
    **engine_params
        Passed to :class:`SearchIndex` (nlist, nprobe, hnsw_m, ...).

    Returns
    -------
    StreamedEvaluation
    """
    if isinstance(metrics, str):
        raise TypeError("metrics must be a sequence of names, not a single string")
    cutoffs = sorted({parse_metric(m)[1] for m in metrics})
    if not cutoffs:
        raise ValueError("metrics is empty")
    chunk = positive_int(query_chunk, "query_chunk")
    qids = list(query_ids)
    if len(set(qids)) != len(qids):
        raise ValueError("query_ids must be unique")
    n_q = len(qids)
    if np.shape(queries)[0] != n_q:
        raise ValueError(f"queries has {np.shape(queries)[0]} rows but query_ids has {n_q} ids")
    docs = np.asarray(corpus_ids)
    if index is None:
        index = SearchIndex(corpus, corpus_ids=docs, engine=engine, **engine_params)
    if docs.ndim != 1 or docs.shape[0] != index.n:
        raise ValueError(f"corpus_ids must be 1-D with one id per corpus row ({index.n})")
    depth = min(cutoffs[-1], index.n)
    relevant = _relevant(qrels)
    values: dict[Hashable, dict[str, float]] = {}
    recall_sums: dict[int, float] = {}
    measured = 0
    n_chunks = 0
    params: dict[str, Any] = dict(index.params)
    for i0 in range(0, n_q, chunk):
        ids = qids[i0 : i0 + chunk]
        res = index.search(
            np.asarray(queries[i0 : i0 + chunk]),
            depth,
            chunk_size=chunk,
            recall_sample=recall_sample,
            recall_cutoffs=[c for c in cutoffs if c <= depth],
        )
        n_chunks += 1
        params = dict(res.params)
        if res.recall_queries:
            measured += res.recall_queries
            for cut, r in res.recall_at.items():
                recall_sums[cut] = recall_sums.get(cut, 0.0) + r * res.recall_queries
        judged = {q: relevant[q] for q in ids if q in relevant}
        if judged:
            run = {q: docs[row[row >= 0]].tolist() for q, row in zip(ids, res.indices, strict=True)}
            _collect(values, evaluate(run, judged, metrics))
        # The chunk's rankings go out of scope here: only metric values are kept.
    absent = {q: j for q, j in relevant.items() if q not in values}
    if absent:  # judged queries never searched: they score 0, as in evaluate
        _collect(values, evaluate({}, absent, metrics))
    scores = _assemble(values, qrels, relevant, qids, metrics, set(absent))
    recall_at = {c: s / measured for c, s in recall_sums.items()} if measured else {}
    approximate = index.engine in APPROXIMATE
    return StreamedEvaluation(
        scores=scores,
        engine=index.engine,
        depth=depth,
        n_chunks=n_chunks,
        recall=recall_at.get(depth) if approximate else None,
        recall_at=recall_at,
        recall_queries=measured if approximate else None,
        params=params,
    )


def _collect(values: dict[Hashable, dict[str, float]], scores: RetrievalScores) -> None:
    for i, q in enumerate(scores.query_ids):
        values[q] = {m: float(v[i]) for m, v in scores.per_query.items()}


def _assemble(
    values: dict[Hashable, dict[str, float]],
    qrels: Mapping[Hashable, Any],
    relevant: Mapping[Hashable, Any],
    query_ids: Iterable[Hashable],
    metrics: Sequence[str],
    absent: set[Hashable],
) -> RetrievalScores:
    """Per-query values in the qrels order, with evaluate's skipped and missing lists."""
    evaluated = [q for q in qrels if q in relevant]
    if not evaluated:
        raise ValueError("no query in the qrels has a relevant document (grade >= 1)")
    skipped = [q for q in qrels if q not in relevant]
    skipped += [q for q in query_ids if q not in qrels]
    per_query = {m: np.array([values[q][m] for q in evaluated]) for m in metrics}
    means = {m: float(v.mean()) for m, v in per_query.items()}
    parts = ("recall@1", "recall@5", "recall@10")
    avg = float(np.mean([means[p] for p in parts])) if all(p in means for p in parts) else None
    missing = tuple(q for q in evaluated if q in absent)
    return RetrievalScores(tuple(evaluated), per_query, means, avg, tuple(skipped), missing)
