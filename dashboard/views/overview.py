"""Overview: every run with its status and gates; the selected run's embedder and gates."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.report import Report
from dashboard._frames import (
    flatten_records,
    gates_frame,
    matching_results,
    narrow_to_evidence,
    results_frame,
)
from dashboard._loader import RunEntry
from dashboard._ui import (
    SUITE_PAGES,
    Context,
    empty_message,
    entry_report,
    get_context,
    md,
    show_table,
)

_PROBLEM_LEVEL = {"newer-schema": "warning", "missing": "info"}


def runs_table(entries: list[RunEntry]) -> pd.DataFrame:
    """One row per run directory, readable or not."""
    rows = []
    for e in entries:
        rep = e.report
        rows.append(
            {
                "run": e.name,
                "created": rep.created_at if rep else None,
                "suites": ", ".join(sorted({r.suite for r in rep.results})) if rep else None,
                "status": rep.status if rep else e.state,
                "embedder": f"{rep.embedder.spec} ({rep.embedder.name})" if rep else None,
                "dim": rep.embedder.dim if rep else None,
                "results": len(rep.results) if rep else None,
                "gates passed": sum(g.passed for g in rep.gates) if rep else None,
                "gates failed": sum(not g.passed for g in rep.gates) if rep else None,
                "problem": e.message or None,
            }
        )
    df = pd.DataFrame(rows)
    for col in ("dim", "results", "gates passed", "gates failed"):
        df[col] = df[col].astype("Int64")
    return df


def _check_errors_and_skips(rep: Report) -> None:
    """Checks that errored (status ``incomplete``: not a pass) and items left out."""
    if rep.check_errors:
        st.error(
            f"{len(rep.check_errors)} requested check(s) errored: the run is incomplete, "
            "which is not a pass (see docs/ci.md, --allow-errors)."
        )
        frame = pd.DataFrame([e.model_dump() for e in rep.check_errors])
        show_table(frame, key="check-errors")
    if rep.skipped_items:
        st.warning(f"{len(rep.skipped_items)} bad item(s) were left out (--skip-bad-items).")
        show_table(pd.DataFrame([s.model_dump() for s in rep.skipped_items]), key="skipped")


def _problems(entries: list[RunEntry]) -> None:
    for e in entries:
        if e.ok:
            continue
        text = f"Run {md(e.name)}: {md(e.message)}"
        level = _PROBLEM_LEVEL.get(e.state, "error")
        getattr(st, level)(text)


def _embedder(ctx: Context) -> None:
    rep = entry_report(ctx.selected)
    left, right = st.columns(2)
    with left:
        st.markdown("**Embedder**")
        emb = rep.embedder
        info = pd.DataFrame(
            {
                "field": ["spec", "name", "modalities", "dim", "matryoshka dims", "tool"],
                "value": [
                    emb.spec,
                    emb.name,
                    ", ".join(emb.modalities),
                    str(emb.dim),
                    ", ".join(str(d) for d in emb.matryoshka_dims) or "-",
                    rep.tool_version,
                ],
            }
        )
        st.dataframe(info, hide_index=True)
    with right:
        st.markdown("**Wrappers**")
        wrappers = {k: v for k, v in rep.wrappers.model_dump().items() if v is not None}
        if wrappers:
            st.json(wrappers, expanded=1)
        else:
            st.caption("No safety filter, projection or cache recorded.")


def _gates(ctx: Context) -> None:
    rep = entry_report(ctx.selected)
    name = ctx.selected.name if ctx.selected is not None else ""
    st.subheader("Gates")
    if not rep.gates:
        st.caption("No gates in this run (run with `--policy FILE` or `audit gate`).")
        return
    show_table(gates_frame(rep), key=f"gates-{name}")
    results = results_frame(rep)
    for gate in (g for g in rep.gates if not g.passed):
        st.error(
            f"Gate {md(gate.name)} failed: {md(gate.metric)} of {md(gate.check)} = "
            f"{md(gate.value)}, required {md(gate.op)} {md(gate.threshold)}."
            + (f" {md(gate.message)}" if gate.message else "")
        )
        rows = narrow_to_evidence(
            matching_results(results, gate.check, gate.metric, gate.suite), gate.evidence
        )
        suites = list(dict.fromkeys(rows["suite"])) or [
            str(ev["suite"]) for ev in gate.evidence if isinstance(ev.get("suite"), str)
        ]
        page = next((SUITE_PAGES[s] for s in suites if s in SUITE_PAGES), None)
        if page is not None:
            st.page_link(
                page,
                icon=":material/search:",
                # A label is Markdown: the gate's name and suite go through md() too.
                label=f"Evidence for {md(gate.name)}: {len(rows)} result(s) on the "
                f"{md(suites[0])} page",
                query_params={
                    "run": name,
                    "gate": gate.name,
                    "check": gate.check,
                    "metric": gate.metric,
                },
            )
        if gate.evidence:
            with st.expander(f"Evidence recorded by the gate ({len(gate.evidence)})"):
                st.dataframe(flatten_records(gate.evidence), hide_index=True)


def render() -> None:
    """The Overview page."""
    st.title("Overview")
    ctx = get_context()
    if ctx is None:
        st.error("Open the dashboard through dashboard/app.py (`audit dashboard`).")
        return
    if not ctx.entries:
        st.info(empty_message(ctx.runs_dir))
        return
    st.subheader("Runs")
    show_table(runs_table(ctx.entries), key="runs")
    _problems(ctx.entries)
    if ctx.selected is None or ctx.selected.report is None:
        st.warning("No run has a readable report yet.")
        return
    rep = ctx.selected.report
    st.subheader(f"Run {md(ctx.selected.name)}")
    cols = st.columns(4)
    cols[0].metric("Status", rep.status)
    cols[1].metric("Gates passed", sum(g.passed for g in rep.gates))
    cols[2].metric("Gates failed", sum(not g.passed for g in rep.gates))
    cols[3].metric("Results", len(rep.results))
    present = sorted({r.suite for r in rep.results})
    missing = [s for s in SUITE_PAGES if s not in present]
    st.caption(
        f"Suites in this run: {md(', '.join(present) or 'none')}"
        + (f" · not run: {md(', '.join(missing))}" if missing else "")
    )
    if rep.errors:
        st.error(f"The run itself failed: {md(rep.errors[0])}")
        if len(rep.errors) > 1:
            st.code("\n".join(rep.errors[1:]), language=None)
    _check_errors_and_skips(rep)
    _embedder(ctx)
    _gates(ctx)


if __name__ == "__main__":
    render()
