"""``audit run``: run suites on one embedder (or compare several), gate, write CI files.

The flags and config file become a validated RunConfig (:mod:`audit.cli._run_config`);
the run is then judged like ``audit gate`` does (:mod:`audit.cli._gating`). ``--dry-run``
plans instead: it counts what each embedder would be sent and sends nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from audit.cli._exit import ExitCode
from audit.cli._gating import (
    add_gate_arguments,
    errored_checks,
    gate_report,
    judge,
    load_gating,
    write_comparison_audit_report,
)
from audit.cli._run_config import dry_run_options, run_config
from audit.engines import ENGINES

if TYPE_CHECKING:  # annotations only: importing these at run time would slow `--help`
    from audit.cli._gating import Gating
    from audit.report import Report

NAME = "run"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``audit run`` and its flags (gating flags included)."""
    run = sub.add_parser(NAME, help="run suites and write runs/<run-id>/report.json")
    run.add_argument(
        "--suite",
        required=True,
        action="append",
        help="suite(s) to run: a name, a comma list (bias,retrieval; repeatable) or 'all' "
        "(every suite; one run, one report.json judged as one: --policy default covers them "
        "all); see `audit list suites`",
    )
    run.add_argument(
        "--embedder",
        action="append",
        default=None,
        metavar="SPEC",
        help="embedder spec (default: local); repeat it to compare embedders in one "
        "comparison run (out/<comparison-id>/: one report per embedder, comparison.json/.md)",
    )
    run.add_argument("--config", type=Path, help="TOML run configuration")
    run.add_argument("--out", type=Path, default=None, help="runs directory (default: ./runs)")
    run.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="embedding cache file (default: <out>/.cache/embeddings.sqlite)",
    )
    run.add_argument("--no-cache", action="store_true", help="do not use the embedding cache")
    run.add_argument("--quick", action="store_true", help="smaller samples for fast feedback")
    run.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    run.add_argument(
        "--skip-bad-items",
        action="store_true",
        help="leave out dataset items that fail the checks made before embedding (bad "
        "text, empty or corrupt files, bombs) and record each in the report, instead of "
        "stopping with one error naming them all (exit 2)",
    )
    run.add_argument(
        "--debias",
        type=Path,
        default=None,
        metavar="FILE",
        help="debiasing projection (from `audit fit-debias`); suites then report the raw "
        "and the debiased embedder side by side",
    )
    run.add_argument(
        "--safety-policy",
        default=None,
        metavar="FILE",
        help="content-safety policy TOML, or a packaged one: 'default' (abuse flagged) or "
        "'strict' (abuse blocked); blocked items "
        "are never embedded",
    )
    run.add_argument(
        "--engine",
        choices=ENGINES.names(),
        default=None,
        help="where embedding runs: this process (default) or Ray (actor pool, Parquet "
        "shards, resumable); see docs/scale.md",
    )
    run.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="Ray cluster to join (e.g. ray://head:10001 or auto); default: a local Ray",
    )
    run.add_argument(
        "--shard-size",
        type=int,
        default=None,
        metavar="N",
        help="items per Parquet shard with --engine ray (default 1024)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="plan instead of run: count the requests, text characters, images and media "
        "seconds each embedder would be sent (cache hits excluded), send nothing, write "
        "out/<plan-id>/plan.json (no report); see docs/compare.md",
    )
    run.add_argument(
        "--prices",
        type=Path,
        default=None,
        metavar="FILE",
        help="with --dry-run: prices TOML to cost the plan (you fill it in; see "
        "docs/examples/prices.example.toml)",
    )
    add_gate_arguments(run, policy_required=False)


def run(args: argparse.Namespace) -> ExitCode:
    """Run (or plan) and judge; the exit code (0, 1, 2 or 3)."""
    from audit.config import ConfigError
    from audit.registry import RegistryError

    try:
        config, specs = run_config(args)
        prices = dry_run_options(args)
        gating = load_gating(args)  # a bad policy or baseline fails before any suite runs
    except (ConfigError, RegistryError) as exc:
        print(f"audit: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    from audit.preflight import RunItemsError
    from audit.runner import preflight_datasets, run_suites

    try:  # every item the run will embed, checked before anything runs
        datasets = preflight_datasets(config)
    except RunItemsError as exc:  # bad input data: a usage error, like a bad config
        print(f"audit: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if config.dry_run:
        return _plan(config, specs, prices)
    if len(specs) > 1:
        return _compare(args, config, specs, gating)
    outcome = run_suites(config, datasets=datasets)
    return judge(args, outcome.report, outcome.path, gating)


def _compare(args: argparse.Namespace, config, specs: list[str], gating: Gating) -> ExitCode:
    """A comparison run: each embedder's run gated on its own; the exit code is the worst."""
    from audit.compare import run_comparison, write_comparison_ci
    from audit.summary import summarize_comparison

    judged: dict[Path, tuple[ExitCode, tuple[str, str] | None]] = {}

    def gate(report: Report, path: Path) -> Report:
        report, code, error = gate_report(report, path, gating)
        judged[path] = (code, error)
        return report

    outcome = run_comparison(config, specs, gate=gate)
    write_comparison_audit_report(outcome.path.parent)
    print(summarize_comparison(outcome.comparison, path=str(outcome.path)))
    codes = [
        judged.get(r.path, (ExitCode.RUN_FAILED, None)) if r.path else (ExitCode.RUN_FAILED, None)
        for r in outcome.runs
    ]
    for ref, (code, error) in zip(outcome.runs, codes, strict=True):
        if code == ExitCode.RUN_FAILED and ref.report and ref.report.status == "incomplete":
            why = errored_checks(ref.report)
            print(f"audit: error: {ref.spec}: run incomplete, {why}", file=sys.stderr)
        elif code == ExitCode.RUN_FAILED:
            why = ref.report.errors[0] if ref.report and ref.report.errors else ref.error
            print(f"audit: error: {ref.spec} failed: {why or 'no report'}", file=sys.stderr)
        elif code == ExitCode.USAGE and error is not None:
            print(f"audit: error: {ref.spec}: {error[1]}", file=sys.stderr)
    try:
        errors = {path: error for path, (_, error) in judged.items()}
        write_comparison_ci(outcome, junit=args.junit, summary=args.summary, errors=errors)
    except OSError as exc:
        print(f"audit: error: cannot write an output file: {exc}", file=sys.stderr)
        return max(max(c for c, _ in codes), ExitCode.USAGE)
    return max(c for c, _ in codes)


def _plan(config, specs: list[str], prices) -> ExitCode:
    """Dry run: print the plan table; exit 0, or 3 when planning failed for an embedder."""
    from audit.runner import plan_suites
    from audit.summary import summarize_plan

    outcome = plan_suites(config, specs, prices=prices)
    print(summarize_plan(outcome.plan, path=str(outcome.path)))
    if outcome.failed:
        bad = [e.spec for e in outcome.plan.embedders if e.status == "error"]
        print(f"audit: error: planning failed for {', '.join(bad)}", file=sys.stderr)
        return ExitCode.RUN_FAILED
    return ExitCode.OK
