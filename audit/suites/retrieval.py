"""The retrieval suite: quality per modality pair, embedding size and group, plus latency.

For each dataset and each embedder variant (``raw``, and ``debiased`` when a projection
is configured) every item is embedded once at the native size; smaller sizes are the
first d coordinates re-normalised (Matryoshka truncation), unless the embedder serves
that size itself (``served_dims``), in which case it is asked for it. Each modality pair
(query modality -> corpus modality) is searched on its own sub-corpus with
:func:`audit.retrieval.search` (ties: corpus id ascending) and scored with
:func:`audit.retrieval.evaluate`. See docs/retrieval.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from audit.context import RunContext
from audit.datasets import Dataset
from audit.embedders import Embedder, served_dims_of, truncate
from audit.items import Item
from audit.report import Result
from audit.suites._retrieval import (
    GROUP_DEFINITIONS,
    LATENCY_PREFIX,
    CallTimer,
    Disparity,
    Estimate,
    Ranking,
    RetrievalOptions,
    bootstrap_counts,
    group_disparity,
    mean_estimate,
    measure_latency,
    per_query,
    rank_corpus,
    split_by_group,
    too_few_queries,
    truncation_kind,
)
from audit.suites.base import Suite

log = logging.getLogger(__name__)

TIE_BREAK = "score descending, then corpus id ascending"
_RECALL_PARTS = ("recall@1", "recall@5", "recall@10")
_HIT_PARTS = ("hit@1", "hit@5", "hit@10")


def subsample(
    ds: Dataset, max_queries: int | None, max_corpus: int | None, rng: np.random.Generator
) -> tuple[Dataset, dict[str, int] | None]:
    """A smaller dataset for quick runs: some queries, all their relevant items, distractors.

    Queries are drawn at random and kept while their relevant items fit in ``max_corpus``
    (the first one always); the rest of the corpus budget goes to random distractors.

    Returns
    -------
    (dataset, info) : tuple
        ``info`` is None when nothing was left out, else the kept and total counts.
    """
    judged = [q.id for q in ds.queries if any(g > 0 for g in ds.qrels.get(q.id, {}).values())]
    if (max_queries is None or len(judged) <= max_queries) and (
        max_corpus is None or len(ds.corpus) <= max_corpus
    ):
        return ds, None
    keep_q: list[str] = []
    relevant: set[str] = set()
    for i in rng.permutation(len(judged)):
        q = judged[int(i)]
        rel = {d for d, g in ds.qrels[q].items() if g > 0}
        if keep_q and max_corpus is not None and len(relevant | rel) > max_corpus:
            continue
        keep_q.append(q)
        relevant |= rel
        if max_queries is not None and len(keep_q) >= max_queries:
            break
    others = [it.id for it in ds.corpus if it.id not in relevant]
    room = len(others) if max_corpus is None else max(0, max_corpus - len(relevant))
    picked = rng.choice(len(others), size=min(room, len(others)), replace=False)
    keep_c = relevant | {others[int(i)] for i in picked}
    kept_q = set(keep_q)
    small = Dataset(
        name=ds.name,
        root=ds.root,
        corpus=[it for it in ds.corpus if it.id in keep_c],
        queries=[q for q in ds.queries if q.id in kept_q],
        qrels={
            q: {d: g for d, g in j.items() if d in keep_c}
            for q, j in ds.qrels.items()
            if q in kept_q
        },
        card=ds.card,
        split=ds.split,
    )
    info = {
        "queries": len(small.queries),
        "queries_total": len(ds.queries),
        "corpus": len(small.corpus),
        "corpus_total": len(ds.corpus),
    }
    return small, info


def modality_pairs(ds: Dataset) -> dict[str, dict[str, dict[str, int]]]:
    """``"query->corpus"`` modality pair -> its qrels (queries with a relevant item of it)."""
    corpus_mod = {it.id: it.modality for it in ds.corpus}
    pairs: dict[str, dict[str, dict[str, int]]] = {}
    for q in ds.queries:
        judged = ds.qrels.get(q.id, {})
        for cm in sorted({corpus_mod[d] for d, g in judged.items() if g > 0}):
            sub = {d: g for d, g in judged.items() if corpus_mod[d] == cm}
            pairs.setdefault(f"{q.modality}->{cm}", {})[q.id] = sub
    return dict(sorted(pairs.items()))


def _with_averages(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Add per-query ``avg_recall`` (and ``avg_hit`` when hit@k was computed)."""
    out = dict(values)
    if all(p in values for p in _RECALL_PARTS):
        out["avg_recall"] = np.mean([values[p] for p in _RECALL_PARTS], axis=0)
    if all(p in values for p in _HIT_PARTS):
        out["avg_hit"] = np.mean([values[p] for p in _HIT_PARTS], axis=0)
    return out


