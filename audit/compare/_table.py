"""Build the Table-2-shaped comparison from per-embedder reports.

Rows are the union of every report's headline rows (:mod:`audit.compare._headline`),
grouped and ordered as in :data:`GROUP_ORDER`; a cell without a result says why:
"error" (the run failed before the check), "-" (the embedder does not take a modality
the check needs, from its modalities or from the suite's own skip record) or "n/a"
(the check was not run or not measured for it). Usage rows close the table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit._version import __version__
from audit.compare._headline import GROUP_ORDER, headlines, p_of, row_key
from audit.compare._schema import CELL_TEXT, Cell, Comparison, ComparisonEmbedder, ComparisonRow
from audit.report import Report, Result

#: Usage rows: counter in ``EmbedderInfo.usage``, label, scale.
USAGE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("requests", "requests sent", "count"),
    ("text_chars", "text characters", "count"),
    ("images", "images", "count"),
    ("media_seconds", "media seconds", "plain"),
)
NO_COUNTERS = "the backend keeps no usage counters (a local model sends no requests)"
LEGEND = (
    '"-": the embedder does not take a modality the check needs; "error": the run failed '
    'before the check; "n/a": not run or not measured. Values: each embedder at its native '
    "size, variant raw (undefended, not debiased); retrieval in %, [95% CI], p = "
    "Holm-adjusted permutation p-value. Headline rules: docs/compare.md."
)
_UNSUPPORTED = re.compile(r"does not (accept|embed|take|support)")


@dataclass(frozen=True)
class RunRef:
    """One embedder's run as the comparison sees it.

    Attributes
    ----------
    spec : str
        The embedder spec.
    report : Report or None
        Its report (None when no report was written).
    path : Path or None
        Where report.json lies.
    error : str or None
        Why there is no report.
    """

    spec: str
    report: Report | None
    path: Path | None = None
    error: str | None = None


def short_label(spec: str) -> str:
    """A column header for a spec: options dropped, a path shortened to its last part."""
    kind, sep, arg = spec.partition(":")
    if not sep:
        return spec
    arg = arg.split("?", 1)[0].split("#", 1)[0].rstrip("/\\")
    if "/" in arg or "\\" in arg:
        arg = re.split(r"[/\\]", arg)[-1]
    return f"{kind}:{arg}" if arg else kind


def column_labels(specs: Sequence[str]) -> list[str]:
    """Unique column headers (a repeated short label gets its position appended)."""
    short = [short_label(s) for s in specs]
    return [lab if short.count(lab) == 1 else f"{lab} ({i + 1})" for i, lab in enumerate(short)]


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else None


def _embedder(ref: RunRef, label: str, root: Path | None) -> ComparisonEmbedder:
    rep = ref.report
    path = None
    if ref.path is not None:
        path = (
            str(ref.path.relative_to(root))
            if root and ref.path.is_relative_to(root)
            else str(ref.path)
        )
    if rep is None:
        return ComparisonEmbedder(
            label=label, spec=ref.spec, name=ref.spec, path=path, error=_first_line(ref.error)
        )
    return ComparisonEmbedder(
        label=label,
        spec=ref.spec,
        name=rep.embedder.name,
        modalities=list(rep.embedder.modalities),
        dim=rep.embedder.dim,
        dims=list(rep.embedder.matryoshka_dims),
        usage=dict(rep.embedder.usage),
        run_id=rep.run_id,
        path=path,
        status=rep.status,
        error=_first_line(rep.errors[0]) if rep.errors else None,
    )


def format_value(
    v: float,
    scale: str,
    ci: tuple[float | None, float | None] = (None, None),
    p: float | None = None,
) -> str:
    """A cell's text: the value, then ``[CI]`` and ``p=`` where the result has them."""
    lo, hi = ci
    if scale == "percent":
        text = f"{100 * v:.1f}"
        band = f" [{100 * lo:.1f}, {100 * hi:.1f}]" if lo is not None and hi is not None else ""
    elif scale == "count":
        return f"{round(v):,}"
    else:
        fmt = "+.2f" if scale == "signed" else ".3f"
        text = format(v, fmt)
        band = f" [{lo:{fmt}}, {hi:{fmt}}]" if lo is not None and hi is not None else ""
    if p is not None:
        band += " p<0.001" if p < 0.001 else f" p={p:.3f}"
    return text + band


def _value_cell(row: ComparisonRow, r: Result) -> Cell:
    p = p_of(r)
    if r.value is None:
        return Cell(
            kind="not-run",
            text=CELL_TEXT["not-run"],
            metric=r.metric,
            reason="the suite could not compute a value",
        )
    return Cell(
        kind="value",
        text=format_value(r.value, row.scale, (r.ci_low, r.ci_high), p),
        value=r.value,
        ci_low=r.ci_low,
        ci_high=r.ci_high,
        p_value=p,
        n=r.n,
        dim=r.dim,
        metric=r.metric,
    )


