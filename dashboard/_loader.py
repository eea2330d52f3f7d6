"""Find run directories and read their reports, turning every failure into a message.

The dashboard must open on any runs directory: empty, half-written, corrupt or written by
a newer tool. :func:`discover_runs` never raises for a bad run; it returns a
:class:`RunEntry` whose ``state`` and ``message`` say what is wrong, and the pages show
that message. Reports are parsed as JSON and validated by the pydantic schema in
``audit.report`` -- never unpickled, never evaluated.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from audit.compare import COMPARISON_NAME, Comparison, load_comparison
from audit.report import SCHEMA_VERSION, Report, SchemaVersionError, load_report

log = logging.getLogger(__name__)

REPORT_NAME = "report.json"
PLAN_NAME = "plan.json"
# A report is a list of numbers; anything this large is a mistake or an attack on memory.
MAX_REPORT_BYTES = 64 * 1024 * 1024

RunState = Literal["ok", "missing", "corrupt", "newer-schema", "invalid", "too-large", "refused"]


@dataclass(frozen=True)
class RunEntry:
    """One run directory and what reading its report gave.

    Attributes
    ----------
    name : str
        The directory name (the run id on disk), unique within the runs directory.
    path : Path
        The run directory, resolved.
    state : str
        ``"ok"`` when ``report`` is set; otherwise why not: ``"missing"`` (no report.json
        yet: a run in progress or one that crashed), ``"corrupt"`` (not JSON),
        ``"newer-schema"``, ``"invalid"`` (JSON that does not match the schema),
        ``"too-large"`` or ``"refused"`` (a symlink leading out of the runs directory).
    message : str
        A sentence for the reader; empty when ``state == "ok"``.
    report : Report or None
        The validated report.
    """

    name: str
    path: Path
    state: RunState
    message: str = ""
    report: Report | None = None

    @property
    def ok(self) -> bool:
        """True when the report was read and validated."""
        return self.report is not None

    @property
    def sort_key(self) -> tuple[str, str]:
        """Newest first when sorted in reverse: creation time, then name."""
        created = self.report.created_at if self.report is not None else ""
        return (created, self.name)


@functools.lru_cache(maxsize=128)
def _load_cached(path: str, mtime_ns: int, size: int) -> Report:
    # Keyed on mtime and size so a rewritten report is read again; exceptions are not cached.
    del mtime_ns, size
    return load_report(path)


def _first_lines(text: str, n: int = 3) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    more = f" (+{len(lines) - n} more lines)" if len(lines) > n else ""
    return " | ".join(lines[:n]) + more


def read_run(run_dir: str | Path, *, name: str | None = None) -> RunEntry:
    """Read one run directory's report.json into a :class:`RunEntry` (never raises).

    Parameters
    ----------
    run_dir : str or Path
        The run directory (the folder holding report.json).
    name : str, optional
        The name to show; defaults to the directory name.

    Returns
    -------
    RunEntry
        ``state == "ok"`` with the report, or the reason it could not be read.
    """
    run_dir = Path(run_dir)
    name = name or run_dir.name
    resolved = run_dir.resolve()
    report_path = resolved / REPORT_NAME
    if not report_path.is_file():
        return RunEntry(
            name,
            resolved,
            "missing",
            f"no {REPORT_NAME} yet: the run is still going, or it stopped before writing one",
        )
    stat = report_path.stat()
    if stat.st_size > MAX_REPORT_BYTES:
        return RunEntry(
            name,
            resolved,
            "too-large",
            f"{REPORT_NAME} is {stat.st_size / 2**20:.0f} MiB, over the "
            f"{MAX_REPORT_BYTES // 2**20} MiB the dashboard reads",
        )
    try:
        report = _load_cached(str(report_path), stat.st_mtime_ns, stat.st_size)
    except SchemaVersionError as exc:
        found = re.search(r"schema_version (\d+)", str(exc))
        version = found.group(1) if found else "?"
        return RunEntry(
            name,
            resolved,
            "newer-schema",
            f"report schema_version {version} is newer than this dashboard reads "
            f"({SCHEMA_VERSION}); upgrade mme-audit to view it",
        )
    except UnicodeDecodeError:
        return RunEntry(name, resolved, "corrupt", f"{REPORT_NAME} is not UTF-8 text")
    except RecursionError:
        return RunEntry(name, resolved, "corrupt", f"{REPORT_NAME} is nested too deeply")
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        text = str(exc)
        if "not valid JSON" in text:
            return RunEntry(name, resolved, "corrupt", f"{REPORT_NAME} is not valid JSON")
        return RunEntry(
            name,
            resolved,
            "invalid",
            f"{REPORT_NAME} does not match the report schema: {_first_lines(text)}",
        )
    except OSError as exc:
        return RunEntry(name, resolved, "corrupt", f"{REPORT_NAME} could not be read: {exc}")
    return RunEntry(name, resolved, "ok", "", report)


def _is_comparison(folder: Path) -> bool:
    return (folder / COMPARISON_NAME).is_file() and not (folder / REPORT_NAME).is_file()


def _holds_runs(folder: Path) -> bool:
    """A comparison folder, or one still running (its first runs written, no table yet)."""
    if (folder / REPORT_NAME).is_file():
        return False
    if _is_comparison(folder):
        return True
    return any((child / REPORT_NAME).is_file() for child in folder.iterdir() if child.is_dir())


def _is_plan(folder: Path) -> bool:
    # A dry run's folder holds plan.json only: it planned, it measured nothing.
    return (folder / PLAN_NAME).is_file() and not (folder / REPORT_NAME).is_file()


def _refused(name: str, path: Path) -> RunEntry:
    return RunEntry(
        name, path, "refused", "the run folder is a link that leads outside the runs directory"
    )


def _subfolders(folder: Path, root: Path) -> list[tuple[Path, bool]]:
    """Visible subfolders, each with whether it stays inside ``root`` once resolved."""
    out = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith(".") or not child.is_dir():
            continue
        out.append((child, child.resolve().is_relative_to(root)))
    return out


def discover_runs(runs_dir: str | Path) -> list[RunEntry]:
    """Every run directory under ``runs_dir``, newest first, readable or not.

    Hidden folders (such as the embedding cache ``.cache``) and plain files are skipped,
    and so are dry-run folders (plan.json, no report). The runs of a comparison folder
    (one holding comparison.json) are listed as ``<comparison-id>/<run folder>``.
    ``runs_dir`` may also be a single run directory (one that holds report.json) or a
    single comparison folder.

    Parameters
    ----------
    runs_dir : str or Path
        The runs directory (``audit run --out``).

    Returns
    -------
    list of RunEntry
        Empty when the directory does not exist or holds no runs.
    """
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    root = root.resolve()
    if (root / REPORT_NAME).is_file():
        return [read_run(root)]
    entries: list[RunEntry] = []
    tops = [(root, True)] if _is_comparison(root) else _subfolders(root, root)
    for child, inside in tops:
        if not inside:
            # A symlinked run folder must not turn the dashboard into a reader of any path.
            entries.append(_refused(child.name, child))
        elif _holds_runs(child):
            prefix = "" if child == root else f"{child.name}/"
            for run, ok in _subfolders(child, root):
                name = prefix + run.name
                entries.append(read_run(run, name=name) if ok else _refused(name, run))
        elif not _is_plan(child):
            entries.append(read_run(child))
    ok = sorted((e for e in entries if e.ok), key=lambda e: e.sort_key, reverse=True)
    bad = sorted((e for e in entries if not e.ok), key=lambda e: e.name, reverse=True)
    log.debug("found %d readable and %d unreadable runs in %s", len(ok), len(bad), root)
    return ok + bad


@dataclass(frozen=True)
class ComparisonEntry:
    """One comparison folder and what reading its comparison.json gave.

    Attributes
    ----------
    name : str
        The folder name (the comparison id on disk).
    path : Path
        The comparison folder, resolved.
    message : str
        Why it could not be read; empty when ``comparison`` is set.
    comparison : Comparison or None
        The validated table.
    """

    name: str
    path: Path
    message: str = ""
    comparison: Comparison | None = None

    @property
    def ok(self) -> bool:
        """True when comparison.json was read and validated."""
        return self.comparison is not None


def read_comparison(folder: str | Path, *, name: str | None = None) -> ComparisonEntry:
    """Read one comparison folder's comparison.json (never raises)."""
    folder = Path(folder).resolve()
    name = name or folder.name
    path = folder / COMPARISON_NAME
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            return ComparisonEntry(name, folder, f"{COMPARISON_NAME} is too large ({size} bytes)")
        return ComparisonEntry(name, folder, "", load_comparison(path))
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        return ComparisonEntry(name, folder, f"{COMPARISON_NAME} could not be read: {exc}")
    except ValueError as exc:  # not JSON, newer schema, or not the comparison schema
        return ComparisonEntry(name, folder, f"{COMPARISON_NAME}: {_first_lines(str(exc))}")


def discover_comparisons(runs_dir: str | Path) -> list[ComparisonEntry]:
    """Every comparison folder under ``runs_dir`` (or ``runs_dir`` itself), newest first."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    root = root.resolve()
    if _is_comparison(root):
        return [read_comparison(root)]
    found = [
        read_comparison(child)
        for child, inside in _subfolders(root, root)
        if inside and _is_comparison(child)
    ]
    ok = sorted(
        (e for e in found if e.ok),
        key=lambda e: (e.comparison.created_at if e.comparison else "", e.name),
        reverse=True,
    )
    return ok + sorted((e for e in found if not e.ok), key=lambda e: e.name, reverse=True)
