"""A Markdown summary of a run and its gates, for CI job summaries.

GitHub Actions renders the file named by ``$GITHUB_STEP_SUMMARY``; GitLab and others can
attach it as an artifact. Tables escape ``|`` so check names and messages cannot break them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.gates._files import write_atomic
from audit.report import GateResult, Report

_VERDICT = {"pass": "✅ pass", "fail": "❌ fail", "not_assessed": "➖ not assessed"}

_STATUS = {
    "passed": "✅ passed",
    "failed": "❌ failed",
    "no-gates": "➖ no gates (no policy)",
    "error": "💥 run failed",
    "incomplete": "💥 incomplete (checks errored)",
}


def _cell(v: Any) -> str:
    if v is None:
        return "–"
    text = f"{v:.4g}" if isinstance(v, float) else str(v)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _verdict(g: GateResult) -> str:
    if not g.passed:
        return "❌ fail"
    return "⏭️ skipped" if g.selected == 0 else "✅ pass"


def _failing_details(g: GateResult, limit: int) -> list[str]:
    failing = [e for e in g.evidence if not e.get("passed", True)]
    keys = ["check", "metric", "variant", "modality", "dim", "group", "value"]
    keys += [k for k in ("baseline", "change", "p_value", "ci_low", "ci_high") if any(
        e.get(k) is not None for e in failing
    )]  # fmt: skip
    rows = [[e.get(k) for k in keys] + [e.get("reason")] for e in failing[:limit]]
    out = ["", f"<details><summary>{_cell(g.name)}: {len(failing)} failing result(s)</summary>"]
    out += ["", *_table([*keys, "reason"], rows)]
    if len(failing) > limit:
        out.append(f"\n… {len(failing) - limit} more in report.json")
    return [*out, "", "</details>"]


def markdown_summary(
    report: Report, *, path: str | None = None, max_results: int = 50, max_evidence: int = 30
) -> str:
    """The Markdown text: status, run facts, the gates table, failing evidence, results.

    Parameters
    ----------
    report : Report
        The (gated) report.
    path : str, optional
        Where report.json lies, shown for reference.
    max_results, max_evidence : int
        Row limits of the results table and of each failing gate's evidence table.
    """
    lines = [f"## mme-audit: {_STATUS.get(report.status, report.status)}", ""]
    facts = [
        ("run", f"`{report.run_id}`"),
        ("suite", report.suite),
        ("embedder", f"`{report.embedder.spec}` ({report.embedder.name}, {report.embedder.dim}-d)"),
        ("tool", report.tool_version),
    ]
    if report.policy is not None:
        facts.append(("policy", f"{report.policy.name} (`{report.policy.path or '-'}`)"))
        if report.policy.baseline_run_id:
            facts.append(("baseline", f"`{report.policy.baseline_run_id}`"))
    if path:
        facts.append(("report", f"`{path}`"))
    lines += [f"- **{k}**: {v}" for k, v in facts]
    if report.verdict is not None:  # the stored verdict, read, never recomputed here
        v = report.verdict
        lines += ["", f"### Verdict: {_VERDICT[v.overall]}", "", _cell(v.reason), ""]
        rows = [[_VERDICT[d.status], d.dimension, d.reason] for d in v.dimensions]
        lines += _table(["", "dimension", "reason"], rows)
    if report.gates:
        failed = sum(not g.passed for g in report.gates)
        # a gate that selected nothing passed nothing: it is counted apart (as JUnit skips it)
        skipped = sum(g.passed and g.selected == 0 for g in report.gates)
        passed = len(report.gates) - failed - skipped
        counts = f"{passed} passed, {failed} failed" + (
            f", {skipped} skipped (not assessed)" if skipped else ""
        )
        lines += ["", f"### Gates: {counts}", ""]
        rows = [
            [_verdict(g), g.name, g.dimension, f"{g.suite or '*'}/{g.check}", g.metric, g.value,
             g.op, g.threshold, g.message]
            for g in report.gates
        ]  # fmt: skip
        header = ["", "gate", "dimension", "selects", "metric", "value", "op", "threshold"]
        header.append("detail")
        lines += _table(header, rows)
        for g in report.gates:
            if not g.passed and any(not e.get("passed", True) for e in g.evidence):
                lines += _failing_details(g, max_evidence)
    for err in report.errors[:1]:
        lines += ["", "### Error", "", "```", err.strip(), "```"]
    if report.check_errors:
        allowed = "" if report.status == "incomplete" else " (allowed: --allow-errors)"
        lines += ["", f"### Errored checks ({len(report.check_errors)}){allowed}", ""]
        rows = [[e.suite, e.check, e.error] for e in report.check_errors]
        lines += _table(["suite", "check", "error"], rows)
    if report.results:
        n = len(report.results)
        lines += ["", f"<details><summary>Results ({n})</summary>", ""]
        header = ["check", "metric", "variant", "modality", "dim", "group", "value", "95% CI", "p"]
        rows = [
            [r.check, r.metric, r.variant, r.modality, r.dim, r.group, r.value,
             None if r.ci_low is None or r.ci_high is None
             else f"[{r.ci_low:.3f}, {r.ci_high:.3f}]", r.p_value]
            for r in report.results[:max_results]
        ]  # fmt: skip
        lines += _table(header, rows)
        if n > max_results:
            lines.append(f"\n… {n - max_results} more in report.json")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def write_summary(report: Report, path: str | Path, *, report_path: str | None = None) -> Path:
    """Write :func:`markdown_summary` to ``path`` atomically (replacing it); returns the path."""
    return write_atomic(path, markdown_summary(report, path=report_path))
