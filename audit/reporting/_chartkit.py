"""Shared parts of the report's charts: the :class:`Figure` record, rendering an Altair
chart to sanitised SVG with vl-convert, and the chart shapes the sections reuse.

The shapes are the dashboard's (dashboard/_charts.py): points with CI whiskers, one row
per label, offset and coloured by series, the audited embedding ("raw") always first, and
legends and axes that draw labels in full.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from audit.report import Result
from audit.reporting._svg import sanitize_svg

__all__ = [
    "MAX_MARKS",
    "Figure",
    "chunks",
    "figure",
    "interval_chart",
    "legend",
    "raw_first",
    "records",
    "slug",
]

#: A chart with more points than this (labels x series) is split, so each figure stays
#: readable on a printed page.
MAX_MARKS = 48


@dataclass(frozen=True)
class Figure:
    """One chart of the report.

    Attributes
    ----------
    id : str
        A stable anchor-safe id (``fairness-effect-weat``).
    title, caption : str
        Plain text (may quote report strings; the renderer escapes them).
    svg : str
        The chart, already passed through :func:`audit.reporting._svg.sanitize_svg`.
    data : tuple of dict
        The stored numbers drawn: each has ``src`` (the report.json path, ``results[i]``)
        and the fields drawn (``value``, ``ci_low``, ``ci_high``, labels).
    """

    id: str
    title: str
    svg: str
    caption: str
    data: tuple[dict[str, Any], ...]


# -- rendering ---------------------------------------------------------------------------


def render(chart: Any) -> str:
    """An Altair chart as inline-safe SVG: vl-convert (offline, no browser), then the
    allow-list of :func:`audit.reporting._svg.sanitize_svg`."""
    import vl_convert as vlc  # the one place the report needs it (1 s start on first use)

    return sanitize_svg(vlc.vegalite_to_svg(chart.to_json()))


def slug(text: str) -> str:
    """``text`` as an ASCII anchor fragment (``skew/prof/gender`` -> ``skew-prof-gender``)."""
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in text.lower())
    return "-".join(p for p in out.split("-") if p) or "x"


def records(
    results: list[Result], keep: Callable[[Result], bool], *fields: str
) -> list[dict[str, Any]]:
    """The results ``keep`` selects as drawn records with their report.json path."""
    rows = []
    for i, r in enumerate(results):
        if r.value is None or not keep(r):
            continue
        row: dict[str, Any] = {"src": f"results[{i}]", "value": r.value}
        row["ci_low"], row["ci_high"] = r.ci_low, r.ci_high
        for f in fields:
            row[f] = getattr(r, f)
        rows.append(row)
    return rows


def label(v: Any) -> str:
    """A category label for a chart axis; a missing value reads ``(none)``."""
    return "(none)" if v is None else str(v)


# -- chart shapes (the dashboard's encodings) ----------------------------------------------


def interval_chart(
    rows: list[dict[str, Any]],
    *,
    y: str,
    color: str,
    x_title: str,
    domain: tuple[float, float] | None = None,
    zero_rule: bool = False,
    order: list[str] | None = None,
) -> Any:
    """Points with CI whiskers, one row per ``y`` label, offset and coloured by ``color``
    (the dashboard's forest plot; also used for rates with CIs). ``order`` sets the
    series order (default: ``raw`` first, then by name)."""
    import altair as alt
    import pandas as pd

    df = pd.DataFrame(
        [
            {
                "label": label(r[y]),
                "series": label(r[color]),
                "value": r["value"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
            }
            for r in rows
        ]
    )
    labels = list(dict.fromkeys(df["label"]))
    series = order or raw_first(df["series"])
    scale = alt.Scale(domain=list(domain)) if domain is not None else alt.Undefined
    base = alt.Chart(df).encode(
        y=alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=0)),
        # One order for the offsets and the legend, so the top row is the first legend entry.
        yOffset=alt.YOffset("series:N", sort=series),
        color=alt.Color("series:N", title=color, sort=series, legend=legend()),
    )
    whiskers = (
        base.transform_filter("isValid(datum.ci_low) && isValid(datum.ci_high)")
        .mark_rule(strokeWidth=2)
        .encode(x=alt.X("ci_low:Q", title=x_title, scale=scale), x2="ci_high:Q")
    )
    points = base.mark_point(filled=True, size=60).encode(x=alt.X("value:Q", scale=scale))
    layers = [whiskers, points]
    if zero_rule:
        zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="grey").encode(x="x:Q")
        layers.insert(0, zero)
    height = max(90, 22 * len(labels) * max(1, df["series"].nunique()))
    return alt.layer(*layers).properties(width=460, height=height)


def raw_first(series: Iterable[str]) -> list[str]:
    """The distinct series, ``raw`` first: the audited embedding keeps the first colour."""
    return sorted(set(series), key=lambda s: (s != "raw", s))


def legend() -> Any:
    """A legend below the chart that draws its labels in full."""
    import altair as alt

    # Labels in full: Vega's default limit cuts "skin_tone=medium-dark" and
    # "skin_tone=medium-light" to the same "skin_tone=mediu…" (issue 18, point 5).
    return alt.Legend(labelLimit=0, orient="bottom", direction="vertical")


def figure(fig_id: str, title: str, caption: str, chart: Any, rows: list[dict]) -> Figure:
    """Render ``chart`` and keep it with the records it draws."""
    return Figure(
        id=fig_id,
        title=title,
        svg=render(chart),
        caption=caption,
        data=tuple(rows),
    )


def chunks(rows: list[dict[str, Any]], key: str, series: str) -> Iterable[list[dict[str, Any]]]:
    """Split rows into figures of at most :data:`MAX_MARKS` points, keeping every
    ``series`` of one ``key`` label in the same figure."""
    labels = list(dict.fromkeys(label(r[key]) for r in rows))
    n_series = len({label(r[series]) for r in rows}) or 1
    per_figure = max(1, MAX_MARKS // n_series)
    # Even parts (50 labels: 25 + 25, not 48 + 2).
    parts = -(-len(labels) // per_figure)
    size = -(-len(labels) // max(1, parts))
    for start in range(0, len(labels), max(1, size)):
        part = set(labels[start : start + size])
        yield [r for r in rows if label(r[key]) in part]
