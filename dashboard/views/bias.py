"""Bias: effect sizes with CIs (forest plot), significance, raw vs debiased, skew, per group."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from dashboard._charts import bar_chart, forest_plot
from dashboard._ui import (
    evidence_banner,
    md,
    page_header,
    show_chart,
    show_table,
    sidebar_filters,
    suite_frame,
)

# Skew metrics: per group (skew@k, Geyik et al.) and their summaries (max/min, NDKL).
SKEW = re.compile(r"^(skew@\d+|max_skew@\d+|min_skew@\d+|ndkl(@\d+)?)$")
ALPHAS = [0.01, 0.05, 0.1]


def effect_table(df: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Effect sizes with CI, raw and stored adjusted p-value, and whether the adjusted p
    is below alpha (None when there is none, or when the sample is too small to read)."""
    es = df[df["metric"] == "effect_size"]
    cols = ["check", "variant", "dim", "modality", "value", "ci_low", "ci_high", "p_value"]
    out = es[[*cols, "p_adjusted", "p_family", "too_few", "n"]]
    out = out.rename(columns={"value": "effect size"})
    sig = [
        None if pd.isna(p) or isinstance(few, str) else bool(p < alpha)
        for p, few in zip(out["p_adjusted"], out["too_few"], strict=True)
    ]
    return out.assign(**{f"p_adj < {alpha}": sig})


def significance_caption(table: pd.DataFrame, alpha: float) -> str:
    """``N of M tests significant at alpha (holm:family ...)`` from the stored fields."""
    sig = table[f"p_adj < {alpha}"]
    fams = sorted({str(f) for f in table["p_family"].dropna()})
    few = int(table["too_few"].notna().sum())
    text = (
        f"{int(sig.fillna(False).sum())} of {int(sig.notna().sum())} tests significant at "
        f"{alpha} by the stored adjusted p-value ("
        + ("; ".join(fams) if fams else "no adjusted p-values stored")
        + ")"
    )
    return text + (f"; {few} with too few samples to read." if few else ".")


def raw_vs_debiased(df: pd.DataFrame) -> pd.DataFrame:
    """Per check: raw and debiased effect sizes, the change, and the |d| reduction in %.

    Joined on check and modality, not on size: a projection that removes the gender
    direction gives the debiased embedder one dimension fewer (384 -> 383), and both
    sizes are shown.
    """
    es = df[(df["metric"] == "effect_size") & df["variant"].isin(["raw", "debiased"])]
    cols = [
        "check",
        "modality",
        "raw dim",
        "debiased dim",
        "raw",
        "debiased",
        "change",
        "|d| reduction (%)",
    ]
    if es.empty:
        return pd.DataFrame(columns=cols)
    keys = ["check", "modality", "variant"]
    first = es.groupby(keys, dropna=False)[["value", "dim"]].first()
    wide = first["value"].unstack("variant")
    if not {"raw", "debiased"} <= set(wide.columns):
        return pd.DataFrame(columns=cols)
    dims = first["dim"].unstack("variant")
    wide = wide[["raw", "debiased"]].join(
        dims[["raw", "debiased"]].add_suffix(" dim").astype("Int64")
    )
    wide = wide.dropna(subset=["raw", "debiased"]).reset_index()
    wide["change"] = wide["debiased"] - wide["raw"]
    wide["|d| reduction (%)"] = (
        (wide["raw"].abs() - wide["debiased"].abs()) / wide["raw"].abs() * 100
    ).where(wide["raw"] != 0)
    return wide[cols]


SKEW_AXIS = "skew@k = log(share in top k / share in the population); 0 = parity"


def skew_bars(skew: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """Per-group skew rows (``skew@k`` with a group), one frame per (check, metric), so a
    chart compares raw and debiased for one probe at one k."""
    by_group = skew[skew["group"].notna()]
    return {
        (str(check), str(metric)): rows
        for (check, metric), rows in by_group.groupby(["check", "metric"], sort=False)
    }


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
        st.caption(md(significance_caption(table, alpha)))
        show_chart(forest_plot(es))
        show_table(table, key="bias-effect-sizes")

    both = raw_vs_debiased(df)
    if not both.empty:
        st.subheader("Raw vs debiased")
        show_table(both, key="bias-raw-vs-debiased")

    skew = df[df["metric"].map(lambda m: bool(SKEW.match(m)))]
    if not skew.empty:
        st.subheader("Skew by group")
        cols = ["check", "metric", "variant", "dim", "modality", "group", "value", "n"]
        show_table(skew[cols], key="bias-skew")
        for (check, metric), bars in skew_bars(skew).items():
            st.caption(f"{md(check)} · {md(metric)}")
            show_chart(bar_chart(bars, y="group", color="variant", title=SKEW_AXIS))

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
