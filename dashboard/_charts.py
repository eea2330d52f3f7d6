"""Altair charts for the pages: forest plot, degradation by size, ASR vs budget, bars.

Each builder takes a tidy frame (from ``dashboard._frames``) and returns an Altair chart;
none reads files or touches Streamlit.
"""

from __future__ import annotations

import altair as alt
import pandas as pd


def _tidy(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    # Altair wants plain columns; nullable ints and missing labels become floats/strings.
    out = df[cols].copy()
    for c in cols:
        if str(out[c].dtype) == "Int64":
            out[c] = out[c].astype("float64")
        elif out[c].dtype == object or str(out[c].dtype).startswith(("str", "string")):
            out[c] = out[c].astype("object").where(out[c].notna(), "(none)").map(str)
    return out


def forest_plot(df: pd.DataFrame) -> alt.Chart:
    """Effect sizes as points with CI whiskers, one row per check, colour by variant.

    Parameters
    ----------
    df : DataFrame
        Rows with ``check``, ``variant``, ``value``, ``ci_low``, ``ci_high``, ``p_value``.
    """
    data = _tidy(df, ["check", "variant", "value", "ci_low", "ci_high", "p_value"])
    checks = list(dict.fromkeys(data["check"]))
    y = alt.Y("check:N", sort=checks, title=None)
    base = alt.Chart(data).encode(
        y=y,
        yOffset=alt.YOffset("variant:N"),
        color=alt.Color("variant:N", title="variant"),
        tooltip=["check", "variant", "value", "ci_low", "ci_high", "p_value"],
    )
    whiskers = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title="effect size (95% CI)"), x2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=70).encode(x="value:Q")
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="grey").encode(x="x:Q")
    height = max(120, 56 * len(checks))
    return (zero + whiskers + points).properties(height=height)


def degradation_chart(df: pd.DataFrame, metric: str) -> alt.Chart:
    """A metric against embedding size (log scale), one line per check and modality pair."""
    data = _tidy(df[df["metric"] == metric], ["check", "modality", "variant", "dim", "value"])
    data["series"] = data["check"] + " · " + data["modality"]
    dims = sorted({int(d) for d in data["dim"].dropna()})
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "dim:Q",
                scale=alt.Scale(type="log", base=2),
                axis=alt.Axis(values=dims, format="d"),
                title="embedding size",
            ),
            y=alt.Y("value:Q", title=metric),
            color=alt.Color("series:N", title="dataset · modality"),
            strokeDash=alt.StrokeDash("variant:N", title="variant"),
            tooltip=["check", "modality", "variant", "dim", "value"],
        )
        .properties(height=300)
    )


def budget_chart(df: pd.DataFrame, title: str) -> alt.Chart:
    """Attack success rate against budget for one attack, one line per variant.

    Budgets of different attacks (an L-inf eps, a number of edits) do not share a scale,
    so the page draws one chart per attack.
    """
    data = _tidy(df, ["check", "variant", "budget", "value"])
    return (
        alt.Chart(data, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("budget:Q", title="budget (details.eps or details.budget)"),
            y=alt.Y("value:Q", title="attack success rate", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("variant:N", title="variant"),
            strokeDash=alt.StrokeDash("variant:N", title="variant"),
            tooltip=["check", "variant", "budget", "value"],
        )
        .properties(height=240)
    )


def bar_chart(df: pd.DataFrame, *, y: str, color: str, title: str) -> alt.Chart:
    """Horizontal bars of ``value`` per ``y`` label, grouped by ``color``."""
    data = _tidy(df, [y, color, "value"])
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=title),
            y=alt.Y(f"{y}:N", title=None),
            yOffset=alt.YOffset(f"{color}:N"),
            color=alt.Color(f"{color}:N"),
            tooltip=[y, color, "value"],
        )
        .properties(height=max(100, 50 * data[y].nunique()))
    )
