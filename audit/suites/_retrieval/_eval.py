"""Evaluation core of the retrieval suite: rank, score per query, bootstrap, group disparity.

Everything here works on vectors, ids and qrels; embedding and result filing live in
:mod:`audit.suites.retrieval`. Confidence intervals are percentile bootstraps over
queries: one matrix of resampling counts per (dataset, modality pair) is shared by every
metric, size and variant, so their intervals are paired.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.retrieval import evaluate, run_from_search, search

Qrels = dict[str, dict[str, int]]
_CUTOFF = re.compile(r"@(\d+)")

#: Per-group definition recorded in the report (docs/retrieval.md, "Per-group quality").
GROUP_DEFINITIONS: dict[str, str] = {
    "corpus": (
        "qrels restricted to the relevant documents whose attribute has this value; "
        "queries without such a document are left out; the ranking is unchanged"
    ),
    "queries": "the queries whose attribute has this value, scored against their full qrels",
}


@dataclass(frozen=True)
class Estimate:
    """A mean over queries with its percentile-bootstrap interval.

    ``value`` is None where the number is undefined (a ratio with a zero best group);
    ``ci_low``/``ci_high`` are None without bootstrap draws or defined replicates.
    """

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int


@dataclass(frozen=True)
class Ranking:
    """Ranked corpus ids per query plus what the report records about the search.

    Attributes
    ----------
    run : dict
        Query id -> corpus ids, best first (``depth`` of them).
    engine : str
        Search engine used.
    depth : int
        Ranks kept per query.
    exact_recall : float or None
        Approximate engines: recall of the whole fetched list (``depth`` + 1 ranks when
        the corpus allows) against exact search; None for exact engines.
    ties_at_cutoff : dict
        Cut-off k -> number of queries whose k-th and (k+1)-th scores are equal, i.e.
        whose metrics at k depend on the tie-break.
    params : dict
        Engine parameters actually used.
    recall_at : dict of int to float
        Approximate engines: recall@c against exact search at each cut-off ``c``
        (the metric cut-offs and ``depth``); empty for exact engines.
    recall_queries : int or None
        Queries the recall was measured on.
    """

    run: dict[str, list[str]]
    engine: str
    depth: int
    exact_recall: float | None
    ties_at_cutoff: dict[int, int]
    params: dict[str, Any] = field(default_factory=dict)
    recall_at: dict[int, float] = field(default_factory=dict)
    recall_queries: int | None = None

    def search_details(self, metric: str | None = None) -> dict[str, Any]:
        """What a result computed from this ranking records about the search.

        ``engine`` and ``search_exact`` always; approximate engines add
        ``search_recall``, the recall@k of the ranking against exact search with ``k``
        the metric's cut-off (``depth`` for metrics without one, e.g. ``avg_recall``),
        ``search_recall_k``, every measured cut-off and the query count.
        """
        exact = self.engine in ("exact", "faiss-flat")
        out: dict[str, Any] = {"engine": self.engine, "search_exact": exact}
        if not self.recall_at:
            return out
        k = self.depth
        if metric is not None and (found := _CUTOFF.search(metric)):
            k = int(found.group(1)) if int(found.group(1)) in self.recall_at else k
        out.update(
            search_recall=self.recall_at[k],
            search_recall_k=k,
            search_recall_at={str(c): r for c, r in sorted(self.recall_at.items())},
            search_recall_queries=self.recall_queries,
        )
        return out


def bootstrap_counts(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """Resampling counts: row b says how often each of ``n`` queries is drawn in replicate b.

    Returns
    -------
    ndarray of int64, shape (n_boot, n)
        Each row sums to ``n`` (sampling with replacement).
    """
    if n_boot <= 0 or n == 0:
        return np.zeros((0, n), dtype=np.int64)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.int64)


def _interval(draws: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return None, None
    lo, hi = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)


def mean_estimate(values: np.ndarray, counts: np.ndarray, confidence: float) -> Estimate:
    """Mean of per-query ``values`` and its bootstrap interval from ``counts``."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    if counts.shape[0] == 0:
        return Estimate(float(values.mean()), None, None, n)
    lo, hi = _interval(counts @ values / n, confidence)
    return Estimate(float(values.mean()), lo, hi, n)


