"""Finding and loading run reports, and writing CI files atomically."""

from __future__ import annotations

from pathlib import Path

from audit._io import write_atomic
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


__all__ = ["find_report", "load_run", "write_atomic"]