class RetrievalSuite(Suite):
    """Retrieval quality per modality pair, embedding size and group; embedding latency.

    Options (``[suite.retrieval]``): ``datasets`` (specs, default every built-in present;
    ``--quick``: passages, emoji-professions), ``sizes`` (default native +
    Matryoshka sizes, or 1024/512/256/128/64 below the native size for a non-MRL model),
    ``metrics``, ``group_metrics`` (default recall@10, ndcg@10), ``group_attributes``
    (default: each card's), ``engine`` (default faiss-flat: exact; an approximate engine
    adds its recall against exact search to every result) and ``engine_params``,
    ``n_bootstrap`` (1000; quick 200), ``confidence`` (0.95), ``max_queries`` /
    ``max_corpus`` (quick 10 / 64; 0 = no cap), ``latency_items`` (16; quick 0 = off).

    Parameters
    ----------
    datasets : sequence of Dataset, optional
        In-memory datasets to evaluate instead of the ``datasets`` option.
    """

    name = "retrieval"
    description = "retrieval quality per modality pair, embedding size and group"

    def __init__(self, datasets: Sequence[Dataset] | None = None) -> None:
        self._given = list(datasets) if datasets is not None else None

    def check_options(self, options: Mapping[str, Any], *, quick: bool) -> None:
        """Validate ``[suite.retrieval]`` (see :class:`RetrievalOptions`)."""
        RetrievalOptions.parse(options, quick=quick)

    def dataset_specs(self, options: Mapping[str, Any], *, quick: bool) -> list[str]:
        """The ``datasets`` option (none when datasets were given in memory)."""
        if self._given is not None:
            return []
        return list(RetrievalOptions.parse(options, quick=quick).datasets)

    def _run(self, ctx: RunContext) -> Iterable[Result]:
        opts = RetrievalOptions.parse(ctx.options(self.name), quick=ctx.config.quick)
        loaded = self._given if self._given is not None else [ctx.dataset(s) for s in opts.datasets]
        names = [ds.name for ds in loaded]
        if len(set(names)) != len(names):
            raise ValueError(f"retrieval: dataset names must be unique, got {names}")
        datasets: list[tuple[Dataset, dict[str, int] | None]] = []
        for ds in loaded:
            if not ds.queries:
                log.warning("retrieval: dataset %s has no queries; skipped", ds.name)
                continue
            rng = ctx.rng(f"retrieval/subsample/{ds.name}")
            datasets.append(subsample(ds, opts.max_queries, opts.max_corpus, rng))
        if opts.latency_items > 0:
            yield from self._latency(ctx, opts, [ds for ds, _ in datasets])
        for ds, sampled in datasets:
            for variant, embedder in ctx.variants.items():
                yield from self._dataset(ctx, opts, ds, sampled, variant, embedder)

    # -- latency --------------------------------------------------------------------
    def _latency(
        self, ctx: RunContext, opts: RetrievalOptions, datasets: list[Dataset]
    ) -> Iterable[Result]:
        embedder = ctx.variants.get("raw", ctx.embedder)
        pools: dict[tuple[str, str], list[tuple[str, Item]]] = {}
        for ds in datasets:
            for purpose, items in (("query", ds.queries), ("index", ds.corpus)):
                for it in items:
                    pools.setdefault((it.modality, purpose), []).append((ds.name, it))
        samples = measure_latency(embedder, pools, opts.latency_items, ctx.rng("retrieval/latency"))
        for s in samples:
            details = {
                "purpose": s.purpose,
                "timed": s.timed,
                "seconds": s.seconds,
                "datasets": s.sources,
                "method": "one batched embed call after a one-item warm-up",
                "warmup_item_reused": s.warmup_reused,
            }
            for metric, value in (
                ("latency_ms_per_item", s.ms_per_item),
                ("throughput_items_per_s", s.items_per_s),
            ):
                yield Result(
                    suite=self.name,
                    check=f"{LATENCY_PREFIX}{s.purpose}",
                    metric=metric,
                    value=value if np.isfinite(value) else None,
                    variant="raw",
                    dim=int(embedder.dim),
                    modality=s.modality,
                    n=s.n_items,
                    details=details,
                )

    # -- one dataset, one variant ---------------------------------------------------
    def _dataset(
        self,
        ctx: RunContext,
        opts: RetrievalOptions,
        ds: Dataset,
        sampled: dict[str, int] | None,
        variant: str,
        embedder: Embedder,
    ) -> Iterable[Result]:
        pairs = modality_pairs(ds)
        supported = {}
        for pair, qrels in pairs.items():
            missing = sorted(set(pair.split("->")) - set(embedder.modalities))
            if missing:
                log.warning(
                    "retrieval: %s %s skipped for variant %s: %s does not embed %s",
                    ds.name,
                    pair,
                    variant,
                    embedder.name,
                    missing,
                )
            else:
                supported[pair] = qrels
        if not supported:
            return
        q_ids = {q for qrels in supported.values() for q in qrels}
        c_mods = {p.split("->")[1] for p in supported}
        queries = [q for q in ds.queries if q.id in q_ids]
        corpus = [c for c in ds.corpus if c.modality in c_mods]
        sizes = opts.sizes_for(embedder)
        timer = CallTimer(embedder)
        q_vecs = self._embed_sizes(timer, "queries", queries, "query", embedder, sizes)
        c_vecs = self._embed_sizes(timer, "corpus", corpus, "index", embedder, sizes)
        q_row = {q.id: i for i, q in enumerate(queries)}
        for pair, qrels in supported.items():
            cm = pair.split("->")[1]
            c_rows = [i for i, c in enumerate(corpus) if c.modality == cm]
            counts = bootstrap_counts(
                ctx.rng(f"retrieval/{ds.name}/{pair}"), len(qrels), opts.n_bootstrap
            )
            for dim, (vecs_q, source) in q_vecs.items():
                base = {
                    "engine": opts.engine,
                    "truncation": truncation_kind(embedder, dim),
                    "size_source": source,
                    "tie_break": TIE_BREAK,
                    "n_corpus": len(c_rows),
                    "n_bootstrap": int(counts.shape[0]),
                    "confidence": opts.confidence,
                    "observed_embedding": timer.describe(),
                }
                if sampled:
                    base["subsample"] = sampled
                yield from self._pair(
                    ds,
                    pair,
                    qrels,
                    vecs_q[[q_row[q] for q in qrels]],
                    c_vecs[dim][0][c_rows],
                    [corpus[i] for i in c_rows],
                    counts,
                    opts,
                    variant,
                    dim,
                    base,
                )

    def _embed_sizes(
        self,
        timer: CallTimer,
        label: str,
        items: list[Item],
        purpose: str,
        embedder: Embedder,
        sizes: list[int],
    ) -> dict[int, tuple[np.ndarray, str]]:
        """Vectors per size: native once, truncated, or requested where the embedder serves it."""
        native = timer.embed(label, items, purpose)
        served = set(served_dims_of(embedder))
        out: dict[int, tuple[np.ndarray, str]] = {}
        for dim in sizes:
            if dim == embedder.dim:
                out[dim] = (native, "native")
            elif dim in served:
                out[dim] = (timer.embed(label, items, purpose, dim), "served by the embedder")
            else:
                out[dim] = (truncate(native, dim, embedder.dim), "truncated and re-normalised")
        return out

    def _pair(
        self,
        ds: Dataset,
        pair: str,
        qrels: dict[str, dict[str, int]],
        q_vecs: np.ndarray,
        c_vecs: np.ndarray,
        corpus: list[Item],
        counts: np.ndarray,
        opts: RetrievalOptions,
        variant: str,
        dim: int,
        base: dict[str, Any],
    ) -> Iterable[Result]:
        query_ids = list(qrels)
        metrics = list(opts.metrics)
        multi = any(sum(g > 0 for g in j.values()) > 1 for j in qrels.values())
        if multi:
            # Several relevant items per query: recall@k is a share of them, so the seed
            # report's "Recall@k" (a relevant item in the top k) is reported as hit@k too.
            metrics += [f"hit@{k}" for k in (1, 5, 10) if f"hit@{k}" not in metrics]
        cutoffs = sorted({int(m.split("@")[1]) for m in [*metrics, *opts.group_metrics]})

        def rank(reverse_ties: bool) -> Ranking:
            return rank_corpus(
                q_vecs,
                c_vecs,
                query_ids,
                [c.id for c in corpus],
                cutoffs[-1],
                engine=opts.engine,
                engine_params=opts.engine_params,
                cutoffs=cutoffs,
                reverse_ties=reverse_ties,
            )

        ranking = rank(False)
        # Exact ties across a cut-off (identical vectors, e.g. one transcript for several
        # voices) make a number depend on the id order; the reversed order bounds that.
        rev_run = rank(True).run if any(ranking.ties_at_cutoff.values()) else None
        details = {
            **base,
            "depth": ranking.depth,
            "ties_at_cutoff": {str(k): v for k, v in ranking.ties_at_cutoff.items()},
        }
        if ranking.params:
            details["engine_params"] = ranking.params
        values = per_query(ranking.run, qrels, metrics, query_ids)
        reversed_means: dict[str, float] = {}
        if rev_run is not None:
            rev = per_query(rev_run, qrels, metrics, query_ids)
            reversed_means = {m: float(v.mean()) for m, v in _with_averages(rev).items()}
        common = {"check": ds.name, "variant": variant, "dim": dim, "modality": pair}
        for metric, vals in _with_averages(values).items():
            est = mean_estimate(vals, counts, opts.confidence)
            # Every number carries its search: engine, and for an approximate engine the
            # recall@k of these rankings against exact search at the metric's own k.
            extra = {**details, **ranking.search_details(metric)}
            if metric in reversed_means:
                extra["value_ties_reversed"] = reversed_means[metric]
            yield self._result(common, metric, est, None, extra)
        yield from self._groups(ds, qrels, ranking, rev_run, counts, opts, common, details)

    def _groups(
        self,
        ds: Dataset,
        qrels: dict[str, dict[str, int]],
        ranking: Ranking,
        rev_run: dict[str, list[str]] | None,
        counts: np.ndarray,
        opts: RetrievalOptions,
        common: dict[str, Any],
        details: dict[str, Any],
    ) -> Iterable[Result]:
        run = ranking.run
        attributes = opts.group_attributes
        if attributes is None:
            attributes = list(ds.card.get("group_attributes", []) or [])
        corpus_attrs = {it.id: it.attributes for it in ds.corpus}
        query_attrs = {q.id: q.attributes for q in ds.queries}
        for attribute in attributes:
            split = split_by_group(attribute, qrels, corpus_attrs, query_attrs)
            if split is None:
                log.info("retrieval: %s has no attribute %r; no groups", ds.name, attribute)
                continue
            extra = {
                **details,
                "attribute": attribute,
                "side": split.side,
                "definition": GROUP_DEFINITIONS[split.side],
            }
            found = group_disparity(
                split, run, list(qrels), opts.group_metrics, counts, opts.confidence
            )
            rev: dict[str, Disparity] = {}
            if rev_run is not None:
                no_draws = np.zeros((0, len(qrels)), dtype=np.int64)
                rev = {
                    d.metric: d
                    for d in group_disparity(
                        split, rev_run, list(qrels), opts.group_metrics, no_draws, 0.95
                    )
                }
            for d in found:
                r = rev.get(d.metric)
                searched = {**extra, **ranking.search_details(d.metric)}
                for value, est in d.by_group.items():
                    more = searched
                    if r is not None:
                        more = {**searched, "value_ties_reversed": r.by_group[value].value}
                    yield self._result(common, d.metric, est, f"{attribute}={value}", more)
                gap = {
                    **searched,
                    "by_group": {g: e.value for g, e in d.by_group.items()},
                    "best_group": d.best,
                    "worst_group": d.worst,
                }
                for name, est, alt in (
                    ("difference", d.difference, r and r.difference.value),
                    ("ratio", d.ratio, r and r.ratio.value),
                ):
                    more = gap if r is None else {**gap, "value_ties_reversed": alt}
                    yield self._result(common, f"{d.metric}_{name}", est, attribute, more)

    def _result(
        self,
        common: dict[str, Any],
        metric: str,
        est: Estimate,
        group: str | None,
        details: dict[str, Any],
    ) -> Result:
        return Result(
            suite=self.name,
            metric=metric,
            value=est.value,
            group=group,
            ci_low=est.ci_low,
            ci_high=est.ci_high,
            n=est.n,
            too_few=too_few_queries(est.n),
            details=details,
            **common,
        )
