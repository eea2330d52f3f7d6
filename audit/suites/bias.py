"""The bias suite: association tests of the embedding space.

This first version runs WEAT 1-10 (Caliskan et al. 2017) on bare words: effect size
(ddof=1), one-sided permutation p-value (exact enumeration when feasible, else sampled
permutations without replacement) and a bootstrap CI. Statistics live in
``fairness.probes``; this module only embeds the stimuli and files the results.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from audit.context import RunContext
from audit.items import Item, text_item
from audit.report import Result
from audit.suites.base import Suite

log = logging.getLogger(__name__)

DEFAULT_TESTS = tuple(f"weat{i}" for i in range(1, 11))


def _word_items(prefix: str, words: Iterable[str]) -> list[Item]:
    return [text_item(f"{prefix}/{i}", w) for i, w in enumerate(words)]


class BiasSuite(Suite):
    """Association tests (WEAT on bare words) with effect sizes, p-values and CIs.

    Options (``[suite.bias]`` in the config file): ``tests`` (names, default WEAT 1-10),
    ``n_permutations`` (sampled test size when exact enumeration is too large),
    ``exact_max`` (largest partition count enumerated exactly), ``n_bootstrap``,
    ``confidence``.
    """

    name = "bias"
    description = "association tests (WEAT) of the embedding space"

    def _run(self, ctx: RunContext) -> Iterable[Result]:
        from fairness.probes import association_test, load_weat_tests

        opts: dict[str, Any] = ctx.options(self.name)
        quick = ctx.config.quick
        n_perm = int(opts.get("n_permutations", 10_000 if quick else 100_000))
        n_boot = int(opts.get("n_bootstrap", 500 if quick else 2_000))
        exact_max = int(opts.get("exact_max", 100_000))
        confidence = float(opts.get("confidence", 0.95))
        specs = load_weat_tests()
        names = list(opts.get("tests", DEFAULT_TESTS))
        unknown = [n for n in names if n not in specs]
        if unknown:
            raise ValueError(f"unknown WEAT test(s) {unknown}; known: {sorted(specs)}")
        for name in names:
            spec = specs[name]
            sets = [*spec.targets, *spec.attributes]
            vecs = [
                ctx.embedder.embed(_word_items(f"{name}/{ws.name}", ws.words), purpose="index")
                for ws in sets
            ]
            res = association_test(
                *vecs,
                n_permutations=n_perm,
                exact_max=exact_max,
                n_bootstrap=n_boot,
                confidence=confidence,
                random_state=ctx.seed_for(f"bias/{name}"),
            )
            yield Result(
                suite=self.name,
                check=f"weat/{name}",
                metric="effect_size",
                value=float(res.effect_size),
                variant="raw",
                dim=int(vecs[0].shape[1]),
                modality="text",
                ci_low=float(res.ci_low),
                ci_high=float(res.ci_high),
                p_value=float(res.p_value),
                n=int(sum(res.n_targets)),
                details={
                    "description": spec.description,
                    "targets": [ws.name for ws in spec.targets],
                    "attributes": [ws.name for ws in spec.attributes],
                    "statistic": float(res.statistic),
                    "p_value_method": res.p_value_method,
                    "n_permutations": int(res.n_permutations),
                    "ties": res.ties,
                    "ddof": int(res.ddof),
                    "n_bootstrap": int(res.n_bootstrap),
                    "confidence": float(res.confidence),
                    "n_attributes": list(res.n_attributes),
                    "stimuli": "bare words",
                    "source": spec.source,
                },
            )
