"""What the audit report shows, built from a stored report: the view the templates render.

Plain dataclasses of report strings and :class:`~audit.reporting._num.Num` numbers, each
number carrying its report.json path; the templates only lay them out and escape them.
Nothing here judges a gate or adjusts a p-value: the verdict, ``passed``, ``p_adjusted``
and ``too_few`` are read as the run stored them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from audit.gates._verdict import evidence_key, sign_reversals
from audit.report import (
    DIMENSIONS,
    SIGNIFICANCE_ALPHA,
    GateResult,
    Report,
    reading,
    result_setting,
)
from audit.reporting._findings import Part, describe, gate_clause
from audit.reporting._num import Num, src_path
from audit.reporting._provenance import caveats, provenance

__all__ = ["EvidenceRow", "GateView", "ReportView", "SectionView", "build_view"]

#: Failing results named on page one per failed gate (the rest: in the gate's section).
PAGE_ONE_FINDINGS = 5

TITLES = {
    "fairness": "Fairness",
    "safety": "Safety",
    "robustness": "Robustness",
    "quality": "Quality",
    "privacy": "Privacy",
    "provenance": "Provenance and governance",
}
#: Which suites' results feed each dimension's section (a gate may add others).
SUITES = {"fairness": ("bias",), "safety": ("safety",), "robustness": ("redteam",)}
SUITES |= {"quality": ("retrieval",)}


@dataclass(frozen=True)
class EvidenceRow:
    """One result a gate judged: the stored result (``index`` into ``results``) or, when
    no result has its key, the gate's own copy (``src`` under ``gates[i].evidence[j]``)."""

    key: str
    cells: dict[str, Num | str]
    passed: bool | None
    reason: str
    too_few: str | None


@dataclass(frozen=True)
class GateView:
    """One judged gate, its anchor and its evidence."""

    anchor: str
    gate: GateResult
    value: Num
    threshold: Num
    selected: Num | None
    rows: list[EvidenceRow]
    findings: list[tuple[Part, ...]]  # failing results in plain language
    columns: list[tuple[str, str]] = field(default_factory=list)  # (cell key, heading)
    same: list[tuple[str, str]] = field(default_factory=list)  # (heading, the one value)


#: The evidence table's columns, in order: (cell key, heading).
COLUMNS = [("check", "check"), ("metric", "metric"), ("variant", "variant")]
COLUMNS += [("modality", "modality"), ("dim", "dim"), ("group", "group"), ("setting", "setting")]
COLUMNS += [("value", "value")]
COLUMNS += [("ci_low", "CI low"), ("ci_high", "CI high"), ("p_value", "p")]
COLUMNS += [("p_adjusted", "adjusted p"), ("p_family", "family"), ("n", "n")]
LABEL_COLUMNS = frozenset(
    {"check", "metric", "variant", "modality", "dim", "group", "setting", "p_family"}
)
_LABELS = LABEL_COLUMNS