def _skip_records(report: Report) -> list[tuple[str, str, bool]]:
    """(check or probe name, reason, failed) the suites recorded for checks they skipped."""
    out: list[tuple[str, str, bool]] = []
    for r in report.results:
        if r.suite == "bias" and r.check == "coverage":
            for name, reason in (r.details.get("skipped") or {}).items():
                out.append((str(name), str(reason), False))
            for name, reason in (r.details.get("failed") or {}).items():
                out.append((str(name), str(reason), True))
        elif r.metric == "skipped":
            out.append((r.check, str(r.details.get("reason", "skipped")), False))
    return out


def _missing_cell(row: ComparisonRow, ref: RunRef, modalities: list[str]) -> Cell:
    """Why a column has no result for a row."""
    rep = ref.report
    if rep is None:
        return _why("error", _first_line(ref.error) or "the run wrote no report")
    if rep.status == "error" and f"suite/{row.suite}" not in rep.timings:
        return _why("error", _first_line(rep.errors[0]) if rep.errors else "the run failed")
    suites = rep.config.get("suites") or rep.suite.split("+")
    if row.suite not in suites:
        return _why("not-run", f"suite {row.suite} was not part of this run")
    missing = sorted(set(row.modalities) - set(modalities))
    if missing:
        return _why("unsupported", f"{rep.embedder.name} does not embed {', '.join(missing)}")
    for name, reason, failed in _skip_records(rep):
        if row.check == name or row.check.startswith(f"{name}/"):
            if failed:
                return _why("error", reason)
            kind = "unsupported" if _UNSUPPORTED.search(reason) else "not-run"
            return _why(kind, reason)
    return _why("not-run", "not measured in this run")


def _why(kind: str, reason: str) -> Cell:
    return Cell(kind=kind, text=CELL_TEXT[kind], reason=reason)  # type: ignore[arg-type]


def _usage_cell(counter: str, scale: str, ref: RunRef) -> Cell:
    # A failed run still records what it sent before failing: that was paid for.
    rep = ref.report
    if rep is None:
        return _why("error", "the run wrote no report")
    value: Any = rep.embedder.usage.get(counter)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _why("not-run", NO_COUNTERS if rep.embedder.dim else "not recorded")
    text = f"{value:,.1f}" if scale == "plain" else f"{round(value):,}"
    return Cell(kind="value", text=text, value=float(value), metric=counter)


def build_comparison(
    runs: Sequence[RunRef],
    *,
    comparison_id: str,
    suites: Sequence[str],
    root: Path | None = None,
    created_at: str | None = None,
) -> Comparison:
    """The comparison table of several embedders' runs.

    Parameters
    ----------
    runs : sequence of RunRef
        One per embedder, in column order.
    comparison_id : str
        The comparison run's id.
    suites : sequence of str
        The suites every run was asked to run.
    root : Path, optional
        The comparison folder; report paths are stored relative to it.
    created_at : str, optional
        ISO-8601 time (default: now).

    Returns
    -------
    Comparison
        Rows grouped as in Table 2, cells for every (row, embedder), usage rows last.
    """
    labels = column_labels([r.spec for r in runs])
    embedders = [_embedder(ref, lab, root) for ref, lab in zip(runs, labels, strict=True)]
    rows: dict[tuple[str, str, str, str | None], ComparisonRow] = {}
    found: list[dict[tuple[str, str, str, str | None], Result]] = []
    for ref in runs:
        mine: dict[tuple[str, str, str, str | None], Result] = {}
        for h in headlines(ref.report) if ref.report is not None else []:
            key = row_key(h.row)
            held = rows.get(key)
            if held is None:
                rows[key] = h.row
            elif not set(h.row.modalities) <= set(held.modalities):
                merged = sorted(set(held.modalities) | set(h.row.modalities))
                rows[key] = held.model_copy(update={"modalities": merged})
            mine.setdefault(key, h.result)
        found.append(mine)
    rank = {g: i for i, g in enumerate(GROUP_ORDER)}
    ordered = sorted(rows.items(), key=lambda kv: rank.get(kv[1].group, len(rank)))
    out_rows: list[ComparisonRow] = []
    cells: list[list[Cell]] = []
    for key, row in ordered:
        out_rows.append(row)
        line = []
        for ref, mine, emb in zip(runs, found, embedders, strict=True):
            r = mine.get(key)
            line.append(_value_cell(row, r) if r else _missing_cell(row, ref, emb.modalities))
        cells.append(line)
    for counter, label, scale in USAGE_ROWS:
        out_rows.append(
            ComparisonRow(
                group="USAGE",
                suite="usage",
                check="usage",
                slot=counter,
                metrics=[counter],
                label=label,
                scale=scale,
            )  # type: ignore[arg-type]
        )
        cells.append([_usage_cell(counter, scale, ref) for ref in runs])
    extra: dict[str, Any] = {"created_at": created_at} if created_at else {}
    return Comparison(
        comparison_id=comparison_id,
        tool_version=__version__,
        suites=list(suites),
        embedders=embedders,
        rows=out_rows,
        cells=cells,
        notes=[LEGEND],
        **extra,
    )
