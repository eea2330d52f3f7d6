"""The audit report's charts: Altair specs rendered to static, sanitised SVG.

The dashboard draws with Altair; the report uses the same library and the same encodings
(dashboard/_charts.py: forest plot, grouped bars with labels drawn in full, attack success
against an L-inf budget read as ``8/255``) and renders them offline with vl-convert (no
browser, no network, no JavaScript in the output). Every drawn number is a stored
report.json value: each :class:`Figure` lists them in ``data`` with the JSON path it came
from (``results[12]``), so a test can check the picture against the file.

Before/after thumbnails of red-team examples are in :mod:`audit.reporting._thumbs`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.report import Report, Result
from audit.reporting._svg import sanitize_svg
from audit.reporting._thumbs import Thumb, thumbnails

__all__ = ["CHART_DIMENSIONS", "Figure", "Thumb", "figures", "thumbnails"]

log = logging.getLogger(__name__)

#: The report sections that have charts, in page order (``figures`` returns each key).
CHART_DIMENSIONS: tuple[str, ...] = ("fairness", "quality", "robustness", "safety")

ASR = "attack_success_rate"
#: The bias variants drawn side by side: the embedding as audited and after debiasing.
_BIAS_VARIANTS = ("raw", "debiased")
#: A bar chart with more rows than this is split, so each figure stays readable on a page.
_MAX_ROWS = 24


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


def _render(chart: Any) -> str:
    import vl_convert as vlc  # the one place the report needs it (1 s start on first use)

    return sanitize_svg(vlc.vegalite_to_svg(chart.to_json()))


def _slug(text: str) -> str:
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in text.lower())
    return "-".join(p for p in out.split("-") if p) or "x"


def _rows(
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


def _label(v: Any) -> str:
    return "(none)" if v is None else str(v)


# -- chart shapes (the dashboard's encodings) ----------------------------------------------


def _interval_chart(
    rows: list[dict[str, Any]],
    *,
    y: str,
    color: str,
    x_title: str,
    domain: tuple[float, float] | None = None,
    zero_rule: bool = False,
) -> Any:
    """Points with CI whiskers, one row per ``y`` label, offset and coloured by ``color``
    (the dashboard's forest plot; also used for rates with CIs)."""
    import altair as alt
    import pandas as pd

    df = pd.DataFrame(
        [
            {
                "label": _label(r[y]),
                "series": _label(r[color]),
                "value": r["value"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
            }
            for r in rows
        ]
    )
    labels = list(dict.fromkeys(df["label"]))
    scale = alt.Scale(domain=list(domain)) if domain is not None else alt.Undefined
    base = alt.Chart(df).encode(
        y=alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=0)),
        yOffset=alt.YOffset("series:N"),
        color=alt.Color("series:N", title=color, sort=_raw_first(df["series"]), legend=_legend()),
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


def _raw_first(series: Iterable[str]) -> list[str]:
    # The audited embedding ("raw") keeps the first colour in every chart.
    return sorted(set(series), key=lambda s: (s != "raw", s))


def _legend() -> Any:
    import altair as alt

    # Labels in full: Vega's default limit cuts "skin_tone=medium-dark" and
    # "skin_tone=medium-light" to the same "skin_tone=mediu…" (issue 18, point 5).
    return alt.Legend(labelLimit=0, orient="bottom", direction="vertical")


def _figure(fig_id: str, title: str, caption: str, chart: Any, rows: list[dict]) -> Figure:
    return Figure(
        id=fig_id,
        title=title,
        svg=_render(chart),
        caption=caption,
        data=tuple(rows),
    )


def _chunks(rows: list[dict[str, Any]], key: str) -> Iterable[list[dict[str, Any]]]:
    """Split rows into figures of at most ``_MAX_ROWS`` distinct ``key`` labels."""
    labels = list(dict.fromkeys(_label(r[key]) for r in rows))
    # Even parts (26 labels: 13 + 13, not 24 + 2).
    parts = -(-len(labels) // _MAX_ROWS)
    size = -(-len(labels) // max(1, parts))
    for start in range(0, len(labels), max(1, size)):
        part = set(labels[start : start + size])
        yield [r for r in rows if _label(r[key]) in part]


# -- fairness ------------------------------------------------------------------------------


def _fairness(results: list[Result]) -> list[Figure]:
    figs: list[Figure] = []
    effect = _rows(
        results,
        lambda r: r.suite == "bias" and r.metric == "effect_size" and r.variant in _BIAS_VARIANTS,
        "check",
        "metric",
        "variant",
        "modality",
        "p_adjusted",
        "p_family",
    )
    families = dict.fromkeys(r["check"].split("/", 1)[0] for r in effect)
    for family in families:
        rows = [r for r in effect if r["check"].split("/", 1)[0] == family]
        for n, part in enumerate(_chunks(rows, "check")):
            chart = _interval_chart(
                part, y="check", color="variant", x_title="effect size d (95% CI)", zero_rule=True
            )
            figs.append(
                _figure(
                    f"fairness-effect-{_slug(family)}-{n + 1}",
                    f"Effect sizes, raw vs debiased: {family}",
                    "Effect size d with its 95% CI per test, before (raw) and after "
                    "(debiased) the run's debiasing. 0 is no association; a debiased point "
                    "on the other side of 0 from its raw point is over-correction.",
                    chart,
                    part,
                )
            )
    skew = _rows(
        results,
        lambda r: (
            r.suite == "bias"
            and r.metric.startswith("skew@")
            and r.group is not None
            and r.variant in _BIAS_VARIANTS
        ),
        "check",
        "metric",
        "variant",
        "group",
        "modality",
    )
    for check, metric in dict.fromkeys((r["check"], r["metric"]) for r in skew):
        rows = [r for r in skew if r["check"] == check and r["metric"] == metric]
        chart = _interval_chart(
            rows, y="group", color="variant", x_title=f"{metric} (95% CI)", zero_rule=True
        )
        figs.append(
            _figure(
                f"fairness-skew-{_slug(check)}-{_slug(metric)}",
                f"Skew per group: {check}, {metric}",
                "Skew = log(share of the group in the top k / its target share), averaged "
                "over queries; 0 is parity, +0.59 is 1.8x the target share, -0.69 half. "
                "Raw and debiased side by side.",
                chart,
                rows,
            )
        )
    return figs


# -- quality -------------------------------------------------------------------------------


def _is_group_value(r: Result) -> bool:
    # Per-group values ("gender=man"); the run's gap/ratio rows (group "gender", metric
    # "..._difference"/"..._ratio") are other units and never share an axis with them.
    return (
        r.group is not None and "=" in r.group and not r.metric.endswith(("_difference", "_ratio"))
    )


def _quality(results: list[Result]) -> list[Figure]:
    from audit.metrics import metric_info

    figs: list[Figure] = []
    grouped = _rows(
        results,
        lambda r: r.suite == "retrieval" and _is_group_value(r),
        "check",
        "metric",
        "variant",
        "modality",
        "dim",
        "group",
    )
    keys = dict.fromkeys(
        (r["check"], r["modality"], r["metric"], r["group"].split("=", 1)[0]) for r in grouped
    )
    for check, modality, metric, attribute in keys:
        rows = [
            r
            for r in grouped
            if (r["check"], r["modality"], r["metric"]) == (check, modality, metric)
            and r["group"].split("=", 1)[0] == attribute
        ]
        info = metric_info(metric)
        lo, hi = info.range if info is not None else (None, None)
        domain = (lo, hi) if lo is not None and hi is not None else None
        for n, part in enumerate(_chunks(rows, "group")):
            chart = _interval_chart(
                part, y="group", color="dim", x_title=f"{metric} (95% CI)", domain=domain
            )
            figs.append(
                _figure(
                    f"quality-{_slug(check)}-{_slug(str(modality))}-{_slug(metric)}-"
                    f"{_slug(attribute)}-{n + 1}",
                    f"{metric} per {attribute} and embedding size: {check} ({modality})",
                    f"{metric} restricted to each {attribute} group, one colour per "
                    "embedding size (dim), with the bootstrap 95% CI.",
                    chart,
                    part,
                )
            )
    return figs


# -- robustness ----------------------------------------------------------------------------


def _budget_rows(results: list[Result]) -> list[dict[str, Any]]:
    rows = []
    for i, r in enumerate(results):
        if r.suite != "redteam" or r.metric != ASR or r.value is None:
            continue
        d = r.details
        defense = d.get("defense")
        budget, eps255 = _number(d.get("budget")), _number(d.get("eps_255"))
        if budget is None and eps255 is None:
            continue
        rows.append(
            {
                "src": f"results[{i}]",
                "value": r.value,
                "check": r.check,
                "variant": r.variant,
                "modality": r.modality,
                "series": f"{r.variant} · {defense}" if isinstance(defense, str) else r.variant,
                "budget": budget,
                "eps_255": eps255,
            }
        )
    return rows


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _robustness(results: list[Result]) -> list[Figure]:
    import altair as alt
    import pandas as pd

    figs: list[Figure] = []
    rows = _budget_rows(results)

    # One figure per attack family and budget unit: a query/edit budget (details.budget)
    # and an L-inf eps (details.eps_255) never share an x axis.
    def kind(r: dict[str, Any]) -> str:
        return "budget" if r["budget"] is not None else "eps_255"

    for family, x_kind in dict.fromkeys((r["check"].split("/")[0], kind(r)) for r in rows):
        part = [r for r in rows if r["check"].split("/")[0] == family and kind(r) == x_kind]
        df = pd.DataFrame(
            [
                {"check": r["check"], "series": r["series"], "x": r[x_kind], "value": r["value"]}
                for r in part
            ]
        )
        if x_kind == "eps_255":
            ticks = sorted(set(df["x"]))
            x = alt.X(
                "x:Q",
                title="eps (L-inf, /255)",
                axis=alt.Axis(values=ticks, labelExpr="datum.value + '/255'"),
            )
        else:
            x = alt.X("x:Q", title="budget (details.budget: edits or queries)")
        series = _raw_first(df["series"])
        chart = (
            alt.Chart(df)
            .mark_line(point=True)
            .encode(
                x=x,
                y=alt.Y("value:Q", title="attack success", scale=alt.Scale(domain=[0, 1])),
                color=alt.Color(
                    "series:N", sort=series, title="variant · defense", legend=_legend()
                ),
                strokeDash=alt.StrokeDash("series:N", sort=series, legend=None),
                # Shapes tell apart series whose points coincide (same success rate).
                shape=alt.Shape("series:N", sort=series, legend=None),
            )
            .properties(width=200, height=140)
            .facet(
                facet=alt.Facet("check:N", title=None, header=alt.Header(labelLimit=0)), columns=3
            )
        )
        unit = "eps in /255 of the pixel range" if x_kind == "eps_255" else "details.budget"
        figs.append(
            _figure(
                f"robustness-asr-{_slug(family)}-{_slug(x_kind)}",
                f"Attack success vs {'eps' if x_kind == 'eps_255' else 'budget'}: {family} attacks",
                f"Attack success rate against the attack budget ({unit}), one line per "
                "defense (raw = undefended), one panel per attack.",
                chart,
                part,
            )
        )
    return figs


# -- safety --------------------------------------------------------------------------------

_FPR_METRICS = ("false_positive_rate", "held_out_fpr")


def _safety(results: list[Result]) -> list[Figure]:
    figs: list[Figure] = []
    detection = _rows(
        results,
        lambda r: r.suite == "safety" and r.metric == "detection_rate" and r.group is None,
        "check",
        "metric",
        "variant",
        "modality",
    )
    for n, part in enumerate(_chunks(detection, "check")):
        chart = _interval_chart(
            part, y="check", color="variant", x_title="detection rate (95% CI)", domain=(0, 1)
        )
        figs.append(
            _figure(
                f"safety-detection-{n + 1}",
                "Detection rate per category and evasion",
                "Share of harmful held-out items the filter caught, per check and filter "
                "setting, with the Wilson 95% CI.",
                chart,
                part,
            )
        )
    fpr = _rows(
        results,
        lambda r: r.suite == "safety" and r.metric in _FPR_METRICS and r.group is not None,
        "check",
        "metric",
        "variant",
        "modality",
        "group",
    )
    for check, metric in dict.fromkeys((r["check"], r["metric"]) for r in fpr):
        rows = [r for r in fpr if r["check"] == check and r["metric"] == metric]
        for n, part in enumerate(_chunks(rows, "group")):
            chart = _interval_chart(
                part, y="group", color="variant", x_title=f"{metric} (95% CI)", domain=(0, 1)
            )
            figs.append(
                _figure(
                    f"safety-fpr-{_slug(check)}-{_slug(metric)}-{n + 1}",
                    f"False positives per group: {check}",
                    f"{metric}: share of benign items blocked or flagged, per group, with the "
                    "Wilson 95% CI. A group well above the others is over-blocked.",
                    chart,
                    part,
                )
            )
    return figs


_BUILDERS: dict[str, Callable[[list[Result]], list[Figure]]] = {
    "fairness": _fairness,
    "quality": _quality,
    "robustness": _robustness,
    "safety": _safety,
}


def figures(report: Report, run_dir: Path | None) -> dict[str, list[Figure]]:
    """The report's charts, keyed by dimension (:data:`CHART_DIMENSIONS`).

    Parameters
    ----------
    report : Report
        The run's report; only its stored ``results`` are drawn.
    run_dir : Path or None
        The run folder (unused by the charts; kept so every section builder has the same
        signature as :func:`thumbnails`).

    Returns
    -------
    dict of str to list of Figure
        Every dimension key is present; a suite the run did not have gives ``[]``.

    Raises
    ------
    audit.reporting._svg.UnsafeSvgError
        If a rendered chart fails the SVG allow-list (never silently dropped).
    """
    del run_dir
    return {dim: _BUILDERS[dim](report.results) for dim in CHART_DIMENSIONS}
