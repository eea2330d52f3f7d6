"""The review dashboard: a Streamlit app over run directories (report.json + artifacts).

Start it with ``audit dashboard [--runs DIR]`` (see :mod:`dashboard.launch`). The app
reads files only: reports are validated JSON (``audit.report``), never unpickled or
evaluated, and artifact paths from reports are confined to their run directory.
Importing this package is cheap: the names below load on first use (PEP 562), so
``audit --help`` (which adds the ``dashboard`` subcommand from :mod:`dashboard.launch`)
does not load the report schema (pydantic); Streamlit, pandas and Altair load only in
the app.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs only; at run time see __getattr__
    from dashboard._artifacts import Artifact, ArtifactError, read_artifact, resolve_artifact
    from dashboard._loader import RunEntry, discover_runs, read_run
    from dashboard.launch import (
        DEFAULT_ADDRESS,
        add_dashboard_parser,
        build_command,
        run_dashboard,
    )

#: Public name -> the module that defines it (imported when the name is first read).
_SOURCES = {
    "Artifact": "dashboard._artifacts",
    "ArtifactError": "dashboard._artifacts",
    "read_artifact": "dashboard._artifacts",
    "resolve_artifact": "dashboard._artifacts",
    "RunEntry": "dashboard._loader",
    "discover_runs": "dashboard._loader",
    "read_run": "dashboard._loader",
    "DEFAULT_ADDRESS": "dashboard.launch",
    "add_dashboard_parser": "dashboard.launch",
    "build_command": "dashboard.launch",
    "run_dashboard": "dashboard.launch",
}

__all__ = [
    "DEFAULT_ADDRESS",
    "Artifact",
    "ArtifactError",
    "RunEntry",
    "add_dashboard_parser",
    "build_command",
    "discover_runs",
    "read_artifact",
    "read_run",
    "resolve_artifact",
    "run_dashboard",
]


def __getattr__(name: str) -> Any:
    """Import the module behind a public name on first access (PEP 562) and cache it."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'dashboard' has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value  # later reads skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
