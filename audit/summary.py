"""Readable plain-text summaries for the terminal: a report, a comparison, a dry-run plan."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from audit.report import SIGNIFICANCE_ALPHA, Report, Result, reading

if TYPE_CHECKING:
    from audit.compare import Comparison
    from audit.usage import UsagePlan

ALPHA = SIGNIFICANCE_ALPHA


def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None:
        return "-"
    if v != 0 and abs(v) < 10 ** (-digits):
        return f"{v:.1e}"
    return f"{v:.{digits}f}"


#: Result fields that tell apart rows sharing check, metric and variant; each is a column
#: of the run table when some result has a value for it.
KEY_FIELDS: tuple[str, ...] = ("group", "modality", "dim")
#: Details that name a setting of a measurement (red-team budget, defense, size label...),
#: tried first, in this order, when results share every key field.
SETTING_DETAILS: tuple[str, ...] = (
    "defense",
    "budget",
    "eps_255",
    "query_budget",
    "poisons_per_query",
    "size_label",
    "purpose",
    "k",
)
#: Rows of the run table printed by default; ``audit show RUN_DIR --all`` prints all.
MAX_ROWS = 60


def _sig(r: Result) -> str:
    # Reads the stored family-adjusted p-value (docs/bias-statistics.md); never the raw p.
    return reading(r, ALPHA)


def _ci(r: Result) -> str:
    if r.too_few is not None:
        # a CI over a sample this small reads as [0, 1]: say why instead (details: report)
        return f"too few (n={r.n})" if r.n is not None else "too few"
    return f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]" if r.ci_low is not None else "-"


def _key(r: Result) -> tuple[object, ...]:
    return (r.suite, r.check, r.metric, r.variant, r.group, r.modality, r.dim)


def _short(v: object) -> str:
    text = f"{v:g}" if isinstance(v, float) else str(v)
    return text if len(text) <= 24 else text[:21] + "..."


def settings(results: list[Result]) -> list[str]:
    """Per result, the details that tell it apart from results with the same key fields.

    Empty for a result no other one shares its suite, check, metric, variant, group,
    modality and dim with. Otherwise the :data:`SETTING_DETAILS` whose values differ among
    those results (``eps_255=8 defense=jpeg``); when they do not tell the rows apart, the
    other differing plain (text, integer, boolean) details are added.
    """
    buckets: dict[tuple[object, ...], list[int]] = {}
    for i, r in enumerate(results):
        buckets.setdefault(_key(r), []).append(i)
    out = [""] * len(results)
    for idx in buckets.values():
        if len(idx) < 2:
            continue
        rows = [results[i].details for i in idx]

        def varies(k: str, rows: list[dict] = rows) -> bool:
            return len({repr(d.get(k)) for d in rows}) > 1

        keys = [k for k in SETTING_DETAILS if varies(k)]
        if len({tuple(repr(d.get(k)) for k in keys) for d in rows}) < len(rows):
            plain = {
                k
                for d in rows
                for k, v in d.items()
                if isinstance(v, str | int | bool) and k not in keys
            }
            keys += sorted(k for k in plain if varies(k))
        for i, d in zip(idx, rows, strict=True):
            out[i] = " ".join(f"{k}={_short(d[k])}" for k in keys if k in d)
    return out


def run_table(results: list[Result], *, max_rows: int | None = MAX_ROWS) -> tuple[str, int]:
    """The run table: one row per result, with the columns that tell rows apart.

    Key fields (group, modality, dim) are columns when any result has them, and a
    ``setting`` column names the details that tell apart results sharing all of them.
    Returns the table and how many rows were left out (``max_rows`` None: none).
    """
    shown = results if max_rows is None else results[:max_rows]
    keys = [f for f in KEY_FIELDS if any(getattr(r, f) is not None for r in results)]
    setting = settings(results)[: len(shown)]
    header = ["check", "metric", "variant", *keys]
    header += ["setting"] if any(setting) else []
    adj = any(r.p_adjusted is not None for r in results)  # the stored family-adjusted p
    header += ["value", "95% CI", "p", *(["p_adj"] if adj else []), "n", ""]
    rows = []
    for r, extra in zip(shown, setting, strict=True):
        row = [r.check, r.metric, r.variant]
        row += ["-" if getattr(r, f) is None else str(getattr(r, f)) for f in keys]
        row += [extra or "-"] if any(setting) else []
        row += [_fmt(r.value), _ci(r), _fmt(r.p_value, 4)]
        row += [_fmt(r.p_adjusted, 4)] if adj else []
        row += ["-" if r.n is None else str(r.n)]
        rows.append([*row, _sig(r)])
    return format_table(rows, header), len(results) - len(shown)


def significance_lines(results: list[Result], alpha: float) -> list[str]:
    """One line per multiple-comparison family: how many of its tests are significant.

    Reads the stored ``p_adjusted``/``p_family`` (docs/bias-statistics.md); tests whose
    sample is too small (``too_few``) are counted apart, never as a verdict.
    """
    out = []
    tested = [r for r in results if r.p_value is not None]
    for fam in dict.fromkeys(r.p_family for r in tested):
        members = [r for r in tested if r.p_family == fam]
        if fam is None:
            out.append(f"{len(members)} p-value(s) without a stored adjustment (not judged).")
            continue
        few = [r for r in members if r.too_few is not None]
        readable = [r for r in members if r.too_few is None]
        sig = sum(r.p_adjusted is not None and r.p_adjusted < alpha for r in readable)
        line = f"{sig} of {len(readable)} significant at alpha={alpha} ({fam})"
        out.append(line + (f"; {len(few)} with too few samples" if few else "") + ".")
    return out


def format_table(rows: list[list[str]], header: list[str]) -> str:
    """Left-aligned fixed-width table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def summarize(report: Report, *, path: str | None = None, max_rows: int | None = MAX_ROWS) -> str:
    """The text the CLI prints after a run (``max_rows`` None: every result's row)."""
    head = [
        f"run {report.run_id}  suite={report.suite}  embedder={report.embedder.spec} "
        f"({report.embedder.name}, {report.embedder.dim}-d)",
    ]
    if report.results:
        table, left = run_table(report.results, max_rows=max_rows)
        head.append(table)
        if left:
            where = str(Path(path).parent) if path else "RUN_DIR"
            head.append(f"... {left} more result(s) not shown; every row: audit show {where} --all")
        few = sum(r.too_few is not None for r in report.results)
        if few:
            head.append(
                f"too few: {few} result(s) rest on a sample too small to read; their CI is not "
                "shown (why: results[].too_few in report.json)"
            )
        head += significance_lines(report.results, ALPHA)
    else:
        head.append("no results")
    for suite_name in dict.fromkeys(r.suite for r in report.results):
        extra = _suite_summary(suite_name, [r for r in report.results if r.suite == suite_name])
        if extra:
            head.append(extra)
    for g in report.gates:
        mark = "FAIL" if not g.passed else ("SKIP" if g.selected == 0 else "PASS")
        dim = f" [{g.dimension}]" if g.dimension else ""
        head.append(f"gate {mark} {g.name}{dim}: {g.metric} {_fmt(g.value)} {g.op} {g.threshold}")
        if g.message:
            head.append(f"  {g.message}")
    if report.check_errors:
        allowed = "" if report.status == "incomplete" else " (allowed by --allow-errors)"
        head.append(f"{len(report.check_errors)} check(s) errored{allowed}:")
        head += [f"  ERROR {e.suite}/{e.check}: {e.error}" for e in report.check_errors]
    head.append(f"status: {report.status}")
    for e in report.errors[:1]:
        head.append(f"error: {e}")
    head += verdict_lines(report)
    if path:
        head.append(f"report: {path}")
    return "\n".join(head)


