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

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from audit.report import Report, Result
from audit.reporting._chartkit import (
    Figure,
    chunks,
    figure,
    interval_chart,
    label,
    legend,
    raw_first,
    records,
    slug,
)
from audit.reporting._thumbs import Thumb, thumbnails

__all__ = ["CHART_DIMENSIONS", "Figure", "Thumb", "figures", "thumbnails"]


#: The report sections that have charts, in page order (``figures`` returns each key).
CHART_DIMENSIONS: tuple[str, ...] = ("fairness", "quality", "robustness", "safety")

ASR = "attack_success_rate"
#: The bias variants drawn side by side: the embedding as audited and after debiasing.
_BIAS_VARIANTS = ("raw", "debiased")


# -- fairness ------------------------------------------------------------------------------


def _fairness(results: list[Result]) -> list[Figure]:
    figs: list[Figure] = []
    effect = records(
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
        for n, part in enumerate(chunks(rows, "check", "variant")):
            chart = interval_chart(
                part, y="check", color="variant", x_title="effect size d (95% CI)", zero_rule=True
            )
            figs.append(
                figure(
                    f"fairness-effect-{slug(family)}-{n + 1}",
                    f"Effect sizes, raw vs debiased: {family}",
                    "Effect size d with its 95% CI per test, before (raw) and after "
                    "(debiased) the run's debiasing. 0 is no association; a debiased point "
                    "on the other side of 0 from its raw point is over-correction.",
                    chart,
                    part,
                )
            )
    skew = records(
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
        chart = interval_chart(
            rows, y="group", color="variant", x_title=f"{metric} (95% CI)", zero_rule=True
        )
        figs.append(
            figure(
                f"fairness-skew-{slug(check)}-{slug(metric)}",
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
    grouped = records(
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
        # Sizes from the full embedding down, as the paper tables read.
        sizes = [label(d) for d in sorted({r["dim"] for r in rows}, key=lambda d: -(d or 0))]
        for n, part in enumerate(chunks(rows, "group", "dim")):
            chart = interval_chart(
                part,
                y="group",
                color="dim",
                order=sizes,
                x_title=f"{metric} (95% CI)",
                domain=domain,
            )
            figs.append(
                figure(
                    f"quality-{slug(check)}-{slug(str(modality))}-{slug(metric)}-"
                    f"{slug(attribute)}-{n + 1}",
                    f"{metric} per {attribute} and embedding size: {check} ({modality})",
                    f"{metric} restricted to each {attribute} group, one colour per "
                    "embedding size (dim), with the bootstrap 95% CI.",
                    chart,
                    part,
                )
            )
    return figs


# -- robustness ----------------------------------------------------------------------------


def _budgetrecords(results: list[Result]) -> list[dict[str, Any]]:
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
    rows = _budgetrecords(results)

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
        series = raw_first(df["series"])
        chart = (
            alt.Chart(df)
            .mark_line(point=True)
            .encode(
                x=x,
                y=alt.Y("value:Q", title="attack success", scale=alt.Scale(domain=[0, 1])),
                color=alt.Color(
                    "series:N", sort=series, title="variant · defense", legend=legend()
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
            figure(
                f"robustness-asr-{slug(family)}-{slug(x_kind)}",
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
    detection = records(
        results,
        lambda r: r.suite == "safety" and r.metric == "detection_rate" and r.group is None,
        "check",
        "metric",
        "variant",
        "modality",
    )
    for n, part in enumerate(chunks(detection, "check", "variant")):
        chart = interval_chart(
            part, y="check", color="variant", x_title="detection rate (95% CI)", domain=(0, 1)
        )
        figs.append(
            figure(
                f"safety-detection-{n + 1}",
                "Detection rate per category and evasion",
                "Share of harmful held-out items the filter caught, per check and filter "
                "setting, with the Wilson 95% CI.",
                chart,
                part,
            )
        )
    fpr = records(
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
        for n, part in enumerate(chunks(rows, "group", "variant")):
            chart = interval_chart(
                part, y="group", color="variant", x_title=f"{metric} (95% CI)", domain=(0, 1)
            )
            figs.append(
                figure(
                    f"safety-fpr-{slug(check)}-{slug(metric)}-{n + 1}",
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
    out = {dim: _BUILDERS[dim](report.results) for dim in CHART_DIMENSIONS}
    # Ids are anchors: two names that slug alike ("a/b", "a-b") must not share one.
    seen: set[str] = set()
    for figs in out.values():
        for n, fig in enumerate(figs):
            fig_id, k = fig.id, 1
            while fig_id in seen:
                k += 1
                fig_id = f"{fig.id}-{k}"
            seen.add(fig_id)
            if fig_id != fig.id:
                figs[n] = replace(fig, id=fig_id)
    return out
