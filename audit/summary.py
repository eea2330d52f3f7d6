"""Readable plain-text summaries for the terminal: a report, a comparison, a dry-run plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from audit.report import Report, Result

if TYPE_CHECKING:
    from audit.compare import Comparison
    from audit.usage import UsagePlan

ALPHA = 0.05


def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None:
        return "-"
    if v != 0 and abs(v) < 10 ** (-digits):
        return f"{v:.1e}"
    return f"{v:.{digits}f}"


def _row(r: Result) -> list[str]:
    ci = f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]" if r.ci_low is not None else "-"
    sig = ""
    if r.p_value is not None:
        sig = "significant" if r.p_value < ALPHA else "not significant"
    return [
        r.check,
        r.metric,
        r.variant,
        r.modality or "-",
        str(r.dim) if r.dim else "-",
        _fmt(r.value),
        ci,
        _fmt(r.p_value, 4),
        str(r.n) if r.n is not None else "-",
        sig,
    ]


def format_table(rows: list[list[str]], header: list[str]) -> str:
    """Left-aligned fixed-width table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def summarize(report: Report, *, path: str | None = None, max_rows: int = 60) -> str:
    """The text the CLI prints after a run."""
    head = [
        f"run {report.run_id}  suite={report.suite}  embedder={report.embedder.spec} "
        f"({report.embedder.name}, {report.embedder.dim}-d)",
    ]
    if report.results:
        rows = [_row(r) for r in report.results[:max_rows]]
        header = ["check", "metric", "variant", "modality", "dim", "value", "95% CI", "p", "n", ""]
        head.append(format_table(rows, header))
        if len(report.results) > max_rows:
            head.append(f"... {len(report.results) - max_rows} more result(s) in the report")
        tested = [r for r in report.results if r.p_value is not None]
        if tested:
            sig = sum(r.p_value < ALPHA for r in tested)  # type: ignore[operator]
            head.append(
                f"{sig} of {len(tested)} tested effect(s) significant at alpha={ALPHA} "
                "(one-sided permutation test)."
            )
    else:
        head.append("no results")
    for suite_name in dict.fromkeys(r.suite for r in report.results):
        extra = _suite_summary(suite_name, [r for r in report.results if r.suite == suite_name])
        if extra:
            head.append(extra)
    for g in report.gates:
        mark = "FAIL" if not g.passed else ("SKIP" if g.selected == 0 else "PASS")
        head.append(f"gate {mark} {g.name}: {g.metric} {_fmt(g.value)} {g.op} {g.threshold}")
        if g.message:
            head.append(f"  {g.message}")
    if report.check_errors:
        allowed = "" if report.status == "incomplete" else " (allowed by --allow-errors)"
        head.append(f"{len(report.check_errors)} check(s) errored{allowed}:")
        head += [f"  ERROR {e.suite}/{e.check}: {e.error}" for e in report.check_errors]
    head.append(f"status: {report.status}")
    for e in report.errors[:1]:
        head.append(f"error: {e}")
    if path:
        head.append(f"report: {path}")
    return "\n".join(head)


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