def _layout(rows: list[EvidenceRow]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The columns worth a column: a label that is the same on every row is said once
    above the table (``same``); a number column that is n/a on every row is left out."""
    columns, same = [], []
    for key, heading in COLUMNS:
        cells = [r.cells[key] for r in rows]
        if key in _LABELS and key != "check" and len({str(c) for c in cells}) == 1:
            if str(cells[0]) != "-":
                same.append((heading, str(cells[0])))
        elif key not in _LABELS and all(getattr(c, "value", None) is None for c in cells):
            continue
        else:
            columns.append((key, heading))
    return columns, same


@dataclass(frozen=True)
class Table:
    """A titled table: header and rows of cells (text or numbers)."""

    title: str
    header: list[str]
    rows: list[list[tuple[Part, ...]]]  # each cell: text and numbers (a too-few flag)


@dataclass(frozen=True)
class SectionView:
    """One responsible-AI dimension's section."""

    dimension: str
    anchor: str
    title: str
    status: str
    reason: str
    gates: list[GateView]
    tables: list[Table] = field(default_factory=list)
    figures: list[Any] = field(default_factory=list)  # (Figure, Markup svg, data rows)
    thumbs: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportView:
    """Everything the report template needs."""

    report: Report
    page_one: dict[str, Any]
    sections: list[SectionView]
    caveats: dict[str, Any]
    provenance: dict[str, Any]


def _index(report: Report) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, r in enumerate(report.results):
        out.setdefault(evidence_key(r), i)
    return out


_COLS = ("value", "ci_low", "ci_high", "p_value", "p_adjusted", "n")


def _evidence_row(
    report: Report, index: dict[str, int], gi: int, ei: int, entry: dict[str, Any]
) -> EvidenceRow:
    key = evidence_key(entry)
    ri = index.get(key)
    if ri is not None:
        r = report.results[ri]
        base, get = src_path("results", ri), lambda f: getattr(r, f)
        family, too_few = r.p_family, r.too_few
    else:  # the gate's own copy (a regression gate's baseline entry, a v1 report)
        base, get = src_path("gates", gi, "evidence", ei), entry.get
        family, too_few = entry.get("p_family"), entry.get("too_few")
    cells: dict[str, Num | str] = {c: Num(_number(get(c)), f"{base}.{c}") for c in _COLS}
    for f in ("check", "metric", "variant", "modality", "dim", "group"):
        v = entry.get(f)
        cells[f] = "-" if v is None else str(v)
    # which defense / budget: what tells apart results sharing every other label
    setting = entry.get("setting") or (
        result_setting(report.results[ri]) if ri is not None else None
    )
    cells["setting"] = setting or "-"
    cells["p_family"] = family or "-"
    passed = entry.get("passed")
    return EvidenceRow(
        key=key,
        cells=cells,
        passed=passed if isinstance(passed, bool) else None,
        reason=str(entry.get("reason") or ""),
        too_few=too_few if isinstance(too_few, str) else None,
    )


def _number(v: Any) -> float | int | None:
    return v if isinstance(v, int | float) and not isinstance(v, bool) else None


def _gate_view(report: Report, index: dict[str, int], gi: int, g: GateResult) -> GateView:
    rows = [_evidence_row(report, index, gi, ei, e) for ei, e in enumerate(g.evidence)]
    findings = []
    for e in g.evidence:
        if e.get("passed", True) is not False:
            continue
        ri = index.get(evidence_key(e))
        if ri is not None:
            findings.append((*describe(report.results[ri], ri), "; ", *gate_clause(g, gi, e)))
    if not g.passed and not findings:  # a gate judged on no stored result (e.g. a count)
        findings.append((f"{g.metric} = ", _gnum(g, gi, "value"), "; ", *gate_clause(g, gi)))
    return GateView(
        anchor=f"gate-{gi}",
        gate=g,
        value=_gnum(g, gi, "value"),
        threshold=_gnum(g, gi, "threshold"),
        selected=None if g.selected is None else _gnum(g, gi, "selected"),
        rows=rows,
        findings=findings,
        columns=_layout(rows)[0] if rows else [],
        same=_layout(rows)[1] if rows else [],
    )


def _gnum(g: GateResult, gi: int, f: str) -> Num:
    return Num(getattr(g, f), src_path("gates", gi, f))


def _quality_tables(report: Report) -> list[Table]:
    """Retrieval per group and size, Table-3 shape: rows = group, columns = dims."""
    cells: dict[tuple, dict[tuple, tuple[Part, ...]]] = defaultdict(dict)
    dims: dict[tuple, set[int]] = defaultdict(set)
    for i, r in enumerate(report.results):
        if r.suite != "retrieval" or r.dim is None or r.variant not in ("raw", None):
            continue
        if not r.metric.startswith(("ndcg@", "recall@")) or "_" in r.metric:
            continue
        key = (r.check, r.modality or "-", r.metric)
        shown: tuple[Part, ...] = (Num(r.value, src_path("results", i, "value")),)
        cells[key][(r.group or "all", r.dim)] = shown + ((f" ({r.too_few})",) if r.too_few else ())
        dims[key].add(r.dim)
    tables = []
    for (check, modality, metric), values in cells.items():
        cols = sorted(dims[(check, modality, metric)], reverse=True)
        groups = list(dict.fromkeys(g for g, _ in values))
        groups.sort(key=lambda g: (g != "all", g))
        rows = [[(g,), *(values.get((g, d), ("-",)) for d in cols)] for g in groups]
        header = ["group", *(f"dim {d}" for d in cols)]
        tables.append(Table(f"{check} ({modality}): {metric}", header, rows))
    return tables


def _association_table(report: Report) -> list[Table]:
    """Every stored association test, raw and debiased, with its adjusted p."""
    rows = []
    for i, r in enumerate(report.results):
        if r.metric != "effect_size" or r.variant == "delta":
            continue
        nums = [(Num(getattr(r, f), src_path("results", i, f)),) for f in _COLS[:5]]
        labels = [(r.check,), (r.variant,), (str(r.dim or "-"),)]
        # the stored reading, worded as the run table words it (same rule, same alpha)
        rows.append([*labels, *nums, (r.p_family or "-",), (reading(r) or "-",)])
    if not rows:
        return []
    header = ["test", "variant", "dim", "d", "CI low", "CI high", "p", "adjusted p", "family"]
    header.append(f"reading (alpha {SIGNIFICANCE_ALPHA})")
    return [Table("Association tests (effect size d, two-sided unless stated)", header, rows)]


def _figures(report: Report, run_dir: Path | None) -> tuple[dict[str, list], list]:
    from audit.reporting._charts import figures, thumbnails
    from audit.reporting._svg import sanitize_svg

    out: dict[str, list] = {}
    for dim, figs in figures(report, run_dir).items():
        out[dim] = []
        for fig in figs:
            # Inlined as markup only after the allow-list check (R2's sanitiser) here too.
            svg = Markup(sanitize_svg(fig.svg))
            data = [
                [_fig_label(d), _fig_setting(d), *(_fig_num(d, f) for f in _FIG_NUMS)]
                for d in fig.data
            ]
            out[dim].append((fig, svg, data))
    return out, thumbnails(report, run_dir) if run_dir is not None else []


_FIG_NUMS = ("value", "ci_low", "ci_high")


#: Numbers a drawn record carries besides value and CI, and where each is stored in its
#: result (so the setting column's numbers carry their report.json path too).
_FIG_SETTINGS = (("dim", "dim"), ("budget", "details.budget"), ("eps_255", "details.eps_255"))
_FIG_SETTINGS += (("p_adjusted", "p_adjusted"),)


def _fig_label(d: dict[str, Any]) -> str:
    """What a drawn record is, from its text fields (check, group, variant...)."""
    skip = (*_FIG_NUMS, "src", "p_family")
    bits = [str(v) for k, v in d.items() if k not in skip and isinstance(v, str)]
    return ", ".join(dict.fromkeys(bits)) or str(d.get("src", ""))


def _fig_setting(d: dict[str, Any]) -> tuple[Part, ...]:
    """``budget 8``, ``eps_255 2``, ``dim 384``, ``p_adjusted 0.002``: the drawn record's
    other stored numbers."""
    parts: list[Part] = []
    src = str(d.get("src", ""))
    for key, path in _FIG_SETTINGS:
        if _number(d.get(key)) is not None and src:
            parts += ["; " if parts else "", f"{key} ", Num(d[key], f"{src}.{path}")]
    return tuple(parts) or ("-",)


def _fig_num(d: dict[str, Any], f: str) -> Num:
    src = str(d.get("src", ""))
    return Num(_number(d.get(f)), f"{src}.{f}" if src else "")


def _section(report: Report, dim: str, gates: list[GateView], extras: dict) -> SectionView:
    verdict = {v.dimension: v for v in report.verdict.dimensions} if report.verdict else {}
    v = verdict.get(dim)
    suites = SUITES.get(dim, ())
    ran = [s for s in suites if any(r.suite == s for r in report.results)]
    notes = []
    if suites and not ran:
        notes.append(f"The run has no {', '.join(suites)} results.")
    tables = []
    if dim == "fairness":
        tables = _association_table(report)
    elif dim == "quality":
        tables = _quality_tables(report)
    return SectionView(
        dimension=dim,
        anchor=f"dim-{dim}",
        title=TITLES[dim],
        status=v.status if v else "not_assessed",
        reason=v.reason if v else "No policy applied: not assessed.",
        gates=[gv for gv in gates if gv.gate.dimension == dim],
        tables=tables,
        figures=extras["figures"].get(dim, []),
        thumbs=extras["thumbs"] if dim == "robustness" else [],
        notes=notes,
    )


def _dim(dim: int | None) -> str:
    return "" if dim is None else f" (dim {dim})"


def build_view(report: Report, run_dir: Path | None, *, charts: bool = True) -> ReportView:
    """The report's view: page one, one section per dimension, caveats, provenance.

    Parameters
    ----------
    report : Report
        The stored run (read, never changed).
    run_dir : Path or None
        Its folder (red-team thumbnails are read from its artifacts); None: no thumbnails.
    charts : bool, default=True
        Draw the figures (HTML); the Markdown report names the HTML for them.
    """
    index = _index(report)
    gates = [_gate_view(report, index, gi, g) for gi, g in enumerate(report.gates)]
    figs, thumbs = _figures(report, run_dir) if charts else ({}, [])
    extras = {"figures": figs, "thumbs": thumbs}
    sections = [_section(report, d, gates, extras) for d in DIMENSIONS]
    reversals = []
    for raw, deb, _ in sign_reversals(report):
        ri, di = index[evidence_key(raw)], index[evidence_key(deb)]
        reversals.append(
            (
                f"{deb.check} [{deb.modality or '-'}]: effect size ",
                Num(raw.value, src_path("results", ri, "value")),
                f" raw{_dim(raw.dim)} -> ",
                Num(deb.value, src_path("results", di, "value")),
                f" debiased{_dim(deb.dim)}, adjusted p = ",
                Num(deb.p_adjusted, src_path("results", di, "p_adjusted")),
                f" ({deb.p_family or 'no family'}): over-corrected, biased the other way",
            )
        )
    page_one = {
        "failed": [gv for gv in gates if not gv.gate.passed],
        "loose": [gv for gv in gates if gv.gate.dimension is None],
        "reversals": reversals,
        "suites": sorted({r.suite for r in report.results}) or [report.suite],
        "fingerprint": report.reproducibility.get("embedder_fingerprint"),
    }
    return ReportView(
        report=report,
        page_one=page_one,
        sections=sections,
        caveats=caveats(report),
        provenance=provenance(report),
    )
