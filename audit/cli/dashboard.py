"""``audit dashboard``: the Streamlit review app (arguments and launch in dashboard.launch)."""

from __future__ import annotations

import argparse

from audit.cli._exit import ExitCode

NAME = "dashboard"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``audit dashboard`` (``--runs``, ``--port``, ``--address``)."""
    from dashboard.launch import add_dashboard_parser  # cheap: no streamlit import

    add_dashboard_parser(sub)


def run(args: argparse.Namespace) -> ExitCode:
    """Start the dashboard and wait for it to stop; its exit code (0, 2 or 3)."""
    from dashboard.launch import run_dashboard

    return ExitCode(run_dashboard(args))