def verdict_lines(report: Report) -> list[str]:
    """The stored verdict (``report.verdict``), one line per dimension and the overall one;
    [] when no policy was applied. Read, never recomputed: gates.md and JUnit say the same."""
    v = report.verdict
    if v is None:
        return []
    out = [f"verdict: {v.overall.upper().replace('_', ' ')}: {v.reason}"]
    width = max(len(d.dimension) for d in v.dimensions)
    for d in v.dimensions:
        status = d.status.upper().replace("_", " ")
        out.append(f"  {d.dimension.ljust(width)}  {status:<12}  {d.reason}")
    return out


def _suite_summary(name: str, results: list[Result]) -> str | None:
    """The suite's own view of its results (its registered renderer; no suite is imported)."""
    from audit.registry import RegistryError
    from audit.suites import suite_summary

    try:
        return suite_summary(name, results)
    except RegistryError:  # a report from a suite this install does not have
        return None


def summarize_comparison(comparison: Comparison, *, path: str | None = None) -> str:
    """The text the CLI prints after a comparison run: runs, the table, the legend."""
    from audit.compare import comparison_text

    head = [f"comparison {comparison.comparison_id}  suites={'+'.join(comparison.suites)}"]
    rows = [
        [e.label, e.spec, e.status, e.run_id or "-", e.error or ""] for e in comparison.embedders
    ]
    head.append(format_table(rows, ["column", "spec", "status", "run", "error"]))
    head += ["", comparison_text(comparison), ""]
    head += comparison.notes
    if path:
        head.append(f"comparison: {path}")
    return "\n".join(head)


def summarize_plan(plan: UsagePlan, *, path: str | None = None) -> str:
    """The text the CLI prints after a dry run: the plan table per embedder and its notes."""
    from audit.usage import plan_table

    head = [
        f"dry run {plan.plan_id}  suites={'+'.join(plan.suites)}: nothing was sent",
        plan_table(plan),
    ]
    if plan.prices is not None:
        head.append(f"prices: {plan.prices.path} ({plan.prices.currency})")
    else:
        head.append("cost: pass --prices FILE (see docs/examples/prices.example.toml)")
    head += plan.notes
    if path:
        head.append(f"plan: {path}")
    return "\n".join(head)
