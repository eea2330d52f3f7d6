"""The retrieval cost of a projection: quality at each embedding size, raw vs debiased."""

from __future__ import annotations

import numpy as np

from audit.report import Result
from audit.suites._bias._env import ProbeEnv
from audit.suites._bias._probe import Probe, dataset_label
from audit.suites._bias._ranking import TIE_BREAK


class CostProbe(Probe):
    """Retrieval quality at each embedding size, to set the projection's cost against raw."""

    kind = "projection-cost"
    min_variants = 2
    metrics: tuple[str, ...] = ("recall@10", "ndcg@10")

    def __init__(self, dataset: str, modalities: frozenset[str]) -> None:
        label = dataset_label(dataset)
        self.name = f"projection-cost/{label}"
        self.dataset = dataset
        self.datasets = (dataset,)
        self.modalities = modalities
        self.description = (
            f"retrieval cost of the projection on {dataset}: recall@10 and nDCG@10 at each "
            "embedding size, raw vs debiased"
        )

    def sizes(self, env: ProbeEnv, variant: str) -> list[int]:
        """Configured sizes that fit, else native plus the retrieval suite's defaults."""
        from audit.suites._retrieval import default_sizes

        emb = env.embedder(variant)
        if env.options.sizes:
            return sorted({emb.dim, *(s for s in env.options.sizes if s < emb.dim)}, reverse=True)
        return default_sizes(emb)

    def run(self, env: ProbeEnv, variant: str) -> list[Result]:
        from audit.embedders.base import truncate
        from audit.suites._retrieval import (
            bootstrap_counts,
            mean_estimate,
            per_query,
            rank_corpus,
            truncation_kind,
        )

        opts = env.options
        emb = env.embedder(variant)
        ds = env.dataset(self.dataset)
        qrels = {q: j for q, j in ds.qrels.items() if any(g > 0 for g in j.values())}
        by_id = ds.queries_by_id()
        qv = env.vectors(variant, [by_id[q] for q in qrels], "query")
        cv = env.vectors(variant, ds.corpus, "index")
        counts = bootstrap_counts(
            np.random.default_rng(env.seed(f"bias/{self.name}")), len(qrels), opts.n_bootstrap
        )
        out: list[Result] = []
        for size in self.sizes(env, variant):
            q, c = truncate(qv, size, emb.dim), truncate(cv, size, emb.dim)
            ranking = rank_corpus(q, c, list(qrels), [it.id for it in ds.corpus], 10)
            values = per_query(ranking.run, qrels, list(self.metrics), list(qrels))
            label = "native" if size == emb.dim else str(size)
            for metric, vals in values.items():
                est = mean_estimate(vals, counts, opts.confidence)
                out.append(
                    self.result(
                        check=self.name,
                        metric=metric,
                        value=est.value,
                        variant=variant,
                        dim=size,
                        modality=ds.modality_pair,
                        ci_low=est.ci_low,
                        ci_high=est.ci_high,
                        n=est.n,
                        details={
                            "dataset": self.dataset,
                            "size_label": label,
                            "truncation": truncation_kind(emb, size),
                            "tie_break": TIE_BREAK,
                            "confidence": opts.confidence,
                        },
                    )
                )
        return out
