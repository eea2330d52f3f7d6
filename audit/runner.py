"""Run suites and write the report: the CLI's `run` is a thin layer over :func:`run_suites`."""

from __future__ import annotations

import logging
import secrets
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from audit._version import __version__
from audit.config import RunConfig
from audit.context import RunContext
from audit.pipeline import build_pipeline, embedder_info, wrappers_info
from audit.report import EmbedderInfo, Report, Result, Wrappers
from audit.suites import get_suite

log = logging.getLogger(__name__)


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


def run_suites(config: RunConfig, *, label: str | None = None) -> RunOutcome:
    """Run ``config.suites`` and write ``out/<run-id>/report.json``.

    A failure inside a suite does not lose the results of the suites that finished: the
    report is written with ``status="error"`` and the error text, and ``failed`` is True.
    """
    label = label or ("+".join(config.suites) if len(config.suites) < 4 else "all")
    run_id = new_run_id(label)
    run_dir = Path(config.out) / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    timings: dict[str, float] = {}
    results: list[Result] = []
    errors: list[str] = []
    t0 = time.perf_counter()
    info = EmbedderInfo(spec=config.embedder, name=config.embedder, modalities=[], dim=0)
    composed = None
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
            dry_run=config.dry_run,
        )
        composed = pipeline.deployed
        info = embedder_info(config.embedder, pipeline.base)
        ctx = RunContext(
            embedder=composed, config=config, run_dir=run_dir, variants=pipeline.variants
        )
        for name in config.suites:
            start = time.perf_counter()
            results.extend(get_suite(name).run(ctx))
            timings[f"suite/{name}"] = round(time.perf_counter() - start, 3)
        info = embedder_info(config.embedder, pipeline.base)  # usage counters after the work
    except Exception as exc:  # the run failed: keep what finished, record why
        log.debug("run failed", exc_info=True)
        errors.append(f"{type(exc).__name__}: {exc}")
        errors.append(traceback.format_exc(limit=8))
    timings["total"] = round(time.perf_counter() - t0, 3)
    report = Report(
        run_id=run_id,
        tool_version=__version__,
        suite=label,
        embedder=info,
        wrappers=wrappers_info(composed) if composed is not None else Wrappers(),
        config=config.to_dict(),
        timings=timings,
        results=results,
        status="error" if errors else "no-gates",
        errors=errors,
    )
    path = report.save(run_dir / "report.json")
    return RunOutcome(report=report, path=path, failed=bool(errors))
