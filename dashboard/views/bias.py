"""Bias: effect sizes with CIs (forest plot), significance, raw vs debiased, skew, per group."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from dashboard._charts import bar_chart, forest_plot
from dashboard._ui import (
    evidence_banner,
    page_header,
    show_chart,
    show_table,
    sidebar_filters,
    suite_frame,
)

SKEW = re.compile(r"^(max_skew@\d+|min_skew@\d+|ndkl)$")
ALPHAS = [0.01, 0.05, 0.1]


def effect_table(df: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Effect sizes with CI, p-value and whether p < alpha (None when no p-value)."""
    es = df[df["metric"] == "effect_size"]
    out = es[["check", "variant", "dim", "modality", "value", "ci_low", "ci_high", "p_value", "n"]]
    out = out.rename(columns={"value": "effect size"})
    sig = [None if pd.isna(p) else bool(p < alpha) for p in out["p_value"]]
    return out.assign(**{f"p < {alpha}": sig})


def raw_vs_debiased(df: pd.DataFrame) -> pd.DataFrame:
    """Per check: raw and debiased effect sizes, the change, and the |d| reduction in %."""
    es = df[(df["metric"] == "effect_size") & df["variant"].isin(["raw", "debiased"])]
    cols = ["check", "dim", "modality", "raw", "debiased", "change", "|d| reduction (%)"]
    if es.empty:
        return pd.DataFrame(columns=cols)
    wide = (
        es.groupby(["check", "dim", "modality", "variant"], dropna=False)["value"]
        .first()
        .unstack("variant")
    )
    if not {"raw", "debiased"} <= set(wide.columns):
        return pd.DataFrame(columns=cols)
    wide = wide[["raw", "debiased"]].dropna().reset_index()
    wide["change"] = wide["debiased"] - wide["raw"]
    wide["|d| reduction (%)"] = (
        (wide["raw"].abs() - wide["debiased"].abs()) / wide["raw"].abs() * 100
    ).where(wide["raw"] != 0)
    return wide[cols]


def render() -> None:
    """The Bias page."""
    ctx = page_header("Bias")
    if ctx is None:
        return
    df = suite_frame(ctx, "bias")
    if df is None:
        return
    evidence_banner(ctx, df)
    df = sidebar_filters(
        df, {"variant": "Variant", "modality": "Modality", "dim": "Size"}, key="bias"
    )
    alpha = st.sidebar.selectbox("Significance level", ALPHAS, index=1, key="bias-alpha")

    es = df[df["metric"] == "effect_size"]
    st.subheader("Effect sizes")
    if es.empty:
        st.caption("No effect-size results for these filters.")
    else:
        table = effect_table(df, alpha)
        sig = table[f"p < {alpha}"]
        st.caption(
            f"{int(sig.fillna(False).sum())} of {int(sig.notna().sum())} tests significant "
            f"at {alpha} (one-sided permutation p-values, not corrected for multiple tests)."
        )
        show_chart(forest_plot(es))
        show_table(table, key="bias-effect-sizes")

    both = raw_vs_debiased(df)
    if not both.empty:
        st.subheader("Raw vs debiased")
        show_table(both, key="bias-raw-vs-debiased")

    skew = df[df["metric"].map(lambda m: bool(SKEW.match(m)))]
    if not skew.empty:
        st.subheader("Skew by group")
        cols = ["check", "metric", "variant", "group", "value", "n"]
        show_table(skew[cols], key="bias-skew")
        by_group = skew[skew["group"].notna()]
        if not by_group.empty:
            show_chart(bar_chart(by_group, y="group", color="variant", title="skew@k (0 = parity)"))

    per_group = df[df["group"].notna() & ~df.index.isin(skew.index)]
    if not per_group.empty:
        st.subheader("Per-group performance")
        cols = ["check", "metric", "variant", "dim", "modality", "group", "value", "n"]
        show_table(per_group[cols], key="bias-per-group")

    other = df[~df.index.isin(es.index) & ~df.index.isin(skew.index) & df["group"].isna()]
    if not other.empty:
        st.subheader("Other bias results")
        show_table(other.drop(columns=["suite"]), key="bias-other")


if __name__ == "__main__":
    render()
