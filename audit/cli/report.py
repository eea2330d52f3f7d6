"""``audit report RUN_DIR [--format html|md] [--out FILE]``: render the audit report again.

Reads report.json only (no suite, no model, no torch) and writes the self-contained audit
report (:mod:`audit.reporting`): ``RUN_DIR/report.html`` by default. A comparison folder
(one holding comparison.json) gets the comparison report, which links each run's report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audit.cli._exit import ExitCode

NAME = "report"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``audit report`` (the run folder, ``--format``, ``--out``)."""
    p = sub.add_parser(
        NAME,
        help="write the audit report of a finished run (self-contained HTML or Markdown)",
        description="Render a finished run's report.json into the audit report people sign "
        "off: page one the model, the decision per responsible-AI dimension and the failed "
        "gates in plain language; then one section per dimension with evidence, charts, "
        "caveats and provenance. One self-contained file (inline CSS and SVG, no script, "
        "nothing fetched), printable to PDF. A comparison folder gets a report listing each "
        "embedder's decision. Exit codes: 0 written, 2 no readable report or unwritable "
        "output.",
    )
    p.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="run folder, report.json or comparison folder"
    )
    p.add_argument(
        "--format",
        choices=("html", "md"),
        default="html",
        help="html (default; self-contained, printable) or md (Markdown)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        default=None,
        help="file to write (default: report.html or report.md in the run folder)",
    )


def run(args: argparse.Namespace) -> ExitCode:
    """Write the report; 0, or 2 when the report cannot be read or the file written."""
    from audit.compare._schema import COMPARISON_NAME, load_comparison
    from audit.config import ConfigError
    from audit.gates import load_run
    from audit.reporting import write_comparison_report, write_report

    target: Path = args.run_dir
    comparison = target.is_dir() and (target / COMPARISON_NAME).is_file()
    try:
        if comparison:
            load_comparison(target)  # validated first: a bad file is a usage error
        else:
            report, path = load_run(target)
    except ConfigError as exc:
        print(f"audit: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except ValueError as exc:  # an invalid comparison.json
        print(f"audit: error: comparison {target} is invalid: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    try:
        if comparison:
            written = write_comparison_report(target, fmt=args.format, out=args.out)
        else:
            written = write_report(report, path.parent, fmt=args.format, out=args.out)
    except OSError as exc:
        print(f"audit: error: cannot write the audit report: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    print(written)
    return ExitCode.OK