def rank_corpus(
    queries: np.ndarray,
    corpus: np.ndarray,
    query_ids: Sequence[str],
    corpus_ids: Sequence[str],
    depth: int,
    *,
    engine: str = "faiss-flat",
    engine_params: Mapping[str, Any] | None = None,
    cutoffs: Sequence[int] = (1, 5, 10),
    reverse_ties: bool = False,
) -> Ranking:
    """Top ``depth`` corpus ids per query, ties broken by corpus id ascending.

    One extra rank is fetched when the corpus allows, to count queries whose score at a
    cut-off ties with the next one (their metric at that k rests on the tie-break).
    ``reverse_ties`` breaks ties by corpus id descending instead: comparing both bounds
    how much a number owes to the tie-break.
    """
    n = corpus.shape[0]
    depth = min(depth, n)
    fetch = min(depth + 1, n)
    order = np.argsort(np.argsort(np.asarray(list(corpus_ids))))
    keys = (n - 1 - order) if reverse_ties else order
    cuts = sorted({*(k for k in cutoffs if k <= depth), depth})
    res = search(
        queries,
        corpus,
        fetch,
        corpus_ids=keys,
        engine=engine,
        recall_cutoffs=cuts,
        **(engine_params or {}),
    )
    ties = {
        int(k): int(np.sum(res.scores[:, k - 1] == res.scores[:, k]))
        for k in sorted(set(cutoffs))
        if k < fetch
    }
    full = run_from_search(res, list(query_ids), list(corpus_ids))
    run = {str(q): [str(d) for d in docs[:depth]] for q, docs in full.items()}
    recall_at = {c: r for c, r in res.recall_at.items() if c in cuts}
    return Ranking(
        run,
        res.engine,
        depth,
        res.recall,
        ties,
        dict(res.params),
        recall_at,
        res.recall_queries,
    )


def per_query(
    run: Mapping[str, Sequence[str]], qrels: Qrels, metrics: Sequence[str], query_ids: Sequence[str]
) -> dict[str, np.ndarray]:
    """Per-query metric values aligned with ``query_ids`` (each must have a relevant doc)."""
    scores = evaluate(run, qrels, metrics)
    if list(scores.query_ids) != list(query_ids):
        raise ValueError("qrels must list exactly the evaluated queries, in order")
    return {m: scores.per_query[m] for m in metrics}


@dataclass(frozen=True)
class GroupSplit:
    """How one attribute partitions a modality pair's evaluation.

    Attributes
    ----------
    attribute : str
        Attribute name.
    side : {"corpus", "queries"}
        Whether the groups are of the relevant documents or of the queries.
    qrels : dict
        Group value -> the qrels that define the group's quality (see
        ``GROUP_DEFINITIONS``); only queries with a relevant document are listed.
    """

    attribute: str
    side: str
    qrels: dict[str, Qrels]


def split_by_group(
    attribute: str,
    qrels: Qrels,
    corpus_attributes: Mapping[str, Mapping[str, Any]],
    query_attributes: Mapping[str, Mapping[str, Any]],
) -> GroupSplit | None:
    """Group the evaluation by ``attribute`` of the relevant documents, else of the queries.

    Corpus side: for value v, each query keeps only its relevant documents whose attribute
    is v (e.g. "a health worker" -> its images of women). Query side (the attribute is on
    queries only): the queries whose attribute is v, with their full qrels. None when
    neither side carries the attribute.
    """
    relevant = {d for judged in qrels.values() for d, g in judged.items() if g > 0}
    if any(attribute in corpus_attributes[d] for d in relevant):
        out: dict[str, Qrels] = {}
        for q, judged in qrels.items():
            for d, g in judged.items():
                if g > 0 and attribute in corpus_attributes[d]:
                    value = str(corpus_attributes[d][attribute])
                    out.setdefault(value, {}).setdefault(q, {})[d] = g
        return GroupSplit(attribute, "corpus", _ordered(out, qrels))
    if any(attribute in query_attributes[q] for q in qrels):
        out = {}
        for q, judged in qrels.items():
            if attribute in query_attributes[q]:
                out.setdefault(str(query_attributes[q][attribute]), {})[q] = dict(judged)
        return GroupSplit(attribute, "queries", _ordered(out, qrels))
    return None


def _ordered(groups: dict[str, Qrels], qrels: Qrels) -> dict[str, Qrels]:
    """Groups sorted by value, each group's queries in the pair's query order."""
    order = {q: i for i, q in enumerate(qrels)}
    return {v: dict(sorted(groups[v].items(), key=lambda kv: order[kv[0]])) for v in sorted(groups)}


@dataclass(frozen=True)
class Disparity:
    """Per-group values of one metric and the gap between the best and worst group.

    ``difference`` = best - worst and ``ratio`` = worst / best (fairlearn MetricFrame
    ``between_groups``), with bootstrap intervals from resampling queries.
    """

    attribute: str
    side: str
    metric: str
    by_group: dict[str, Estimate]
    difference: Estimate
    ratio: Estimate
    best: str
    worst: str


