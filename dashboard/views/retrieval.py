"""Retrieval: metrics per modality pair and size, degradation by size, per-group disparity."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard._charts import bar_chart, degradation_chart
from dashboard._frames import (
    degradation_table,
    group_disparity,
    group_rows,
    metric_sort_key,
    options,
    pivot_metrics,
)
from dashboard._ui import (
    evidence_banner,
    page_header,
    show_chart,
    show_table,
    sidebar_filters,
    suite_frame,
)

PREFERRED = ("avg_recall", "recall@10", "ndcg@10")
KEYS = ["check", "modality", "dim", "variant"]
RECALL_COLUMN = "search recall vs exact"


def search_recall_columns(overall: pd.DataFrame) -> pd.DataFrame | None:
    """Engine and recall@k against exact search per row, where an approximate engine ran.

    One row per (check, modality, dim, variant) with ``engine`` and the recall of that
    row's rankings at their depth (``details.search_recall_at``), formatted
    ``"0.973 @10"``. None when every result came from an exact engine (or says nothing
    about its search: reports from before the engine was recorded).
    """
    rows = []
    for _, r in overall.iterrows():
        details = json.loads(r["details"]) if r["details"] else {}
        if details.get("search_exact", True) or "search_recall_at" not in details:
            continue
        depth = str(details.get("depth"))
        recall = details["search_recall_at"].get(depth)
        cell = "n/a" if recall is None else f"{recall:.3f} @{depth}"
        rows.append({**{k: r[k] for k in KEYS}, "engine": details["engine"], RECALL_COLUMN: cell})
    if not rows:
        return None
    return pd.DataFrame(rows).drop_duplicates(subset=KEYS)


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
        table = pivot_metrics(overall, KEYS)
        searched = search_recall_columns(overall)
        if searched is not None:
            # Numbers from an approximate search carry its recall in the same row.
            table = table.merge(searched, on=KEYS, how="left")
            st.caption(
                f"'{RECALL_COLUMN}': recall@k of the approximate engine's rankings against "
                "exact search; every metric in the row was computed from those rankings."
            )
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
        _group_disparity(groups)


#: Per-group charts: one per kind of number, each on its own axis.
GROUP_CHARTS = {
    "value": ("value per group", (0.0, 1.0)),
    "difference": ("difference between groups (max - min)", None),
    "ratio": ("ratio between groups (min / max)", (0.0, 1.0)),
}


def _group_disparity(groups: pd.DataFrame) -> None:
    """Per-group values at one size: the table, then values, differences and ratios as
    three charts (a difference or a ratio is not a value on the metric's axis)."""
    st.subheader("Per-group disparity")
    sizes = options(groups, "dim")
    if len(sizes) > 1:
        size = st.selectbox("Size", sizes, key="retrieval-group-size")
        groups = groups[groups["dim"] == size]
        st.caption(f"At size {size}; pick another size above.")
    rows = group_rows(groups)
    # The table sets one group's values side by side; the suite's own differences and
    # ratios (group = the attribute) are charted below, not mixed in as a "group".
    values = groups[rows["kind"] == "value"]
    table = group_disparity(values, ["check", "modality", "dim", "variant", "metric"])
    show_table(table, key="retrieval-groups")
    for kind, (title, domain) in GROUP_CHARTS.items():
        sub = rows[rows["kind"] == kind]
        if sub.empty:
            continue
        if domain is not None and not sub["value"].between(*domain).all():
            domain = None  # a value off the metric's usual range: let the axis show it
        show_chart(bar_chart(sub, y="row", color="metric", title=title, domain=domain))


if __name__ == "__main__":
    render()
