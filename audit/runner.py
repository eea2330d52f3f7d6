"""Run suites and write the report: the CLI's `run` is a thin layer over :func:`run_suites`.

:func:`plan_suites` is the dry run: the same suites on placeholder vectors, counting what
each embedder would be sent, written to ``plan.json`` (no report). Several embedders in
one real run are :func:`audit.compare.run_comparison`, which calls :func:`run_suites` once
per embedder.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit._repro import reproducibility_info
from audit._version import __version__
from audit.config import RunConfig
from audit.context import RunContext
from audit.pipeline import build_pipeline, embedder_info, wrappers_info
from audit.preflight import RunDatasets
from audit.progress import Progress
from audit.report import CheckError, EmbedderInfo, Report, Result, Status, Wrappers
from audit.suites import get_suite

if TYPE_CHECKING:
    from audit.usage import EmbedderPlan, Prices, UsagePlan

log = logging.getLogger(__name__)
PLAN_NAME = "plan.json"


@dataclass
class RunOutcome:
    """What a run produced: the report, where it lies, and whether the run itself failed."""

    report: Report
    path: Path
    failed: bool


def new_run_id(suite_label: str) -> str:
    """Sortable, unique run id: UTC time, suite, random suffix."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{suite_label}-{secrets.token_hex(3)}"


def suite_label(suites: Sequence[str]) -> str:
    """The suites part of a run id: ``bias+retrieval``, or ``all`` for four or more."""
    return "+".join(suites) if len(suites) < 4 else "all"


def run_suites(
    config: RunConfig,
    *,
    label: str | None = None,
    run_id: str | None = None,
    folder: str | None = None,
    datasets: RunDatasets | None = None,
) -> RunOutcome:
    """Run ``config.suites`` and write ``out/<run-id>/report.json``.

    Before the run folder is made or anything embedded, every item of every dataset the
    suites declare is checked (:func:`preflight_datasets`); bad items raise one
    :class:`~audit.preflight.RunItemsError` naming them all, or, with
    ``config.skip_bad_items``, are left out and listed in the report's ``skipped_items``.

    A failure inside a suite does not lose the results of the suites that finished: the
    report is written with ``status="error"`` and the error text, and ``failed`` is True.
    Checks that errored while their suite went on are listed in ``check_errors``; the
    status is then ``"incomplete"`` unless ``config.allow_errors`` (see :func:`run_status`).

    Parameters
    ----------
    config : RunConfig
        The run (``dry_run`` must be False: a dry run is :func:`plan_suites`).
    label : str, optional
        The suites part of the run id (default: from ``config.suites``).
    run_id : str, optional
        The run id (default: a new sortable one).
    folder : str, optional
        The run's folder name under ``config.out`` (default: the run id).
    datasets : RunDatasets, optional
        The result of :func:`preflight_datasets` when the caller already made it.

    Raises
    ------
    RunItemsError
        Bad items (without ``skip_bad_items``) or datasets that do not load.
    """
    if config.dry_run:
        raise ValueError("a dry run writes plan.json, not a report: call plan_suites")
    t_check = time.perf_counter()
    if datasets is None:
        datasets = preflight_datasets(config)
    t_check = time.perf_counter() - t_check
    label = label or suite_label(config.suites)
    run_id = run_id or new_run_id(label)
    run_dir = Path(config.out) / (folder or run_id)
    run_dir.mkdir(parents=True, exist_ok=False)
    timings: dict[str, float] = {}
    results: list[Result] = []
    errors: list[str] = []
    check_errors: list[CheckError] = []
    t0 = time.perf_counter()
    info = EmbedderInfo(spec=config.embedder, name=config.embedder, modalities=[], dim=0)
    composed = None
    pipeline = None
    try:
        pipeline = build_pipeline(
            config.embedder,
            cache_path=config.cache,
            projection_path=config.debias,
            safety_policy=config.safety_policy,
            run_dir=run_dir,
            progress=config.progress,
            engine=config.engine,
            engine_options=config.engine_options,
        )
        composed = pipeline.deployed
        info = embedder_info(config.embedder, pipeline.base)
        ctx = RunContext(
            embedder=composed,
            config=config,
            run_dir=run_dir,
            variants=pipeline.variants,
            datasets=datasets,
        )
        # one phase per suite; each suite shows its own steps (audit.progress)
        phases = Progress(
            "run",
            len(config.suites),
            unit="suites",
            enabled=config.progress and len(config.suites) > 1,
        )
        with phases:
            for name in config.suites:
                start = time.perf_counter()
                suite = get_suite(name)
                try:
                    results.extend(suite.run(ctx))
                finally:  # checks that errored before a suite failed are reported too
                    check_errors += [
                        CheckError(suite=name, check=check, error=error)
                        for check, error in suite.check_errors.items()
                    ]
                timings[f"suite/{name}"] = round(time.perf_counter() - start, 3)
                phases.update(note=name)
    except Exception as exc:  # the run failed: keep what finished, record why
        log.debug("run failed", exc_info=True)
        # notes (e.g. "N embeddings finished before this error are saved in the cache")
        # belong to the one-line reason a reader sees first
        notes = "".join(f" ({n})" for n in getattr(exc, "__notes__", ()))
        errors.append(f"{type(exc).__name__}: {exc}{notes}")
        errors.append(traceback.format_exc(limit=8))
    if pipeline is not None:  # usage counters after the work (also what a failed run sent)
        info = embedder_info(config.embedder, pipeline.base)
    timings["total"] = round(time.perf_counter() - t0, 3)
    timings["preflight"] = round(t_check, 3)
    fingerprint = pipeline.base.fingerprint if pipeline is not None else None
    repro = reproducibility_info(
        tool_version=__version__,
        fingerprint=None if fingerprint is None else str(fingerprint),
        engine=config.engine,
        engine_options=config.engine_options,
        seed=config.seed,
        datasets=datasets.records(),  # each hashed once, when it was loaded and checked
    )
    report = Report(
        run_id=run_id,
        tool_version=__version__,
        suite=label,
        embedder=info,
        wrappers=wrappers_info(composed) if composed is not None else Wrappers(),
        config=config.to_dict(),
        timings=timings,
        results=results,
        status=run_status(bool(errors), check_errors, allow_errors=config.allow_errors),
        errors=errors,
        check_errors=check_errors,
        skipped_items=list(datasets.skipped),
        reproducibility=repro,
    )
    path = report.save(run_dir / "report.json")
    return RunOutcome(report=report, path=path, failed=bool(errors))


