"""``audit gate RUN_DIR --policy FILE``: re-judge a finished run without re-running it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audit.cli._exit import ExitCode
from audit.cli._gating import add_gate_arguments, judge, load_gating

NAME = "gate"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``audit gate`` (the run folder and the gating flags)."""
    gate = sub.add_parser(
        NAME,
        help="judge a finished run by a policy (rewrites its report's gates, status, verdict)",
        description="Judge a finished run by a gate policy, optionally against a baseline "
        "run, and rewrite the gates, status and verdict (per responsible-AI dimension and "
        "overall) of its report.json. Exit codes: 0 the verdict passes or nothing was "
        "assessed, 1 a gate failed, 2 usage or policy error, 3 the run had failed or has "
        "errored checks (see --allow-errors).",
    )
    gate.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run folder or report.json")
    add_gate_arguments(gate, policy_required=True)


def run(args: argparse.Namespace) -> ExitCode:
    """Judge the run by the policy; the exit code of the verdict (0, 1, 2 or 3)."""
    from audit.config import ConfigError
    from audit.gates import load_run

    try:
        report, path = load_run(args.run_dir)
        gating = load_gating(args)
    except ConfigError as exc:
        print(f"audit: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    code = judge(args, report, path, gating)
    # A run of a comparison: the comparison's report.html shows each run's stored verdict,
    # so it is rendered again with the new one.
    comparison = path.parent.parent
    if (comparison / "comparison.json").is_file():
        from audit.cli._gating import write_comparison_audit_report

        if (html := write_comparison_audit_report(comparison)) is not None:
            print(f"comparison report: {html}")
    return code
