"""Safety: block rates, precision/recall, evasion results, per-group false positives."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard._charts import bar_chart
from dashboard._frames import group_disparity, pivot_metrics
from dashboard._ui import (
    evidence_banner,
    page_header,
    show_chart,
    show_table,
    sidebar_filters,
    suite_frame,
)


def _is_evasion(check: str, metric: str) -> bool:
    return check.startswith("evasion") or "evasion" in metric


def render() -> None:
    """The Safety page."""
    ctx = page_header("Safety")
    if ctx is None:
        return
    df = suite_frame(ctx, "safety")
    if df is None:
        return
    evidence_banner(ctx, df)
    df = sidebar_filters(
        df, {"check": "Category", "modality": "Modality", "variant": "Variant"}, key="safety"
    )
    evasion_mask = pd.Series(
        [_is_evasion(c, m) for c, m in zip(df["check"], df["metric"], strict=True)],
        index=df.index,
        dtype=bool,
    )
    evasion = df[evasion_mask]
    main = df[~evasion_mask & df["group"].isna()]

    st.subheader("Filter performance by category")
    if main.empty:
        st.caption("No overall safety results for these filters.")
    else:
        show_table(pivot_metrics(main, ["check", "modality", "variant"]), key="safety-metrics")
        rates = main[main["metric"] == "block_rate"]
        if not rates.empty:
            show_chart(bar_chart(rates, y="check", color="variant", title="block rate"))

    if not evasion.empty:
        st.subheader("Evasion")
        st.caption("Share of unsafe items that got past the filter after the transformation.")
        cols = ["check", "metric", "variant", "modality", "value", "n"]
        show_table(evasion[cols], key="safety-evasion")

    fp = df[(df["metric"] == "false_positive_rate") & df["group"].notna()]
    if not fp.empty:
        st.subheader("False positives by group")
        st.caption("Benign items blocked, per group: a gap means one group is censored more.")
        table = group_disparity(fp, ["check", "modality", "variant", "metric"])
        show_table(table, key="safety-fp-groups")
        show_chart(bar_chart(fp, y="group", color="check", title="false positive rate"))

    other_groups = df[df["group"].notna() & (df["metric"] != "false_positive_rate")]
    if not other_groups.empty:
        st.subheader("Other per-group results")
        cols = ["check", "metric", "variant", "modality", "group", "value", "n"]
        show_table(other_groups[cols], key="safety-groups")


if __name__ == "__main__":
    render()
