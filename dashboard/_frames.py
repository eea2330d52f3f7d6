"""Reports as pandas tables: the shapes every page shows, free of Streamlit.

Each function takes and returns plain DataFrames so the numbers can be checked without a
browser. A results frame keeps the report's result order as its index, so a page can go
back from a filtered row to ``report.results[i].details``.
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from audit.compare import Comparison
from audit.metrics import Direction as Direction  # re-exported: the pages' type
from audit.metrics import metric_direction as metric_direction  # which way is better
from audit.report import GateResult, Report, evidence_key

KEY_COLUMNS = ["suite", "check", "metric", "variant", "dim", "modality", "group", "budget"]
RESULT_COLUMNS = [
    "suite",
    "check",
    "metric",
    "value",
    "variant",
    "dim",
    "modality",
    "group",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "p_family",
    "too_few",
    "n",
    "budget",
    "details",
]

_FAMILY_ORDER = ["recall@", "avg_recall", "ndcg@", "mrr", "map"]
_CHANGE_ORDER = {
    c: i
    for i, c in enumerate(
        ["regression", "improvement", "changed", "only in A", "only in B", "unchanged"]
    )
}
_EVIDENCE_KEYS = ("suite", "check", "metric", "variant", "dim", "modality", "group")


def _budget(details: dict[str, Any]) -> float | None:
    for key in ("budget", "eps"):
        v = details.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
    return None


def results_frame(report: Report) -> pd.DataFrame:
    """One row per result, columns :data:`RESULT_COLUMNS`, index = position in the report.

    ``budget`` comes from ``details["budget"]`` or ``details["eps"]`` (red-team sweeps);
    ``details`` is the details mapping as compact JSON text (for display and CSV).
    """
    rows = []
    for r in report.results:
        rows.append(
            {
                "suite": r.suite,
                "check": r.check,
                "metric": r.metric,
                "value": r.value,
                "variant": r.variant,
                "dim": r.dim,
                "modality": r.modality,
                "group": r.group,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "p_value": r.p_value,
                # the stored family-adjusted p-value and why a sample is too small: read,
                # never recomputed (docs/bias-statistics.md)
                "p_adjusted": r.p_adjusted,
                "p_family": r.p_family,
                "too_few": r.too_few,
                "n": r.n,
                "budget": _budget(r.details),
                "details": json.dumps(r.details, sort_keys=True, default=str) if r.details else "",
            }
        )
    df = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    for col in ("value", "ci_low", "ci_high", "p_value", "p_adjusted", "budget"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    for col in ("dim", "n"):
        df[col] = df[col].astype("Int64")
    return df


def filter_frame(df: pd.DataFrame, **selected: Sequence[Any] | None) -> pd.DataFrame:
    """Rows whose column values are in the selected lists; an empty selection keeps all.

    The label ``"(none)"`` selects missing values.
    """
    mask = pd.Series(True, index=df.index)
    for col, values in selected.items():
        if not values:
            continue
        wanted = [v for v in values if v != "(none)"]
        m = df[col].isin(wanted)
        if "(none)" in values:
            m = m | df[col].isna()
        mask &= m.fillna(False).astype(bool)
    return df[mask]


def options(df: pd.DataFrame, col: str) -> list[Any]:
    """Distinct values of a column for a filter (numbers sorted high to low)."""
    values = df[col].dropna().unique().tolist()
    if col == "dim":
        return sorted((int(v) for v in values), reverse=True)
    out = sorted(str(v) for v in values)
    if df[col].isna().any() and len(df):
        out.append("(none)")
    return out


def metric_sort_key(metric: str) -> tuple[int, str, float]:
    """Order metrics as the papers do: recall@k, avg_recall, ndcg@k, mrr, map, then others."""
    for i, prefix in enumerate(_FAMILY_ORDER):
        if metric.startswith(prefix):
            k = metric.split("@", 1)[1] if "@" in metric else ""
            return (i, prefix, float(k) if k.isdigit() else 0.0)
    return (len(_FAMILY_ORDER), metric, 0.0)


def pivot_metrics(
    df: pd.DataFrame, index: list[str], *, columns: str = "metric", values: str = "value"
) -> pd.DataFrame:
    """Wide table: one row per ``index`` key, one column per metric (paper order).

    Missing keys (e.g. no modality) stay as their own rows instead of being dropped.
    """
    if df.empty:
        return pd.DataFrame(columns=index)
    wide = df.groupby([*index, columns], dropna=False, sort=True)[values].first().unstack(columns)
    if columns == "metric":
        wide = wide[sorted(wide.columns, key=metric_sort_key)]
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def degradation_table(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Metric by embedding size: rows (check, modality, variant), one column per size.

    The last column is the value at the smallest size as a percentage of the largest
    size (100 = no loss from truncation). Per-group rows are left out.
    """
    sub = df[(df["metric"] == metric) & df["group"].isna() & df["dim"].notna()]
    if sub.empty:
        return pd.DataFrame(columns=["check", "modality", "variant"])
    wide = (
        sub.groupby(["check", "modality", "variant", "dim"], dropna=False)["value"]
        .first()
        .unstack("dim")
    )
    dims = sorted((int(d) for d in wide.columns), reverse=True)
    wide = wide[dims]
    wide.columns = [str(d) for d in dims]
    if len(dims) > 1:
        full, small = wide[str(dims[0])], wide[str(dims[-1])]
        wide[f"{dims[-1]} vs {dims[0]} (%)"] = (small / full * 100).where(full != 0)
    return wide.reset_index()


