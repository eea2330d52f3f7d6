"""Retrieval quality metrics from ranked lists and graded qrels.

Definitions (k is a cut-off, ranks start at 1, a document is relevant when its grade
in the qrels is >= 1; unjudged documents have grade 0):

- recall@k = |relevant ∩ top k| / |relevant|. With one relevant item per query this
  equals hit@k, the "Recall@k" of the Nova MME report (share of queries whose
  relevant item is in the top k).
- hit@k = 1 if any relevant document is in the top k, else 0.
- ndcg@k = DCG@k / IDCG@k, DCG@k = sum_{i<=k} grade_i / log2(i + 1): the gain is the
  grade itself (trec_eval ``ndcg_cut``, BEIR, MTEB, ranx ``ndcg``), not
  ``2**grade - 1``; IDCG@k is the DCG of the qrels' grades sorted descending.
- mrr@k = 1 / rank of the first relevant document if it is within the top k, else 0.

Queries without any relevant document have undefined recall and nDCG: they are left
out of every mean and listed in ``RetrievalScores.skipped``. Queries with relevant
documents but absent from the run score 0 (nothing retrieved) and are listed in
``RetrievalScores.missing`` (trec_eval's ``-c``; BEIR/pytrec_eval silently drop them,
which inflates means).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Ranking = Sequence[Hashable] | np.ndarray
Run = Mapping[Hashable, Ranking]
Judgments = Mapping[Hashable, int]
Qrels = Mapping[Hashable, Judgments]

METRICS: tuple[str, ...] = ("recall", "hit", "ndcg", "mrr")
DEFAULT_METRICS: tuple[str, ...] = (
    "recall@1",
    "recall@5",
    "recall@10",
    "ndcg@5",
    "ndcg@10",
    "mrr@10",
)
_AVG_PARTS = ("recall@1", "recall@5", "recall@10")
_NAME = re.compile(r"^(recall|hit|ndcg|mrr)@([1-9][0-9]*)$")


def parse_metric(name: str) -> tuple[str, int]:
    """Split ``"ndcg@10"`` into ``("ndcg", 10)``; unknown names raise ValueError."""
    match = _NAME.match(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(
            f"unknown metric {name!r}; use NAME@K with NAME in {', '.join(METRICS)} and K >= 1"
        )
    return match.group(1), int(match.group(2))


def _check_grade(grade: Any, query: Hashable, doc: Hashable) -> int:
    if isinstance(grade, bool) or not isinstance(grade, (int, np.integer)):
        raise TypeError(
            f"qrels[{query!r}][{doc!r}] must be an int grade, got {type(grade).__name__}"
        )
    if grade < 0:
        raise ValueError(f"qrels[{query!r}][{doc!r}] = {grade}; grades must be >= 0")
    return int(grade)


def _as_list(ranking: Ranking, query: Hashable) -> list[Hashable]:
    if isinstance(ranking, (str, bytes)):
        raise TypeError(f"ranking of query {query!r} must be a sequence of doc ids, not a string")
    items = ranking.tolist() if isinstance(ranking, np.ndarray) else list(ranking)
    if len(set(items)) != len(items):
        seen: set[Hashable] = set()
        for doc in items:
            if doc in seen:
                raise ValueError(f"ranking of query {query!r} lists document {doc!r} twice")
            seen.add(doc)
    return items


@dataclass(frozen=True)
class _Table:
    """Grades of the retrieved documents and ideal grades, one row per query."""

    grades: np.ndarray  # (n, depth) float64, grade of the doc at each rank (0 if none)
    ideal: np.ndarray  # (n, depth) float64, qrels grades sorted descending
    n_relevant: np.ndarray  # (n,) int64


def _table(
    rankings: list[list[Hashable]], judgments: list[Mapping[Hashable, int]], depth: int
) -> _Table:
    n = len(rankings)
    grades = np.zeros((n, depth), dtype=np.float64)
    ideal = np.zeros((n, depth), dtype=np.float64)
    n_relevant = np.zeros(n, dtype=np.int64)
    for i, (ranking, judged) in enumerate(zip(rankings, judgments, strict=True)):
        top = [judged.get(doc, 0) for doc in ranking[:depth]]
        grades[i, : len(top)] = top
        best = sorted((g for g in judged.values() if g > 0), reverse=True)
        n_relevant[i] = len(best)
        ideal[i, : min(depth, len(best))] = best[:depth]
    return _Table(grades, ideal, n_relevant)


def _discount(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def _compute(table: _Table, metric: str, k: int) -> np.ndarray:
    """Per-query values of one metric (rows must have >= 1 relevant document)."""
    rel = table.grades[:, :k] > 0
    if metric == "recall":
        return rel.sum(axis=1) / table.n_relevant
    if metric == "hit":
        return rel.any(axis=1).astype(np.float64)
    if metric == "mrr":
        first = np.argmax(rel, axis=1)
        return np.where(rel.any(axis=1), 1.0 / (first + 1.0), 0.0)
    disc = _discount(k)[: table.grades.shape[1]]
    dcg = table.grades[:, :k] @ disc
    idcg = table.ideal[:, :k] @ disc
    return dcg / idcg


def _single(ranking: Ranking, judgments: Judgments, metric: str, k: int) -> float:
    k = parse_metric(f"{metric}@{k}")[1]
    judged = {doc: _check_grade(g, "<query>", doc) for doc, g in judgments.items()}
    if not any(g > 0 for g in judged.values()):
        raise ValueError(f"{metric}@{k} is undefined for a query without relevant documents")
    table = _table([_as_list(ranking, "<query>")], [judged], k)
    return float(_compute(table, metric, k)[0])


def recall_at_k(ranking: Ranking, judgments: Judgments, k: int) -> float:
    """Share of the relevant documents retrieved in the top k, for one query.

    Parameters
    ----------
    ranking : sequence of document ids
        Retrieved documents, best first, no repeats.
    judgments : mapping of document id to int grade >= 0
        This query's qrels; grade >= 1 is relevant.
    k : int
        Cut-off.

    Returns
    -------
    float
        ``|relevant ∩ top k| / |relevant|``; ValueError if nothing is relevant.
    """
    return _single(ranking, judgments, "recall", k)


def hit_at_k(ranking: Ranking, judgments: Judgments, k: int) -> float:
    """1.0 if a relevant document is in the top k, else 0.0 (one query)."""
    return _single(ranking, judgments, "hit", k)


def ndcg_at_k(ranking: Ranking, judgments: Judgments, k: int) -> float:
    """nDCG@k with gain = grade and discount log2(rank + 1), for one query.

    The ideal DCG uses the query's qrels grades sorted descending (trec_eval
    ``ndcg_cut``, BEIR and MTEB); ValueError if nothing is relevant.
    """
    return _single(ranking, judgments, "ndcg", k)


def mrr_at_k(ranking: Ranking, judgments: Judgments, k: int) -> float:
    """Reciprocal rank of the first relevant document within the top k (else 0)."""
    return _single(ranking, judgments, "mrr", k)


@dataclass(frozen=True)
class RetrievalScores:
    """Per-query values and means of retrieval metrics.

    Attributes
    ----------
    query_ids : tuple
        Evaluated queries (qrels order): those with at least one relevant document.
    per_query : dict of str to ndarray
        Metric name -> float64 values aligned with ``query_ids``.
    means : dict of str to float
        Metric name -> mean over ``query_ids``.
    avg : float or None
        Mean of recall@1, recall@5 and recall@10 (the Nova MME report's "Avg"
        column); None unless all three were computed.
    skipped : tuple
        Queries (from the qrels or the run) without any relevant document; excluded.
    missing : tuple
        Evaluated queries absent from the run; they score 0 and are included.
    """

    query_ids: tuple[Hashable, ...]
    per_query: dict[str, np.ndarray]
    means: dict[str, float]
    avg: float | None
    skipped: tuple[Hashable, ...]
    missing: tuple[Hashable, ...]

    @property
    def n_queries(self) -> int:
        """Number of evaluated queries."""
        return len(self.query_ids)


def evaluate(
    run: Run,
    qrels: Qrels,
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> RetrievalScores:
    """Evaluate ranked lists against graded qrels.

    Parameters
    ----------
    run : mapping of query id to sequence of document ids
        Retrieved documents per query, best first, no repeats.
    qrels : mapping of query id to mapping of document id to int grade >= 0
        Relevance judgments; grade >= 1 is relevant.
    metrics : sequence of str
        Names ``recall@K``, ``hit@K``, ``ndcg@K``, ``mrr@K``.

    Returns
    -------
    RetrievalScores
        Per-query arrays, means, the "Avg" of recall@1/5/10, and the skipped and
        missing queries (see the module docstring).
    """
    if isinstance(metrics, str):
        raise TypeError("metrics must be a sequence of names, not a single string")
    parsed = {name: parse_metric(name) for name in metrics}
    if not parsed:
        raise ValueError("metrics is empty")
    depth = max(k for _, k in parsed.values())
    evaluated: list[Hashable] = []
    judgments: list[dict[Hashable, int]] = []
    skipped: list[Hashable] = []
    for query, judged in qrels.items():
        if not isinstance(judged, Mapping):
            raise TypeError(f"qrels[{query!r}] must be a mapping doc id -> grade")
        clean = {doc: _check_grade(g, query, doc) for doc, g in judged.items()}
        if any(g > 0 for g in clean.values()):
            evaluated.append(query)
            judgments.append(clean)
        else:
            skipped.append(query)
    skipped.extend(q for q in run if q not in qrels)
    if not evaluated:
        raise ValueError("no query in the qrels has a relevant document (grade >= 1)")
    missing = tuple(q for q in evaluated if q not in run)
    rankings = [_as_list(run.get(q, ()), q) for q in evaluated]
    table = _table(rankings, judgments, depth)
    per_query = {name: _compute(table, m, k) for name, (m, k) in parsed.items()}
    means = {name: float(v.mean()) for name, v in per_query.items()}
    avg = None
    if all(p in means for p in _AVG_PARTS):
        avg = float(np.mean([means[p] for p in _AVG_PARTS]))
    return RetrievalScores(tuple(evaluated), per_query, means, avg, tuple(skipped), missing)
