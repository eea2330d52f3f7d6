"""Altair charts for the pages: forest plot, degradation by size, ASR vs budget, bars.

Each builder takes a tidy frame (from ``dashboard._frames``) and returns an Altair chart;
none reads files or touches Streamlit.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

# Legends and axes draw labels in full: Vega's default limits cut "skin_tone=medium-dark"
# and "skin_tone=medium-light" to the same "skin_tone=mediu…".
_LEGEND = alt.Legend(labelLimit=0, orient="bottom", direction="vertical")


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
    y = alt.Y("check:N", sort=checks, title=None, axis=alt.Axis(labelLimit=0))
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
            color=alt.Color("series:N", title="dataset · modality", legend=_LEGEND),
            strokeDash=alt.StrokeDash("variant:N", title="variant", legend=_LEGEND),
            tooltip=["check", "modality", "variant", "dim", "value"],
        )
        .properties(height=300)
    )


def budget_chart(df: pd.DataFrame, title: str) -> alt.Chart:
    """Attack success rate against budget for one attack, one line per series.

    ``df`` comes from :func:`dashboard._frames.attack_series`: a series is a variant, or a
    variant and its defense (``defended · jpeg``), so several defenses never join into one
    zig-zag line. When every row has an L-inf budget in /255 units (``details.eps_255``)
    the x axis reads ``8/255``; otherwise it shows ``details.budget`` (edits, queries).
    Budgets of different attacks do not share a scale, so the page draws one chart per
    attack.
    """
    in_255 = bool(df["eps_255"].notna().all()) and not df.empty
    x_col = "eps_255" if in_255 else "budget"
    data = _tidy(df, ["check", "series", x_col, "value"])
    if in_255:
        ticks = sorted({float(v) for v in data[x_col]})
        x = alt.X(
            f"{x_col}:Q",
            title="eps (L-inf, /255)",
            axis=alt.Axis(values=ticks, labelExpr="datum.value + '/255'"),
        )
    else:
        x = alt.X(f"{x_col}:Q", title="budget (details.budget)")
    solid_first = sorted(data["series"].unique(), key=lambda s: (s != "raw", s))
    return (
        alt.Chart(data, title=title)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title="attack success rate", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "series:N", title="variant · defense", sort=solid_first, legend=_LEGEND
            ),
            strokeDash=alt.StrokeDash("series:N", sort=solid_first, legend=None),
            tooltip=["check", "series", x_col, "value"],
        )
        .properties(height=240)
    )


def bar_chart(
    df: pd.DataFrame,
    *,
    y: str,
    color: str,
    title: str,
    domain: tuple[float, float] | None = None,
) -> alt.Chart:
    """Horizontal bars of ``value`` per ``y`` label, grouped by ``color``.

    Labels are drawn in full (no ``skin_tone=mediu…``); ``domain`` fixes the x axis (a
    rate on [0, 1]) when given.
    """
    data = _tidy(df, [y, color, "value"])
    scale = alt.Scale(domain=list(domain)) if domain is not None else alt.Undefined
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=title, scale=scale),
            y=alt.Y(f"{y}:N", title=None, axis=alt.Axis(labelLimit=0)),
            yOffset=alt.YOffset(f"{color}:N"),
            color=alt.Color(f"{color}:N", legend=_LEGEND),
            tooltip=[y, color, "value"],
        )
        .properties(height=max(100, 50 * data[y].nunique()))
    )
