"""Compare: embedders side by side (comparison runs), and two runs with deltas.

The first part shows a comparison run's Table-2-shaped table (rows: checks, columns:
embedders; "-" greyed where an embedder does not take the modality a check needs) and a
bar chart per row group. The second part compares any two runs, regressions highlighted.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from audit.compare import Comparison
from dashboard._frames import (
    compare_frames,
    compare_gates,
    comparison_frame,
    comparison_kinds,
    comparison_values,
    filter_frame,
    results_frame,
)
from dashboard._loader import ComparisonEntry, RunEntry, discover_comparisons
from dashboard._ui import Context, entry_report, get_context, md, show_table

_COLOURS = {"regression": "background-color: #f8d7da", "improvement": "background-color: #d1e7dd"}
#: Cell styles by kind: no value is greyed ("-", "n/a") or marked ("error").
KIND_STYLES = {
    "value": "",
    "unsupported": "color: #9e9e9e; background-color: #f0f0f0",
    "not-run": "color: #9e9e9e; font-style: italic",
    "error": "color: #b00020; background-color: #fdecea",
}


def _highlight(df: pd.DataFrame) -> pd.io.formats.style.Styler:
    def row_style(row: pd.Series) -> list[str]:
        return [_COLOURS.get(str(row["change"]), "")] * len(row)

    return df.style.apply(row_style, axis=1).format(precision=4, na_rep="")


def _kind_styler(df: pd.DataFrame, kinds: pd.DataFrame) -> pd.io.formats.style.Styler:
    def styles(_: pd.DataFrame) -> pd.DataFrame:
        out = kinds.map(lambda k: KIND_STYLES.get(str(k), ""))
        out[["group", "check"]] = ""
        return out

    return df.style.apply(styles, axis=None)


def _bars(data: pd.DataFrame, *, shared_axis: bool) -> alt.Chart | alt.FacetChart:
    """Grouped bars: one bar per embedder and check (own x axis per check for usage)."""
    tooltip = ["check", "embedder", "text"]
    if not shared_axis:  # usage counters have different units: one panel each
        return (
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=alt.X("value:Q", title=None),
                y=alt.Y("embedder:N", title=None),
                color=alt.Color("embedder:N", legend=None),
                tooltip=tooltip,
            )
            .properties(height=22 * data["embedder"].nunique())
            .facet(row=alt.Row("check:N", title=None, header=alt.Header(labelAngle=0)))
            .resolve_scale(x="independent")
        )
    checks = list(dict.fromkeys(data["check"]))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("check:N", sort=checks, title=None, axis=alt.Axis(labelLimit=360)),
            yOffset=alt.YOffset("embedder:N"),
            x=alt.X("value:Q", title=None),
            color=alt.Color("embedder:N", title="embedder"),
            tooltip=tooltip,
        )
        .properties(height=max(80, 14 * len(data) + 20 * len(checks)))
    )


def _comparison_runs(comp: Comparison, entry: ComparisonEntry, ctx: Context) -> None:
    """The columns' runs, with links that open each one on the Overview page."""
    readable = {e.name for e in ctx.readable}
    nested = entry.path != ctx.runs_dir.resolve()  # the runs dir may be the comparison itself
    rows, links = [], []
    for e in comp.embedders:
        folder = Path(e.path).parts[0] if e.path else None
        name = f"{entry.name}/{folder}" if folder and nested else folder
        rows.append(
            {
                "column": e.label,
                "spec": e.spec,
                "model": e.name,
                "modalities": ", ".join(e.modalities),
                "dim": e.dim,
                "status": e.status,
                "run": name or "-",
                "error": e.error or "",
            }
        )
        if name in readable:
            links.append((e.label, name))
    show_table(pd.DataFrame(rows), key=f"comparison-runs-{entry.name}")
    for label, name in links:
        st.page_link(
            "views/overview.py",
            label=f"Open {md(label)} ({md(name)})",  # a label is Markdown: escape both
            icon=":material/open_in_new:",
            query_params={"run": name},
        )


def _embedder_comparison(ctx: Context, found: list[ComparisonEntry]) -> None:
    """Pick a comparison run; its table with greyed gaps, its runs, a chart per group."""
    st.header("Embedders side by side")
    for bad in (e for e in found if not e.ok):
        st.warning(f"Comparison {md(bad.name)}: {md(bad.message)}")
    readable = {e.name: e for e in found if e.ok}
    if not readable:
        return
    name = st.selectbox("Comparison run", list(readable), key="comparison-run")
    entry = readable[name]
    comp = entry.comparison
    assert comp is not None  # readable entries carry their table
    st.caption(
        f"{md(comp.comparison_id)} · suites {md(', '.join(comp.suites))} · "
        f"{len(comp.embedders)} embedders · {md(comp.created_at)}"
    )
    table = comparison_frame(comp)
    show_table(table, key=f"comparison-{name}", styler=_kind_styler(table, comparison_kinds(comp)))
    for note in comp.notes:
        st.caption(md(note))
    st.subheader("Runs")
    _comparison_runs(comp, entry, ctx)
    st.subheader("Charts")
    for group in dict.fromkeys(r.group for r in comp.rows):
        data = comparison_values(comp, group)
        if data.empty:
            continue
        st.markdown(f"**{md(group)}**" + (" (%)" if "RETRIEVAL" in group else ""))
        st.altair_chart(_bars(data, shared_axis=group != "USAGE"), width="stretch")


def _suites(entry: RunEntry) -> frozenset[str]:
    rep = entry_report(entry)
    return frozenset(r.suite for r in rep.results) or frozenset([rep.suite])


def baseline_index(readable: list[RunEntry], b: int) -> int:
    """The default baseline (A) for the candidate ``readable[b]`` (runs newest first).

    The nearest older run holding the same suites (then the nearest newer one); else the
    nearest run sharing one of them; else the run just before it (the newest when B is the
    oldest). So a red-team run is not compared with a bias run while a bias run is there.
    """
    want = _suites(readable[b])
    # Older runs first (nearest first), then newer ones (nearest first).
    order = [*range(b + 1, len(readable)), *range(b - 1, -1, -1)]
    for same in (lambda s: s == want, lambda s: bool(s & want)):
        found = next((i for i in order if same(_suites(readable[i]))), None)
        if found is not None:
            return found
    return b + 1 if b + 1 < len(readable) else 0


def render() -> None:
    """The Compare page."""
    st.title("Compare runs")
    ctx = get_context()
    if ctx is None:
        st.error("Open the dashboard through dashboard/app.py (`audit dashboard`).")
        return
    found = discover_comparisons(ctx.runs_dir)
    if found:
        _embedder_comparison(ctx, found)
        st.header("Two runs")
    _two_runs(ctx)


def _two_runs(ctx: Context) -> None:
    """Two runs side by side with deltas."""
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
    # Default: the selected run against the run before it of the same suite.
    b_default = names.index(ctx.selected.name) if ctx.selected is not None else 0
    a_default = baseline_index(readable, b_default)
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
