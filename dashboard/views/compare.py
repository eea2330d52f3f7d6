"""Compare: two runs side by side with deltas; regressions highlighted."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard._frames import compare_frames, compare_gates, filter_frame, results_frame
from dashboard._ui import entry_report, get_context, md, show_table

_COLOURS = {"regression": "background-color: #f8d7da", "improvement": "background-color: #d1e7dd"}


def _highlight(df: pd.DataFrame) -> pd.io.formats.style.Styler:
    def row_style(row: pd.Series) -> list[str]:
        return [_COLOURS.get(str(row["change"]), "")] * len(row)

    return df.style.apply(row_style, axis=1).format(precision=4, na_rep="")


def render() -> None:
    """The Compare page."""
    st.title("Compare runs")
    ctx = get_context()
    if ctx is None:
        st.error("Open the dashboard through dashboard/app.py (`audit dashboard`).")
        return
    readable = ctx.readable
    if len(readable) < 2:
        st.info(
            f"Comparing needs two readable runs; {md(ctx.runs_dir)} has {len(readable)}. "
            "Run the audit again (e.g. on a new model version) to compare."
        )
        return
    names = [e.name for e in readable]
    by_name = {e.name: e for e in readable}
    left, right = st.columns(2)
    # Default: the selected run against the run before it.
    b_default = names.index(ctx.selected.name) if ctx.selected is not None else 0
    a_default = min(b_default + 1, len(names) - 1) if b_default + 1 < len(names) else 0
    a_name = left.selectbox("Baseline (A)", names, index=a_default, key="compare-a")
    b_name = right.selectbox("Candidate (B)", names, index=b_default, key="compare-b")
    if a_name == b_name:
        st.warning("Pick two different runs.")
        return
    ra, rb = entry_report(by_name[a_name]), entry_report(by_name[b_name])
    tolerance = st.sidebar.number_input(
        "Ignore changes up to",
        min_value=0.0,
        value=0.01,
        step=0.005,
        format="%.3f",
        key="compare-tol",
    )
    table = compare_frames(results_frame(ra), results_frame(rb), tolerance=tolerance)
    suites = sorted(table["suite"].unique())
    chosen = st.sidebar.multiselect("Suite", suites, key="compare-suite", placeholder="all")
    only_changes = st.sidebar.checkbox("Only regressions and improvements", key="compare-only")
    table = filter_frame(table, suite=chosen)
    if only_changes:
        table = table[table["change"].isin(["regression", "improvement"])]

    counts = table["change"].value_counts()
    cols = st.columns(4)
    cols[0].metric("Regressions", int(counts.get("regression", 0)))
    cols[1].metric("Improvements", int(counts.get("improvement", 0)))
    cols[2].metric("Unchanged", int(counts.get("unchanged", 0)))
    cols[3].metric("In one run only", int(counts.get("only in A", 0) + counts.get("only in B", 0)))
    st.caption(
        "Regression = worse in B by more than the tolerance, in the metric's direction "
        "(higher recall/precision/nDCG/MRR; lower attack success, false positives, skew; "
        "smaller |effect size|). Metrics with no known direction show as 'changed'."
    )
    st.subheader("Gates")
    gates = compare_gates(ra, rb)
    if gates.empty:
        st.caption("Neither run has gates.")
    else:
        show_table(gates, key="compare-gates", styler=_highlight(gates))
    st.subheader("Results")
    show_table(table, key=f"compare-{a_name}-vs-{b_name}", styler=_highlight(table))


if __name__ == "__main__":
    render()
