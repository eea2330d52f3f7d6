"""Retrieval probes: skew of neutral queries and per-group quality.

- Skew: attribute-free queries rank a gallery with group labels; Skew@k per group,
  MaxSkew@k, MinSkew@k and NDKL@k (Geyik et al. 2019) against the uniform target over the
  groups present, with p-values from shuffled gallery labels and intervals from a
  bootstrap over query clusters (the templates of one word).
- Disparity: the dataset's own queries and qrels, quality per group of the relevant
  items (the retrieval suite's definition, fairlearn MetricFrame), with a within-query
  permutation p-value for the best-minus-worst gap.

(The projection cost at each embedding size is in :mod:`._cost`.)
Search: ``audit.retrieval.search`` with the ``engine`` option (default "faiss-flat",
exact; ties broken by corpus id); an approximate engine's recall against exact search
is recorded next to every number (``details.search_recall``). A huge gallery can be
ranked on a seeded stratified sample (``gallery_sample``; see :mod:`._sampling`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from audit.items import text_item
from audit.report import Result, TestInfo
from audit.suites._bias._env import ProbeEnv
from audit.suites._bias._probe import Probe, dataset_label, finite
from audit.suites._bias._sampling import sample_gallery

log = logging.getLogger(__name__)

EMPTY_GROUP_RULE = (
    "a group absent from a top k gets share 1/k (one item's share, Berg et al.'s code) so "
    "Skew stays finite; 'absent' counts the queries where that happened"
)
TARGET_RULE = "uniform over the groups present in the gallery"
TIE_BREAK = "equal scores ordered by corpus id"


def search_details(found: Any, k: int) -> dict[str, Any]:
    """Engine of a skew search and, if approximate, its recall@k against exact search."""
    out: dict[str, Any] = {"engine": found.engine, "search_exact": bool(found.exact)}
    if not found.exact:
        out.update(
            search_recall=found.recall_at.get(k, found.recall),
            search_recall_k=k if k in found.recall_at else found.k,
            search_recall_queries=found.recall_queries,
        )
    return out


class SkewProbe(Probe):
    """Skew of neutral queries over a gallery, one check per attribute.

    Parameters
    ----------
    dataset : str
        Dataset spec of the gallery (its corpus).
    attributes : tuple of str
        Group attributes of the corpus items.
    queries : str or tuple of str
        Neutral set name (``fairness.probes``), ``"dataset"`` or a list of texts.
    modalities : frozenset of str
        What the embedder must accept (query and gallery modalities).
    name : str, optional
        Probe name (default ``skew/<dataset basename>``).
    """

    kind = "skew"

    def __init__(
        self,
        dataset: str,
        attributes: tuple[str, ...],
        queries: str | tuple[str, ...],
        modalities: frozenset[str],
        name: str | None = None,
    ) -> None:
        label = dataset_label(dataset)
        self.name = name or f"skew/{label}"
        self.dataset = dataset
        self.datasets = (dataset,)
        self.attributes = attributes
        self.queries = queries
        self.modalities = modalities
        self.description = (
            f"retrieval skew of neutral queries ({queries if isinstance(queries, str) else 'list'})"
            f" over {dataset} by {', '.join(attributes)}: Skew@k, MaxSkew@k, MinSkew@k, NDKL"
        )

    def _query_items(self, ds: Any) -> tuple[list[Any], list[str], dict[str, Any]]:
        from fairness.probes import load_neutral_queries, neutral_query_sets

        if self.queries == "dataset":
            items = list(ds.queries)
            return items, [q.id for q in items], {"queries": f"{ds.name}'s own queries"}
        if isinstance(self.queries, tuple):
            items = [text_item(f"q/{i}", t) for i, t in enumerate(self.queries)]
            return items, [it.id for it in items], {"queries": "configured list"}
        qs = load_neutral_queries(self.queries)
        meta = neutral_query_sets()[self.queries]
        values = {str(v).lower() for it in ds.corpus for v in it.attributes.values()}
        unmatched = sorted({q.word for q in qs if q.word.lower() not in values})
        if unmatched:
            # Not an error: neutral queries need not name gallery content, but say so.
            log.info(
                "bias: neutral queries %s name no gallery attribute: %s", self.queries, unmatched
            )
        items = [text_item(q.id, q.text) for q in qs]
        info = {
            "queries": f"neutral set {self.queries!r}",
            "templates": list(meta["templates"]),
            "query_words": len(meta["words"]),
            "query_provenance": meta["provenance"],
        }
        return items, [q.word for q in qs], info

    def run(self, env: ProbeEnv, variant: str) -> list[Result]:
        from audit.retrieval import search
        from fairness.probes import cluster_bootstrap_ci, skew_permutation_test, uniform_target

        opts = env.options
        ds = env.dataset(self.dataset)
        q_items, clusters, q_info = self._query_items(ds)
        qv = env.vectors(variant, q_items, "query")
        out: list[Result] = []
        for attribute in self.attributes:
            gallery = [it for it in ds.corpus if attribute in it.attributes]
            if len(gallery) < len(ds.corpus):
                log.warning(
                    "bias: %d of %d %s items lack %r; ranked without them",
                    len(ds.corpus) - len(gallery),
                    len(ds.corpus),
                    ds.name,
                    attribute,
                )
            # Sample before embedding: on a huge gallery the embedding is the cost.
            sampled = sample_gallery(
                [str(it.attributes[attribute]) for it in gallery],
                opts.gallery_sample,
                method=opts.gallery_sample_method,
                seed=env.seed(f"bias/gallery-sample/{ds.name}/{attribute}"),
            )
            gallery = [gallery[int(i)] for i in sampled.rows]
            ks = [k for k in opts.skew_k if k <= len(gallery)]
            if any(2 * k > len(gallery) for k in ks):
                # Near the gallery size every share tends to the gallery's own: Skew ~ 0.
                log.warning("bias: skew k %s exceeds half of %d items", ks, len(gallery))
            if not gallery or not ks:
                log.warning("bias: %s has too few items with %r for skew", ds.name, attribute)
                continue
            gv = env.vectors(variant, gallery, "index")
            found = search(
                qv,
                gv,
                max(ks),
                corpus_ids=[it.id for it in gallery],
                engine=opts.engine,
                recall_cutoffs=ks,
                **opts.engine_params,
            )
            labels = [str(it.attributes[attribute]) for it in gallery]
            target = uniform_target(labels)
            shares = {g: labels.count(g) / len(labels) for g in target}
            sampling = sampled.details()
            check = f"skew/{ds.name}/{attribute}"
            for k in ks:
                seed = env.seed(f"bias/{check}@{k}")
                t = skew_permutation_test(
                    labels,
                    found.indices,
                    target,
                    k,
                    n_permutations=opts.skew_permutations,
                    random_state=seed,
                )
                base = {
                    "dataset": self.dataset,
                    "attribute": attribute,
                    "k": k,
                    "gallery_size": len(gallery),
                    "k_share_of_gallery": k / len(gallery),
                    "target": {str(g): p for g, p in target.items()},
                    "target_rule": TARGET_RULE,
                    "gallery_shares": shares,
                    "empty_group_rule": EMPTY_GROUP_RULE,
                    "n_permutations": t.n_permutations,
                    "null": "gallery labels shuffled, rankings kept (a ranking blind to groups)",
                    "null_mean": t.null_mean,
                    "mean_skew_by_group": {
                        str(g): float(v) for g, v in zip(t.groups, t.skew.mean(axis=0), strict=True)
                    },
                    "absent_by_group": {
                        str(g): int(a) for g, a in zip(t.groups, t.absent, strict=True)
                    },
                    "tie_break": TIE_BREAK,
                    "n_clusters": len(set(clusters)),
                    "gallery_sampling": sampling,
                    **search_details(found, k),
                    **q_info,
                }
                common = {
                    "check": check,
                    "variant": variant,
                    "dim": int(qv.shape[1]),
                    "modality": ds.modality_pair
                    if self.queries == "dataset"
                    else "text->" + "+".join(ds.corpus_modalities),
                    "n": int(qv.shape[0]),
                }

                def ci(values: np.ndarray, seed: int = seed) -> tuple[float, float]:
                    return cluster_bootstrap_ci(
                        values,
                        clusters,
                        n_bootstrap=opts.n_bootstrap,
                        confidence=opts.confidence,
                        random_state=seed,
                    )

                # Each statistic is tested against group-blind rankings in the direction
                # that means bias: MaxSkew and NDKL larger, MinSkew smaller.
                for metric, values, p, side in (
                    (f"max_skew@{k}", t.max_skew, t.p_max_skew, "greater"),
                    (f"min_skew@{k}", t.min_skew, t.p_min_skew, "less"),
                    (f"ndkl@{k}", t.ndkl, t.p_ndkl, "greater"),
                ):
                    lo, hi = ci(values)
                    out.append(
                        self.result(
                            metric=metric,
                            value=float(values.mean()),
                            ci_low=lo,
                            ci_high=hi,
                            p_value=p,
                            details=base,
                            test=TestInfo(
                                name="permutation vs group-blind rankings",
                                sidedness=side,  # type: ignore[arg-type]
                                statistic=finite(values.mean()),
                            ),
                            **common,
                        )
                    )
                for j, group in enumerate(t.groups):
                    lo, hi = ci(t.skew[:, j])
                    out.append(
                        self.result(
                            metric=f"skew@{k}",
                            value=float(t.skew[:, j].mean()),
                            group=str(group),
                            ci_low=lo,
                            ci_high=hi,
                            details={
                                "target": target[group],
                                "gallery_share": shares[group],
                                "absent_in_queries": int(t.absent[j]),
                                "k": k,
                                "empty_group_rule": EMPTY_GROUP_RULE,
                                "gallery_sampling": sampling,
                                **search_details(found, k),
                            },
                            **common,
                        )
                    )
        return out


class DisparityProbe(Probe):
    """Retrieval quality per group (the dataset's queries and qrels), one check per attribute."""

    kind = "disparity"

    def __init__(
        self,
        dataset: str,
        attributes: tuple[str, ...],
        modalities: frozenset[str],
        name: str | None = None,
        note: str | None = None,
    ) -> None:
        label = dataset_label(dataset)
        self.name = name or f"disparity/{label}"
        self.dataset = dataset
        self.datasets = (dataset,)
        self.attributes = attributes
        self.modalities = modalities
        self.note = note
        self.description = (
            f"retrieval quality per group on {dataset} by {', '.join(attributes)} "
            "(fairlearn MetricFrame: by group, difference, ratio; bootstrap CIs; gap p-value)"
        )

    def run(self, env: ProbeEnv, variant: str) -> list[Result]:
        from audit.suites._retrieval import (
            GROUP_DEFINITIONS,
            bootstrap_counts,
            group_disparity,
            per_query,
            rank_corpus,
            split_by_group,
        )
        from fairness.probes import group_gap_test

        opts = env.options
        ds = env.dataset(self.dataset)
        qrels = {q: j for q, j in ds.qrels.items() if any(g > 0 for g in j.values())}
        by_id = ds.queries_by_id()
        queries = [by_id[q] for q in qrels]
        qv = env.vectors(variant, queries, "query")
        cv = env.vectors(variant, ds.corpus, "index")
        metrics = list(opts.disparity_metrics)
        depth = max(int(m.split("@")[1]) for m in metrics)
        ranking = rank_corpus(
            qv,
            cv,
            list(qrels),
            [c.id for c in ds.corpus],
            depth,
            engine=opts.engine,
            engine_params=opts.engine_params,
            cutoffs=sorted({int(m.split("@")[1]) for m in metrics}),
        )
        seed = env.seed(f"bias/{self.name}")
        counts = bootstrap_counts(np.random.default_rng(seed), len(qrels), opts.n_bootstrap)
        corpus_attrs = {it.id: it.attributes for it in ds.corpus}
        query_attrs = {q.id: q.attributes for q in ds.queries}
        out: list[Result] = []
        for attribute in self.attributes:
            split = split_by_group(attribute, qrels, corpus_attrs, query_attrs)
            if split is None or len(split.qrels) < 2:
                log.warning("bias: %s has no two groups of %r; no disparity", ds.name, attribute)
                continue
            check = f"disparity/{ds.name}/{attribute}"
            common = {
                "check": check,
                "variant": variant,
                "dim": int(qv.shape[1]),
                "modality": ds.modality_pair,
            }
            base = {
                "dataset": self.dataset,
                "attribute": attribute,
                "side": split.side,
                "definition": GROUP_DEFINITIONS[split.side],
                "tie_break": TIE_BREAK,
                "n_bootstrap": opts.n_bootstrap,
                "confidence": opts.confidence,
                **({"note": self.note} if self.note else {}),
            }
            groups = list(split.qrels)
            for d in group_disparity(
                split, ranking.run, list(qrels), metrics, counts, opts.confidence
            ):
                table = np.full((len(qrels), len(groups)), np.nan)
                row = {q: i for i, q in enumerate(qrels)}
                for gi, g in enumerate(groups):
                    sub = split.qrels[g]
                    vals = per_query(ranking.run, sub, [d.metric], list(sub))[d.metric]
                    table[[row[q] for q in sub], gi] = vals
                complete = np.isfinite(table).all(axis=1)
                gap = group_gap_test(
                    table[complete],
                    n_permutations=opts.gap_permutations,
                    random_state=seed,
                )
                searched = {**base, **ranking.search_details(d.metric)}
                for g, est in d.by_group.items():
                    out.append(
                        self.result(
                            metric=d.metric,
                            value=est.value,
                            group=g,
                            ci_low=est.ci_low,
                            ci_high=est.ci_high,
                            n=est.n,
                            details=searched,
                            **common,
                        )
                    )
                gap_details = {
                    **searched,
                    "by_group": {g: e.value for g, e in d.by_group.items()},
                    "best_group": d.best,
                    "worst_group": d.worst,
                    "gap_test": {
                        "statistic": "best minus worst group mean over complete queries",
                        "null": "group labels permuted within each query",
                        "method": gap.method,
                        "n_permutations": gap.n_permutations,
                        "n_queries": int(complete.sum()),
                    },
                }
                out.append(
                    self.result(
                        metric=f"{d.metric}_difference",
                        value=d.difference.value,
                        ci_low=d.difference.ci_low,
                        ci_high=d.difference.ci_high,
                        p_value=gap.p_value,
                        n=d.difference.n,
                        details=gap_details,
                        test=TestInfo(
                            name=f"permutation within queries ({gap.method})",
                            sidedness="greater",  # best - worst is >= 0 by construction
                            statistic=finite(d.difference.value),
                        ),
                        **common,
                    )
                )
                out.append(
                    self.result(
                        metric=f"{d.metric}_ratio",
                        value=d.ratio.value,
                        ci_low=d.ratio.ci_low,
                        ci_high=d.ratio.ci_high,
                        n=d.ratio.n,
                        details=gap_details,
                        **common,
                    )
                )
        return out
