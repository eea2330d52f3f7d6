"""The comparison folder's report: each embedder's decision, linking each run's report.

Read from comparison.json (the table) and each run's report.json (its stored verdict);
numbers carry their comparison.json path (``cells[3][1].value``) like the run report's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from audit.compare._schema import Comparison, load_comparison
from audit.report import Report, load_report
from audit.reporting._num import Num, src_path

__all__ = ["ComparisonView", "EmbedderRun", "comparison_view"]

_CI = ("ci_low", "ci_high")


@dataclass(frozen=True)
class EmbedderRun:
    """One column: the embedder, its run's decision and the link to its report."""

    label: str
    spec: str
    status: str
    overall: str  # pass / fail / not_assessed, or the run status when it has no verdict
    reason: str
    href: str | None  # relative link to the run's report.html (None: no run folder)
    error: str | None


@dataclass(frozen=True)
class ComparisonView:
    """What comparison.{html,md}.j2 renders."""

    comparison: Comparison
    runs: list[EmbedderRun]
    rows: list[tuple[str, str, list[tuple[Num | str, ...]]]]  # (group, label, cell parts)


def _href(path: str | None) -> str | None:
    """A safe relative link to the run's report.html: only a plain relative path inside the
    folder (no scheme, no absolute path, no ``..``) becomes a link."""
    if not path:
        return None
    p = PurePosixPath(path.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or ":" in path:
        return None
    return quote((p.parent / "report.html").as_posix())


def _run(folder: Path, label: str, spec: str, path: str | None, status: str, error):
    report: Report | None = None
    reason = error or "no report.json"
    if path:
        try:
            report = load_report(folder / path)
        except (OSError, ValueError) as exc:
            reason = f"report.json unreadable: {exc}"
    if report is None:
        return EmbedderRun(label, spec, status, status, reason, None, error)
    if report.verdict is None:
        overall, reason = "not_assessed", "No policy applied: not assessed."
    else:
        overall, reason = report.verdict.overall, report.verdict.reason
    return EmbedderRun(label, spec, report.status, overall, reason, _href(path), error)


def comparison_view(folder: Path) -> ComparisonView:
    """Read a comparison folder (comparison.json and the runs it lists)."""
    comparison = load_comparison(folder)
    runs = [_run(folder, e.label, e.spec, e.path, e.status, e.error) for e in comparison.embedders]
    rows = []
    for ri, (row, cells) in enumerate(zip(comparison.rows, comparison.cells, strict=True)):
        shown = []
        for ci, c in enumerate(cells):
            if c.kind != "value":
                shown.append((c.text,))
                continue
            parts: list[Num | str] = [Num(c.value, src_path("cells", ri, ci, "value"))]
            if c.ci_low is not None and c.ci_high is not None:
                lo, hi = (Num(getattr(c, f), src_path("cells", ri, ci, f)) for f in _CI)
                parts += [" [", lo, ", ", hi, "]"]
            shown.append(tuple(parts))
        rows.append((row.group, row.label, shown))
    return ComparisonView(comparison=comparison, runs=runs, rows=rows)