def group_disparity(df: pd.DataFrame, index: list[str]) -> pd.DataFrame:
    """Per-group values side by side with the gap (max - min) and ratio (min / max)."""
    sub = df[df["group"].notna()]
    if sub.empty:
        return pd.DataFrame(columns=index)
    wide = sub.groupby([*index, "group"], dropna=False)["value"].first().unstack("group")
    groups = list(wide.columns)
    wide.columns = [str(c) for c in groups]
    vals = wide[[str(g) for g in groups]]
    wide["gap (max-min)"] = vals.max(axis=1) - vals.min(axis=1)
    wide["ratio (min/max)"] = (vals.min(axis=1) / vals.max(axis=1)).where(vals.max(axis=1) > 0)
    return wide.reset_index()


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in KEY_COLUMNS:
        labels = out[col].astype("object").where(out[col].notna(), None)
        # str() of a float round-trips, so equal budgets in both runs get equal labels.
        out[col] = labels.map(lambda v: "" if v is None else str(v))
    # Same key twice in one run (e.g. repeated seeds): pair them up by order.
    out["occurrence"] = out.groupby(KEY_COLUMNS, sort=False).cumcount()
    return out


def compare_frames(a: pd.DataFrame, b: pd.DataFrame, *, tolerance: float = 0.0) -> pd.DataFrame:
    """Join two runs' results on their key and classify each change.

    Parameters
    ----------
    a, b : DataFrame
        Results frames (:func:`results_frame`) of the baseline (A) and candidate (B).
    tolerance : float
        Absolute change below which a result counts as unchanged.

    Returns
    -------
    DataFrame
        Key columns, ``A``, ``B``, ``delta`` (B - A), ``better`` (the metric's direction)
        and ``change``: ``regression``, ``improvement``, ``unchanged``, ``changed`` (no
        known direction), ``only in A`` or ``only in B``.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    ka, kb = _keyed(a), _keyed(b)
    on = [*KEY_COLUMNS, "occurrence"]
    merged = ka[[*on, "value"]].merge(
        kb[[*on, "value"]], on=on, how="outer", suffixes=("_a", "_b"), indicator="side"
    )
    merged = merged.rename(columns={"value_a": "A", "value_b": "B"})
    merged["delta"] = merged["B"] - merged["A"]
    merged["better"] = merged["metric"].map(lambda m: metric_direction(m) or "")
    merged["change"] = [_classify(row, tolerance) for row in merged.itertuples(index=False)]
    merged = merged.drop(columns=["side", "occurrence"])
    # Regressions first: the reader's question is "what got worse".
    merged["_rank"] = merged["change"].map(_CHANGE_ORDER).fillna(len(_CHANGE_ORDER))
    merged = merged.sort_values(["_rank", "suite", "check", "metric", "variant"])
    order = ["change", *KEY_COLUMNS, "A", "B", "delta", "better"]
    return merged[order].reset_index(drop=True)


def _classify(row: Any, tolerance: float) -> str:
    if row.side == "left_only":
        return "only in A"
    if row.side == "right_only":
        return "only in B"
    a, b = row.A, row.B
    if pd.isna(a) or pd.isna(b):
        return "unchanged" if pd.isna(a) and pd.isna(b) else "changed"
    if abs(b - a) <= tolerance:
        return "unchanged"
    direction = row.better
    if direction == "higher":
        return "improvement" if b > a else "regression"
    if direction == "lower":
        return "improvement" if b < a else "regression"
    if direction == "abs-lower":
        if abs(abs(b) - abs(a)) <= tolerance:
            return "unchanged"
        return "improvement" if abs(b) < abs(a) else "regression"
    return "changed"


def gates_frame(report: Report) -> pd.DataFrame:
    """One row per gate: name, check, metric, op, threshold, value, passed, message."""
    cols = ["name", "check", "metric", "op", "threshold", "value", "passed", "message"]
    rows = [{c: getattr(g, c) for c in cols} for g in report.gates]
    df = pd.DataFrame(rows, columns=cols)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    df["threshold"] = pd.to_numeric(df["threshold"], errors="coerce").astype("float64")
    return df


#: How the verdict's statuses read on the page (the stored value is ``not_assessed``).
VERDICT_LABELS = {"pass": "pass", "fail": "fail", "not_assessed": "not assessed"}


def verdict_frame(report: Report) -> pd.DataFrame:
    """The stored verdict, one row per dimension: status, reason, gates and evidence count.

    Read from ``report.verdict`` as the gates stored it (never re-decided); empty when no
    policy was applied (``verdict`` is null).
    """
    cols = ["dimension", "status", "reason", "gates", "evidence"]
    if report.verdict is None:
        return pd.DataFrame(columns=cols)
    rows = [
        {
            "dimension": d.dimension,
            "status": VERDICT_LABELS[d.status],
            "reason": d.reason,
            "gates": ", ".join(d.gates),
            "evidence": len(d.evidence),
        }
        for d in report.verdict.dimensions
    ]
    df = pd.DataFrame(rows, columns=cols)
    df["evidence"] = df["evidence"].astype("Int64")
    return df


def compare_gates(a: Report, b: Report) -> pd.DataFrame:
    """Gates of two runs side by side; a gate that passed in A and fails in B regressed."""
    ga = {g.name: g for g in a.gates}
    gb = {g.name: g for g in b.gates}
    rows = []
    for name in sorted(set(ga) | set(gb)):
        x, y = ga.get(name), gb.get(name)
        pa = None if x is None else x.passed
        pb = None if y is None else y.passed
        if pa is True and pb is False:
            change = "regression"
        elif pa is False and pb is True:
            change = "improvement"
        elif x is None or y is None:
            change = "only in A" if y is None else "only in B"
        else:
            change = "unchanged"
        rows.append(
            {
                "gate": name,
                "passed A": pa,
                "value A": None if x is None else x.value,
                "passed B": pb,
                "value B": None if y is None else y.value,
                "change": change,
            }
        )
    return pd.DataFrame(
        rows, columns=["gate", "passed A", "value A", "passed B", "value B", "change"]
    )


def result_keys(report: Report) -> pd.Series:
    """Each result's stored key (``suite:check:metric:variant:modality:dim:group``), indexed
    like :func:`results_frame`; the key gate evidence and the verdict store."""
    return pd.Series([evidence_key(r) for r in report.results], dtype="object")


def rows_for_keys(df: pd.DataFrame, report: Report, keys: Iterable[str]) -> pd.DataFrame:
    """The rows of ``df`` (a results frame of ``report``, possibly filtered) whose result
    key is one of ``keys`` (a key names every result that shares it, as a gate selects)."""
    wanted = set(keys)
    mask = result_keys(report).reindex(df.index).isin(wanted)
    return df[mask.fillna(False).astype(bool)]


def gate_evidence(df: pd.DataFrame, report: Report, gate: GateResult) -> pd.DataFrame:
    """The results ``gate`` judged, as rows of ``df`` (a results frame of ``report``).

    A gate stores one evidence entry per result it judged, each with the result's ``key``
    (:func:`audit.report.evidence_key`): the rows are those keys, nothing is re-matched.
    A gate that judged nothing has no rows.
    """
    entries = [ev for ev in gate.evidence if isinstance(ev, dict)]
    if not entries:
        return df.iloc[0:0]
    keys = [ev.get("key") for ev in entries]
    if all(isinstance(k, str) for k in keys):
        return rows_for_keys(df, report, keys)  # type: ignore[arg-type]
    # Version-1 path: reports written before gate evidence stored keys. Re-match the
    # gate's selectors the way the gates did, then narrow to what the evidence names.
    return narrow_to_evidence(
        matching_results(df, gate.check, gate.metric, gate.suite), gate.evidence
    )


# -- version-1 reports only: re-matching a gate's selectors (see gate_evidence) ----------


def selector_patterns(selector: str | None) -> list[str] | None:
    """A gate's selector as stored in a report, back to its list of glob patterns.

    Gates write a selector that lists several patterns joined by ``,``
    (``weat/weat[3-9],weat/weat10``; ``audit.gates._select.label``) and an unset one as
    ``*``; a metric selector may end in ``:field`` (a gate on ``ci_low``, not the value).
    None (match everything) for an unset selector.
    """
    if not selector or selector == "*":
        return None
    return [p for p in selector.split(",") if p]


def _matches_any(value: Any, patterns: list[str] | None) -> bool:
    # As the gates match (audit/gates/_select.py): fnmatchcase, a null value never matches.
    if patterns is None:
        return True
    return isinstance(value, str) and any(
        value == p or fnmatch.fnmatchcase(value, p) for p in patterns
    )


def matching_results(
    df: pd.DataFrame, check: str, metric: str | None = None, suite: str | None = None
) -> pd.DataFrame:
    """Version-1 reports (gate evidence without keys): results a gate's selectors pick.

    ``check`` (exact, a shell-style pattern like ``weat/*``, or several joined by ``,``)
    and, when given, ``metric`` and ``suite`` (the same forms; a metric's ``:field``
    suffix names the field, not the metric)."""
    checks = selector_patterns(check)
    metrics = selector_patterns(metric.split(":", 1)[0] if metric else None)
    suites = selector_patterns(suite)
    mask = [
        _matches_any(c, checks) and _matches_any(m, metrics) and _matches_any(s, suites)
        for c, m, s in zip(df["check"], df["metric"], df["suite"], strict=True)
    ]
    return df[pd.Series(mask, index=df.index, dtype=bool)]


def narrow_to_evidence(rows: pd.DataFrame, evidence: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Version-1 reports: the rows a gate's evidence records point at.

    By suite, check, metric, variant, dim, modality, group and budget/eps; all ``rows``
    when the evidence names none of those or matches none."""
    keep = pd.Series(False, index=rows.index)
    used = False
    for ev in evidence:
        if not isinstance(ev, dict):
            continue
        mask = pd.Series(True, index=rows.index)
        for key in _EVIDENCE_KEYS:
            if ev.get(key) is not None:
                mask &= rows[key].astype("object") == ev[key]
                used = True
        budget = _budget(ev)
        if budget is not None:
            mask &= (rows["budget"] - budget).abs() <= 1e-9 * max(1.0, abs(budget))
            used = True
        keep |= mask.fillna(False).astype(bool)
    if not used or not keep.any():
        return rows
    return rows[keep]


def to_csv(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV without the index (what the download buttons serve)."""
    return df.to_csv(index=False).encode("utf-8")


def flatten_records(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Free-form dicts (gate evidence, hub lists) as a table; nested values become JSON."""
    rows = [
        {
            str(k): json.dumps(v, sort_keys=True, default=str) if isinstance(v, dict | list) else v
            for k, v in rec.items()
        }
        for rec in records
        if isinstance(rec, dict)
    ]
    return pd.DataFrame(rows)


# -- embedder comparison (comparison.json) ----------------------------------------------

COMPARISON_KEYS = ["group", "check"]


def comparison_frame(comparison: Comparison) -> pd.DataFrame:
    """The Table-2-shaped table as text: ``group``, ``check``, then one column per embedder.

    Cells are the comparison's own texts ("-", "error", "n/a" where there is no value).
    """
    return _comparison_grid(comparison, "text")


def comparison_kinds(comparison: Comparison) -> pd.DataFrame:
    """Same shape as :func:`comparison_frame`, each embedder cell holding its kind."""
    return _comparison_grid(comparison, "kind")


def _comparison_grid(comparison: Comparison, field: str) -> pd.DataFrame:
    labels = [e.label for e in comparison.embedders]
    rows = []
    for row, cells in zip(comparison.rows, comparison.cells, strict=True):
        values = [getattr(c, field) for c in cells]
        rows.append(
            {"group": row.group, "check": row.label, **dict(zip(labels, values, strict=True))}
        )
    return pd.DataFrame(rows, columns=[*COMPARISON_KEYS, *labels])


def comparison_values(comparison: Comparison, group: str) -> pd.DataFrame:
    """Tidy numbers of one row group for a chart: check, embedder, value, CI, text.

    Percent rows are scaled to % (as the table shows them); cells without a value are left
    out (the table shows why).
    """
    out = []
    for row, cells in zip(comparison.rows, comparison.cells, strict=True):
        if row.group != group:
            continue
        scale = 100.0 if row.scale == "percent" else 1.0
        for emb, cell in zip(comparison.embedders, cells, strict=True):
            if cell.kind != "value" or cell.value is None:
                continue
            out.append(
                {
                    "check": row.label,
                    "embedder": emb.label,
                    "value": cell.value * scale,
                    "ci_low": None if cell.ci_low is None else cell.ci_low * scale,
                    "ci_high": None if cell.ci_high is None else cell.ci_high * scale,
                    "text": cell.text,
                }
            )
    df = pd.DataFrame(out, columns=["check", "embedder", "value", "ci_low", "ci_high", "text"])
    for col in ("value", "ci_low", "ci_high"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return df


# -- red team: one series per defense, budgets in /255 ---------------------------------


def attack_series(df: pd.DataFrame) -> pd.DataFrame:
    """Red-team rows with ``series`` (the variant, and for a defended result its defense:
    ``defended · jpeg``) and ``eps_255`` (the L-inf budget in /255 units from
    ``details.eps_255``, else null), so each defense is its own line."""
    out = df.copy()
    details = [json.loads(d) if d else {} for d in out["details"]]
    series, eps = [], []
    for variant, d in zip(out["variant"], details, strict=True):
        defense = d.get("defense")
        series.append(f"{variant} · {defense}" if isinstance(defense, str) else str(variant))
        e = d.get("eps_255")
        eps.append(float(e) if isinstance(e, int | float) and not isinstance(e, bool) else None)
    out["series"] = series
    out["eps_255"] = pd.Series(eps, index=out.index, dtype="float64")
    return out


# -- per-group results: raw values, differences and ratios apart ------------------------

GROUP_KINDS = ("value", "difference", "ratio")


def group_kind(metric: str) -> str:
    """``difference`` for ``*_difference`` (max - min over groups), ``ratio`` for
    ``*_ratio`` (min / max), else ``value`` (the metric of one group)."""
    for kind in ("difference", "ratio"):
        if metric.endswith(f"_{kind}"):
            return kind
    return "value"


def group_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Per-group rows with ``kind`` (:func:`group_kind`) and ``row``: the group, prefixed by
    the dataset, modality pair and variant when more than one of each is shown, so two
    datasets' ``gender=man`` bars are not drawn on one label."""
    out = df[df["group"].notna()].copy()
    out["kind"] = out["metric"].map(group_kind)
    varying = [c for c in ("check", "modality", "variant") if out[c].nunique(dropna=False) > 1]
    parts = [out[c].astype("object").where(out[c].notna(), "(none)").map(str) for c in varying]
    label = out["group"].map(str)
    for part in reversed(parts):
        label = part + " · " + label
    out["row"] = label
    return out
