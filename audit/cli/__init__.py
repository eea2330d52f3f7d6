"""The `audit` command: thin subcommands over RunConfig and the runner.

One module per subcommand (:mod:`~audit.cli.run`, :mod:`~audit.cli.fit_debias`,
:mod:`~audit.cli.gate`, :mod:`~audit.cli.show`, :mod:`~audit.cli.report`,
:mod:`~audit.cli.dashboard`, :mod:`~audit.cli.listing`), each with ``NAME``,
``add_parser(subparsers)`` and ``run(args) -> ExitCode``; :func:`main` builds the parser
from them in :data:`COMMANDS` order (the order of ``audit --help``).

Exit codes (:class:`ExitCode`): 0 all gates pass (or no policy), 1 a gate failed, 2 usage
or config error, 3 the run failed (it stopped, or a requested check errored: status
"incomplete" unless --allow-errors). Heavy modules (torch, models) are imported only
inside commands, so `audit --help` stays fast: a command module imports nothing heavy at
its top.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from audit._version import __version__
from audit.cli import dashboard, fit_debias, gate, listing, report, run, show
from audit.cli._exit import ExitCode

__all__ = [
    "COMMANDS",
    "EXIT_GATE_FAILED",
    "EXIT_OK",
    "EXIT_RUN_FAILED",
    "EXIT_USAGE",
    "ExitCode",
    "main",
]

# Short names of the codes, as callers and tests spell them.
EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE, EXIT_RUN_FAILED = (
    ExitCode.OK,
    ExitCode.GATE_FAILED,
    ExitCode.USAGE,
    ExitCode.RUN_FAILED,
)

#: The subcommands, in the order `audit --help` lists them.
COMMANDS = (run, fit_debias, gate, show, report, dashboard, listing)


def build_parser() -> argparse.ArgumentParser:
    """The ``audit`` argument parser: global flags and one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="audit",
        description="Responsible-AI audits of multimodal embedding models: "
        "bias, red team, safety and retrieval suites, with reports and CI gates.",
    )
    parser.add_argument("--version", action="version", version=f"mme-audit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose == 0 and not quiet:
        level = logging.WARNING  # the summary is the default output
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not quiet:
        # Progress lines off a terminal (CI) show at the default verbosity: a long run
        # must not look dead (audit.progress, at most one line per 30 s per suite).
        from audit.progress import LOGGER_NAME

        logging.getLogger(LOGGER_NAME).setLevel(min(level, logging.INFO))


def main(argv: Sequence[str] | None = None) -> ExitCode:
    """Entry point of the `audit` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return ExitCode.USAGE
    _setup_logging(args.verbose, args.quiet)
    handlers = {command.NAME: command.run for command in COMMANDS}
    try:
        code = handlers[args.command](args)
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at exit
        return code
    except BrokenPipeError:
        # `audit list probes | head`: the reader left; say nothing more (Python's
        # documented recipe: point stdout at devnull so the exit flush cannot fail again).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
