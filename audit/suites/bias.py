"""The bias suite: association tests, retrieval skew, per-group quality, raw and debiased.

Probes (``audit.suites._bias``; statistics in ``fairness.probes``):

- association tests with effect size (ddof=1), two-sided permutation p-value (exact when
  feasible, else sampled without replacement) and a bootstrap CI: WEAT 1-10 on bare words
  (``weat/weatN``), SEAT sentences over the same lists (``seat/weatN``), cross-modal tests
  of emoji images against word sets (``xmodal/...``, modality ``image|text``), and user
  tests from probe files (``weat/``, ``seat/``, ``ieat/``, ``xmodal/`` + their name);
- retrieval skew of neutral profession queries over the emoji gallery by gender and skin
  tone (``skew/<dataset>/<attribute>``: ``skew@k`` per group, ``max_skew@k``,
  ``min_skew@k``, ``ndkl@k`` against the uniform target over the groups present);
- per-group retrieval quality (``disparity/<dataset>/<attribute>``: fairlearn MetricFrame
  by group, ``<metric>_difference`` with a permutation p-value, ``<metric>_ratio``);
- the retrieval cost of the projection at each embedding size (``projection-cost/...``).

Every probe runs on every variant (``raw``, ``debiased``); with both, ``delta`` results
give debiased minus raw. Without a configured projection the suite fits the project's
default one (``audit fit-debias`` defaults) unless ``debias = "none"`` or ``tests`` is
given. p-values get a Holm-Bonferroni adjustment per family (``p_adjusted``, ``p_family``;
the rule in docs/bias-statistics.md) and small samples are marked (``too_few``).
See docs/bias.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from audit.context import RunContext
from audit.progress import Progress
from audit.report import Result
from audit.suites._bias import (
    COVERAGE_CHECK,
    NOT_RUN_BY_DESIGN,
    BiasOptions,
    Probe,
    ProbeEnv,
    builtin_probes,
    builtin_projection,
    deltas,
    finish_statistics,
    list_probes,
    projection_info,
    run_registry,
    select,
)
from audit.suites.base import Suite

__all__ = ["BiasSuite", "list_probes"]

log = logging.getLogger(__name__)


class BiasSuite(Suite):
    """Bias probes of the embedding space, raw and debiased side by side.

    Options (``[suite.bias]``): ``tests`` (association tests to run, alone: e.g.
    ``["weat6"]``), ``probes`` (probe names or globs), ``probe_files`` (JSON/YAML user
    tests), ``n_permutations``, ``exact_max``, ``n_bootstrap``, ``confidence``, ``alpha``,
    ``skew_k`` (default [10, 20]), ``skew_permutations``, ``gap_permutations``,
    ``disparity_metrics`` (default ["ndcg@10", "recall@10"]), ``speech`` (default: not
    ``--quick``), ``debias`` ("builtin" or "none"), ``sizes``, ``skew_datasets``,
    ``disparity_datasets``, ``cost_datasets``. See docs/bias.md.
    """

    name = "bias"
    progress_results = False  # results come at the end; progress counts probes
    description = "association tests, retrieval skew and per-group quality, raw vs debiased"

    def check_options(self, options: Mapping[str, Any], *, quick: bool) -> None:
        """Validate ``[suite.bias]`` (see :class:`BiasOptions`) and the probes it selects."""
        from audit.suites._bias._builtin import check_selection

        check_selection(BiasOptions.parse(options, quick=quick))

    def dataset_specs(self, options: Mapping[str, Any], *, quick: bool) -> list[str]:
        """The datasets of the selected probes and the configured galleries."""
        from audit.suites._bias._builtin import dataset_specs

        return dataset_specs(BiasOptions.parse(options, quick=quick))

    def _run(self, ctx: RunContext) -> Iterable[Result]:
        opts = BiasOptions.parse(ctx.options(self.name), quick=ctx.config.quick)
        registry = run_registry(opts, ctx.dataset)
        probes = select(registry, opts)
        env = self._env(ctx, opts)
        skipped: dict[str, str] = {}
        failed: dict[str, str] = {}
        ran: list[tuple[Probe, dict[str, list[Result]]]] = []
        with Progress(
            f"suite {self.name}", len(probes), unit="probes", enabled=ctx.config.progress
        ) as progress:
            for probe in probes:
                reason = probe.skip_reason(env)
                if reason is None and probe.name == "disparity/speech" and not opts.speech:
                    reason = "speech = false (the default with --quick)"
                if reason is not None:
                    skipped[probe.name] = reason
                    log.warning("bias: %s not run: %s", probe.name, reason)
                    progress.update(note=f"{probe.name} skipped")
                    continue
                try:
                    ran.append((probe, {v: probe.run(env, v) for v in env.variants}))
                except Exception as exc:
                    if opts.tests_only:
                        raise  # an explicitly requested test must not fail quietly
                    # One broken probe (e.g. a decoder missing for speech) must not lose the
                    # others; the failure is recorded in the report (check_errors: the run is
                    # then incomplete unless errors are allowed) and printed in the summary.
                    self.check_failed(probe.name, exc)
                    failed[probe.name] = self.check_errors[probe.name]
                finally:
                    progress.update(note=probe.name)
        everything = [r for _, per in ran for rs in per.values() for r in rs]
        self._tag_projection(everything, env)
        finish_statistics(everything, opts.alpha)  # p_adjusted, p_family, too_few: once
        for _probe, per in ran:
            for variant in env.variants:
                yield from per[variant]
            if "debiased" in per:
                yield from deltas(per["raw"], per["debiased"], opts.alpha)
        if not opts.tests_only:
            yield self._coverage(ran, skipped, failed, env, opts)

    def _env(self, ctx: RunContext, opts: BiasOptions) -> ProbeEnv:
        variants = dict(ctx.variants)
        projection: dict[str, Any] | None = None
        fit_words: frozenset[str] = frozenset()
        if "debiased" in variants:
            projection = projection_info(variants["debiased"])
        elif opts.debias == "builtin" and not opts.tests_only:
            emb, projection, fit_words = builtin_projection(
                variants["raw"], ctx.seed_for("bias/builtin-projection"), load=ctx.dataset
            )
            variants["debiased"] = emb
        return ProbeEnv(
            variants=variants,
            options=opts,
            dataset_loader=ctx.dataset,
            seed_for=ctx.seed_for,
            projection=projection,
            fit_words=fit_words,
        )

    @staticmethod
    def _tag_projection(results: list[Result], env: ProbeEnv) -> None:
        if env.projection is None:
            return
        short = {k: env.projection.get(k) for k in ("kind", "dataset", "path", "n_components")}
        short = {k: v for k, v in short.items() if v is not None}
        for r in results:
            if r.variant == "debiased":
                r.details = {**r.details, "projection": short}

    def _coverage(
        self,
        ran: list[tuple[Probe, dict[str, list[Result]]]],
        skipped: dict[str, str],
        failed: dict[str, str],
        env: ProbeEnv,
        opts: BiasOptions,
    ) -> Result:
        return Result(
            suite=self.name,
            check=COVERAGE_CHECK,
            metric="probes_run",
            value=float(len(ran)),
            variant="raw",
            details={
                "run": [p.name for p, _ in ran],
                "skipped": skipped,
                "failed": failed,
                "not_run_by_design": NOT_RUN_BY_DESIGN,
                "variants": list(env.variants),
                "projection": env.projection,
                "alpha": opts.alpha,
                "quick": opts.quick,
                "builtin_probes": len(builtin_probes()),
            },
        )
