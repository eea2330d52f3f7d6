"""Retrieval: metrics per modality pair and size, degradation by size, per-group disparity."""

from __future__ import annotations

import streamlit as st

from dashboard._charts import bar_chart, degradation_chart
from dashboard._frames import degradation_table, group_disparity, metric_sort_key, pivot_metrics
from dashboard._ui import (
    evidence_banner,
    page_header,
    show_chart,
    show_table,
    sidebar_filters,
    suite_frame,
)

PREFERRED = ("avg_recall", "recall@10", "ndcg@10")


def render() -> None:
    """The Retrieval page."""
    ctx = page_header("Retrieval")
    if ctx is None:
        return
    df = suite_frame(ctx, "retrieval")
    if df is None:
        return
    evidence_banner(ctx, df)
    df = sidebar_filters(
        df,
        {"check": "Dataset", "modality": "Modality", "dim": "Size", "variant": "Variant"},
        key="retrieval",
    )
    overall = df[df["group"].isna()]
    st.subheader("By modality pair and size")
    if overall.empty:
        st.caption("No overall (all-groups) results for these filters.")
    else:
        table = pivot_metrics(overall, ["check", "modality", "dim", "variant"])
        table = table.sort_values(["check", "modality", "dim"], ascending=[True, True, False])
        show_table(table, key="retrieval-metrics")

    sized = overall[overall["dim"].notna()]
    if sized["dim"].nunique() > 1:
        st.subheader("Degradation by embedding size")
        metrics = sorted(sized["metric"].unique(), key=metric_sort_key)
        default = next((m for m in PREFERRED if m in metrics), metrics[0])
        metric = st.selectbox(
            "Metric", metrics, index=metrics.index(default), key="retrieval-degr-metric"
        )
        st.caption(
            "One row per dataset, modality pair and variant; one column per size. The last "
            "column is the smallest size's value as a percentage of the largest size's."
        )
        show_table(degradation_table(sized, metric), key=f"retrieval-degradation-{metric}")
        show_chart(degradation_chart(sized, metric))

    groups = df[df["group"].notna()]
    if not groups.empty:
        st.subheader("Per-group disparity")
        table = group_disparity(groups, ["check", "modality", "dim", "variant", "metric"])
        show_table(table, key="retrieval-groups")
        show_chart(bar_chart(groups, y="group", color="metric", title="value by group"))


if __name__ == "__main__":
    render()
