"""Gating shared by ``audit run`` and ``audit gate``: the flags, the policy and baseline,
judging a finished run, and the CI files (JUnit, Markdown summary)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from audit.cli._exit import ExitCode

if TYPE_CHECKING:  # annotations only: importing these at run time would slow `--help`
    from audit.gates import Policy
    from audit.report import Report

    # policy, baseline, baseline path, --allow-errors
    Gating = tuple[Policy | None, Report | None, str | None, bool]

log = logging.getLogger("audit")


def add_gate_arguments(p: argparse.ArgumentParser, *, policy_required: bool) -> None:
    """``--policy``, ``--baseline``, ``--junit``, ``--summary``, ``--allow-errors``."""
    p.add_argument(
        "--policy",
        type=Path,
        required=policy_required,
        metavar="FILE",
        help="gate policy (TOML), validated before anything runs; see policies/default.toml",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="baseline run (folder or report.json) for the policy's regression gates",
    )
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML, one test per gate")
    p.add_argument(
        "--summary", type=Path, metavar="FILE", help="write a Markdown summary (CI job summary)"
    )
    p.add_argument(
        "--allow-errors",
        action="store_true",
        help="accept a run in which some checks errored: judge it by its gates (exit 0/1) "
        "instead of status 'incomplete' and exit 3; errored checks are still reported",
    )


def load_gating(args: argparse.Namespace) -> Gating:
    """The policy and baseline named on the command line, validated (ConfigError if not)."""
    from audit.config import ConfigError
    from audit.gates import load_policy, load_run

    if args.policy is None:
        if args.baseline is not None or args.junit is not None:
            raise ConfigError("--baseline and --junit need --policy")
        return None, None, None, bool(args.allow_errors)
    policy = load_policy(args.policy)
    baseline, baseline_path = None, None
    if args.baseline is not None:
        baseline, file = load_run(args.baseline, what="baseline")
        baseline_path = str(file)
        if baseline.status == "error":
            raise ConfigError(f"baseline run {baseline.run_id} failed; its results are incomplete")
        if baseline.status == "incomplete":
            raise ConfigError(
                f"baseline run {baseline.run_id} is incomplete: "
                f"{errored_checks(baseline)}; to use it anyway, re-gate it first with "
                "`audit gate RUN_DIR --allow-errors --policy FILE`"
            )
    needs = policy.needs_baseline()
    if needs and baseline is None:
        raise ConfigError(
            f"gate(s) {', '.join(map(repr, needs))} compare with a baseline run; "
            "pass --baseline RUN_DIR"
        )
    if baseline is not None and not needs:
        log.warning("--baseline given, but the policy has no regression gate to use it")
    return policy, baseline, baseline_path, bool(args.allow_errors)


def errored_checks(report: Report) -> str:
    """``N errored check(s): suite/check, ...`` for messages."""
    names = [f"{e.suite}/{e.check}" for e in report.check_errors]
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return f"{len(names)} errored check(s): {', '.join(names[:5])}{more}"


def _write_outputs(
    args: argparse.Namespace, report: Report, path: Path, error: tuple[str, str] | None
) -> None:
    """JUnit (gates, or one errored test saying why none were judged) and the summary."""
    from audit.gates import write_junit, write_junit_error, write_summary

    if args.junit is not None:
        if error is None:
            write_junit(report, args.junit)
        else:
            write_junit_error(args.junit, name=error[0], message=error[1], report=report)
    if args.summary is not None:
        write_summary(report, args.summary, report_path=str(path))


def write_audit_report(report: Report, path: Path) -> Path | None:
    """Write the audit report (report.html) next to ``path`` (the run's report.json).

    A failure is an error message, never a lost run: report.json is already saved and
    ``audit report RUN_DIR`` renders the document again. Returns the file, or None.
    """
    from audit.reporting import REPORT_NAME, write_report

    try:
        return write_report(report, path.parent)
    except Exception as exc:  # any failure here must not lose the saved run
        log.debug("audit report of %s failed", path.parent, exc_info=True)
        print(
            f"audit: error: cannot write the audit report {path.parent / REPORT_NAME}: "
            f"{type(exc).__name__}: {exc}; the run is saved, render it again with: "
            f"audit report {path.parent}",
            file=sys.stderr,
        )
        return None


def write_comparison_audit_report(folder: Path) -> Path | None:
    """Write a comparison folder's report.html (each embedder's decision, linking each run's
    report.html); like :func:`write_audit_report`, a failure is an error message only."""
    from audit.reporting import COMPARISON_REPORT_NAME, write_comparison_report

    try:
        return write_comparison_report(folder)
    except Exception as exc:  # comparison.json and the runs are saved
        log.debug("comparison report of %s failed", folder, exc_info=True)
        print(
            f"audit: error: cannot write the comparison report "
            f"{folder / COMPARISON_REPORT_NAME}: {type(exc).__name__}: {exc}; render it "
            f"again with: audit report {folder}",
            file=sys.stderr,
        )
        return None


def gate_report(
    report: Report, path: Path, gating: Gating
) -> tuple[Report, ExitCode, tuple[str, str] | None]:
    """Judge a finished run by the policy and save it: (report, exit code, error).

    ``error`` is (JUnit test name, message) when nothing was judged. A run with errored
    checks is ``incomplete`` (exit 3, gates still judged; JUnit lists the errored checks)
    unless errors are allowed by ``--allow-errors`` or by the run's own ``allow_errors``.
    The audit report (report.html) is written beside report.json in every case.
    """
    report, code, error = _judge_and_save(report, path, gating)
    write_audit_report(report, path)
    return report, code, error


def _judge_and_save(
    report: Report, path: Path, gating: Gating
) -> tuple[Report, ExitCode, tuple[str, str] | None]:
    from audit.config import ConfigError
    from audit.gates import apply_policy

    policy, baseline, baseline_path, allow = gating
    allow = allow or bool(report.config.get("allow_errors", False))
    if report.status == "error":
        return (
            report,
            ExitCode.RUN_FAILED,
            ("run", f"run {report.run_id} failed:\n" + "\n".join(report.errors)),
        )
    if policy is not None:
        try:
            report = apply_policy(
                report, policy, baseline=baseline, baseline_path=baseline_path, allow_errors=allow
            )
            report.save(path)
        except ConfigError as exc:
            return report, ExitCode.USAGE, ("policy", f"policy error: {exc}")
    if report.status == "incomplete":
        return report, ExitCode.RUN_FAILED, None
    return report, ExitCode.GATE_FAILED if report.status == "failed" else ExitCode.OK, None


def judge(args: argparse.Namespace, report: Report, path: Path, gating: Gating) -> ExitCode:
    """Gate a finished run, rewrite its report, write CI files, print; the exit code."""
    from audit.summary import summarize

    report, code, error = _judge_and_save(report, path, gating)
    html = write_audit_report(report, path)
    print(summarize(report, path=str(path)))
    if html is not None:
        print(f"audit report: {html}")
    try:
        _write_outputs(args, report, path, error)
    except OSError as exc:
        print(f"audit: error: cannot write an output file: {exc}", file=sys.stderr)
        return code if code != ExitCode.OK else ExitCode.USAGE
    if code == ExitCode.USAGE and error is not None:
        hint = f"fix the policy, then re-gate without re-running: audit gate {path.parent}"
        print(f"audit: error: {error[1]}\naudit: {hint} --policy FILE", file=sys.stderr)
    elif code == ExitCode.RUN_FAILED and report.status == "incomplete":
        print(
            f"audit: error: run {report.run_id} is incomplete: {errored_checks(report)} "
            "(an errored check is not a pass; --allow-errors accepts partial runs)",
            file=sys.stderr,
        )
    elif code == ExitCode.RUN_FAILED:
        print(f"audit: error: run {report.run_id} failed; no gate was judged", file=sys.stderr)
    return code
