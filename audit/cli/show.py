"""``audit show RUN_DIR [--all]``: print a finished run's summary again, every row on demand.

``audit run`` prints the first rows of the run table (:data:`audit.summary.MAX_ROWS`) and
names this command for the rest; it reads report.json only (no suite, no model, no torch).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audit.cli._exit import ExitCode

NAME = "show"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``audit show`` (the run folder and ``--all``)."""
    show = sub.add_parser(
        NAME,
        help="print a finished run's summary (--all: every result's row)",
        description="Print the summary of a finished run from its report.json: the run "
        "table, each suite's summary, gates and status. The run table shows its first "
        "rows unless --all is given.",
    )
    show.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run folder or report.json")
    show.add_argument(
        "--all", action="store_true", help="print every result's row of the run table"
    )


def run(args: argparse.Namespace) -> ExitCode:
    """Print the summary; 0, or 2 when the report cannot be read."""
    from audit.config import ConfigError
    from audit.gates import load_run
    from audit.summary import MAX_ROWS, summarize

    try:
        report, path = load_run(args.run_dir)
    except ConfigError as exc:
        print(f"audit: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    print(summarize(report, path=str(path), max_rows=None if args.all else MAX_ROWS))
    return ExitCode.OK