def group_disparity(
    split: GroupSplit,
    run: Mapping[str, Sequence[str]],
    query_ids: Sequence[str],
    metrics: Sequence[str],
    counts: np.ndarray,
    confidence: float,
) -> list[Disparity]:
    """Per-group metric values (fairlearn MetricFrame), difference and ratio, with CIs.

    Parameters
    ----------
    split : GroupSplit
        The groups and their qrels (:func:`split_by_group`).
    run : mapping
        The pair's ranking (shared by every group).
    query_ids : sequence of str
        The pair's evaluated queries; ``counts`` columns follow this order.
    metrics : sequence of str
        Metric names (``recall@10``, ...).
    counts : ndarray, shape (n_boot, len(query_ids))
        Bootstrap resampling counts (:func:`bootstrap_counts`).
    confidence : float
        Interval coverage.

    Returns
    -------
    list of Disparity
        One per metric; empty when fewer than two groups have queries.
    """
    import pandas as pd
    from fairlearn.metrics import MetricFrame

    groups = list(split.qrels)
    if len(groups) < 2:
        return []
    row = {q: i for i, q in enumerate(query_ids)}
    n_q, n_g = len(query_ids), len(groups)
    table = {m: np.full((n_q, n_g), np.nan) for m in metrics}
    for gi, value in enumerate(groups):
        sub = split.qrels[value]
        idx = [row[q] for q in sub]
        for m, vals in per_query(run, sub, metrics, list(sub)).items():
            table[m][idx, gi] = vals
    mask = np.isfinite(table[metrics[0]])
    q_idx, g_idx = np.nonzero(mask)
    long = {m: table[m][q_idx, g_idx] for m in metrics}
    # MetricFrame passes the rows of each group; y_true carries row positions so one
    # frame evaluates every metric on its own per-(query, group) values.
    positions = np.arange(q_idx.size)
    frame = MetricFrame(
        metrics={m: _mean_of(long[m]) for m in metrics},
        y_true=positions,
        y_pred=positions,
        sensitive_features=pd.Series([groups[g] for g in g_idx], name=split.attribute),
    )
    by_group = frame.by_group
    difference = frame.difference(method="between_groups")
    ratio = frame.ratio(method="between_groups")
    n_per_group = mask.sum(axis=0)
    out = []
    for m in metrics:
        boot = _bootstrap_groups(table[m], mask, counts)
        values = {g: float(by_group.loc[g, m]) for g in groups}
        best = max(groups, key=lambda g: (values[g], g))
        worst = min(groups, key=lambda g: (values[g], g))
        estimates = {
            g: Estimate(values[g], *_interval(boot[:, gi], confidence), int(n_per_group[gi]))
            for gi, g in enumerate(groups)
        }
        diff_b, ratio_b = _gaps(boot)
        n_all = int(mask.any(axis=1).sum())
        out.append(
            Disparity(
                attribute=split.attribute,
                side=split.side,
                metric=m,
                by_group=estimates,
                difference=Estimate(_finite(difference[m]), *_interval(diff_b, confidence), n_all),
                ratio=Estimate(_finite(ratio[m]), *_interval(ratio_b, confidence), n_all),
                best=best,
                worst=worst,
            )
        )
    return out


def _mean_of(values: np.ndarray) -> Any:
    def metric(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(values[np.asarray(y_true, dtype=np.int64)].mean())

    return metric


def _finite(x: Hashable) -> float | None:
    v = float(x)  # type: ignore[arg-type]
    return v if np.isfinite(v) else None


def _bootstrap_groups(values: np.ndarray, mask: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Group means per bootstrap replicate, NaN where a group drew no query."""
    sums = counts @ np.where(mask, values, 0.0)
    drawn = counts @ mask.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(drawn > 0, sums / np.where(drawn > 0, drawn, 1.0), np.nan)


def _gaps(boot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best - worst and worst / best per replicate (NaN with < 2 groups or best = 0)."""
    if boot.shape[0] == 0:
        return np.empty(0), np.empty(0)
    defined = np.isfinite(boot).sum(axis=1) >= 2
    filled_hi = np.where(np.isfinite(boot), boot, -np.inf).max(axis=1)
    filled_lo = np.where(np.isfinite(boot), boot, np.inf).min(axis=1)
    diff = np.where(defined, filled_hi - filled_lo, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(defined & (filled_hi > 0), filled_lo / filled_hi, np.nan)
    return diff, ratio
