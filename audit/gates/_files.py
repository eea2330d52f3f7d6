"""Finding and loading run reports, and writing CI files atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from audit.config import ConfigError
from audit.report import Report, SchemaVersionError, load_report


def find_report(path: str | Path) -> Path:
    """The report.json of a run: ``path`` itself, or ``path/report.json`` for a run folder.

    Raises
    ------
    ConfigError
        If neither exists.
    """
    path = Path(path)
    candidate = path / "report.json" if path.is_dir() else path
    if not candidate.is_file():
        hint = " (a run folder holds report.json)" if path.is_dir() else ""
        raise ConfigError(f"no report found at {candidate}{hint}")
    return candidate


def load_run(path: str | Path, *, what: str = "run") -> tuple[Report, Path]:
    """Load a run's report from its folder or its report.json.

    Parameters
    ----------
    path : str or Path
        A run folder (``runs/<run-id>``) or a report.json file.
    what : str, default="run"
        What the run is ("run", "baseline"), for messages.

    Returns
    -------
    (Report, Path)
        The validated report and the file it came from.

    Raises
    ------
    ConfigError
        Missing file, invalid JSON, a schema mismatch or a newer schema_version.
    """
    file = find_report(path)
    try:
        return load_report(file), file
    except SchemaVersionError as exc:
        raise ConfigError(f"{what}: {exc}") from exc
    except ValueError as exc:  # JSON or schema errors (pydantic's are ValueErrors)
        raise ConfigError(f"{what} report {file} is invalid: {exc}") from exc


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temp file and a rename (no half-written file).

    Parent folders are created. Returns the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; CI artifacts are read by other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
