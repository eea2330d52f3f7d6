"""The review dashboard: a Streamlit app over run directories (report.json + artifacts).

Start it with ``audit dashboard [--runs DIR]`` (see :mod:`dashboard.launch`). The app
reads files only: reports are validated JSON (``audit.report``), never unpickled or
evaluated, and artifact paths from reports are confined to their run directory.
Importing this package is cheap: Streamlit, pandas and Altair load only in the app.
"""

from dashboard._artifacts import Artifact, ArtifactError, read_artifact, resolve_artifact
from dashboard._loader import RunEntry, discover_runs, read_run
from dashboard.launch import DEFAULT_ADDRESS, add_dashboard_parser, build_command, run_dashboard

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