def preflight_datasets(config: RunConfig) -> RunDatasets:
    """Load and check every dataset the suites of ``config`` declare, before anything runs.

    Returns
    -------
    RunDatasets
        The checked datasets (bad items left out with ``config.skip_bad_items``), for
        :func:`run_suites`.

    Raises
    ------
    RunItemsError
        One error naming every bad item of every dataset (with its dataset and reason),
        and every dataset that does not load.
    """
    datasets = RunDatasets(skip_bad_items=config.skip_bad_items)
    specs = [
        spec
        for name in config.suites
        for spec in get_suite(name).dataset_specs(config.options_for(name), quick=config.quick)
    ]
    datasets.preflight(specs)
    return datasets


def run_status(failed: bool, check_errors: Sequence[CheckError], *, allow_errors: bool) -> Status:
    """The status of a run before any gate: ``error``, ``incomplete`` or ``no-gates``.

    ``error``: the run itself stopped. ``incomplete``: it finished, but requested checks
    errored and errors are not allowed (an errored check is not a pass). Gating keeps
    the same rule (:func:`audit.gates.apply_policy`).
    """
    if failed:
        return "error"
    return "incomplete" if check_errors and not allow_errors else "no-gates"


@dataclass
class PlanOutcome:
    """What a dry run produced: the plan, where it lies, and whether any planning failed."""

    plan: UsagePlan
    path: Path
    failed: bool


def plan_suites(
    config: RunConfig,
    embedders: Sequence[str] | None = None,
    *,
    prices: Prices | None = None,
    label: str | None = None,
) -> PlanOutcome:
    """Dry run: plan what ``config.suites`` would send to each embedder; write plan.json.

    Each embedder's pipeline is built with ``dry_run=True``: its backend is replaced by
    a planning embedder (placeholder vectors, nothing sent) under a read-only cache, so
    items the cache holds are reported as hits and not counted. Suites write their
    artifacts to a temporary folder that is removed; only ``out/<plan-id>/plan.json``
    remains (no report.json: a dry run measures nothing).

    Parameters
    ----------
    config : RunConfig
        The run to plan (``config.embedder`` when ``embedders`` is not given).
    embedders : sequence of str, optional
        Embedder specs to plan, one after another.
    prices : Prices, optional
        Prices to cost the plan with (see :func:`audit.usage.load_prices`).
    label : str, optional
        The suites part of the plan id.
    """
    from audit.usage import UsagePlan, price_plan

    specs = list(embedders) if embedders else [config.embedder]
    plan_id = new_run_id(f"plan-{label or suite_label(config.suites)}")
    out_dir = Path(config.out) / plan_id
    out_dir.mkdir(parents=True, exist_ok=False)
    plans = [_plan_one(replace(config, embedder=spec, dry_run=True)) for spec in specs]
    settings: dict[str, Any] = replace(config, dry_run=True).to_dict()
    settings["embedders"] = specs
    plan = UsagePlan(
        plan_id=plan_id,
        tool_version=__version__,
        suites=list(config.suites),
        config=settings,
        embedders=plans,
    )
    if prices is not None:
        plan = price_plan(plan, prices)
    path = plan.save(out_dir / PLAN_NAME)
    return PlanOutcome(plan=plan, path=path, failed=any(p.status == "error" for p in plans))


def _plan_one(config: RunConfig) -> EmbedderPlan:
    """One embedder's dry run (never raises: a failure is recorded in the plan)."""
    from audit.cache import CachedEmbedder
    from audit.embedders import unwrap
    from audit.usage import embedder_plan, find_planner

    t0 = time.perf_counter()
    base: Any = None
    planner = None
    cache = None
    error = None
    with tempfile.TemporaryDirectory(prefix="mme-audit-plan-") as tmp:
        try:
            pipeline = build_pipeline(
                config.embedder,
                cache_path=config.cache,
                projection_path=config.debias,
                safety_policy=config.safety_policy,
                run_dir=Path(tmp),
                progress=config.progress,
                engine=config.engine,
                engine_options=config.engine_options,
                dry_run=True,
            )
            base = pipeline.base
            planner = find_planner(pipeline.variants["raw"])
            cache = unwrap(pipeline.variants["raw"], CachedEmbedder)
            ctx = RunContext(
                embedder=pipeline.deployed,
                config=config,
                run_dir=Path(tmp),
                variants=pipeline.variants,
            )
            for name in config.suites:
                get_suite(name).run(ctx)
        except Exception as exc:  # keep what was counted; say why planning stopped
            log.debug("dry run of %s failed", config.embedder, exc_info=True)
            error = f"{type(exc).__name__}: {exc}"
    return embedder_plan(
        config.embedder,
        base,
        planner.ledger if planner is not None else None,
        cache=config.cache is not None,
        cache_hits=cache.hits if cache is not None else 0,
        seconds=time.perf_counter() - t0,
        error=error,
    )
