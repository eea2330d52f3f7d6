"""Which result of a report is a comparison row's headline, per suite (docs/compare.md).

The table follows the seed report's Table 2: one number per check and embedder, each
model at its own native size, undefended and not debiased (variant ``raw``):

- retrieval, per dataset and modality pair, at the native size: "Avg" = mean of R@1,
  R@5, R@10 (``avg_hit``: a relevant item in the top k; ``avg_recall`` where the dataset
  has one relevant item per query, where the two are equal) and nDCG@10. Rows are grouped
  by the corpus modality, as Table 2 groups by what is retrieved.
- bias: every association test's effect size d (WEAT, SEAT, cross-modal), with its 95%
  CI and Holm-adjusted p; MaxSkew at the smallest k per skew check; each quality-gap
  metric (best minus worst group) per disparity check. Projection-cost rows compare
  raw and debiased, not models, and are left out.
- safety: recall (unsafe items blocked) and false-positive rate of each labelled set,
  false-positive rate of each benign set. Evasion, calibration and latency rows measure
  the filter's own checkers, not the embedder, and are left out.
- red team: attack success rate of each attack, undefended, at its largest budget.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from audit.compare._schema import ComparisonRow
from audit.report import Report, Result

MODALITY_NAMES = ("text", "image", "document", "video", "audio")
RETRIEVAL_GROUPS = {
    "video": "VIDEO RETRIEVAL",
    "audio": "AUDIO RETRIEVAL",
    "document": "VISUAL DOCUMENT RETRIEVAL",
    "image": "IMAGE RETRIEVAL",
    "text": "TEXT RETRIEVAL",
}
#: Row groups, top to bottom (Table 2's order for retrieval, then the other suites).
GROUP_ORDER: tuple[str, ...] = (*RETRIEVAL_GROUPS.values(), "BIAS", "SAFETY", "RED TEAM", "USAGE")
AVG_METRICS = ("avg_hit", "avg_recall")
LATENCY_PREFIX = "embedding/"
ASR = "attack_success_rate"


@dataclass(frozen=True)
class Headline:
    """A row (as found in one report) and the result that fills its cell."""

    row: ComparisonRow
    result: Result


def row_key(row: ComparisonRow) -> tuple[str, str, str, str | None]:
    """Rows from different reports are the same row when these agree."""
    return (row.suite, row.check, row.slot, row.modality)


def needed_modalities(modality: str | None) -> list[str]:
    """The modalities a result's ``modality`` names (``text->image``, ``image|text``)."""
    if not modality:
        return []
    parts = re.split(r"->|\||,|\+", modality)
    return sorted({p.strip() for p in parts if p.strip() in MODALITY_NAMES})


def p_of(r: Result) -> float | None:
    """The p-value a reader should see: the stored adjusted one where the suite adjusted
    it (``p_adjusted``; a version-1 report's ``details.p_holm`` is moved there on load)."""
    return r.p_adjusted if r.p_adjusted is not None else r.p_value


def headlines(report: Report) -> list[Headline]:
    """The headline results of one report, in the report's order within each suite."""
    out: list[Headline] = []
    out += _retrieval(report)
    out += _bias(report)
    out += _safety(report)
    out += _redteam(report)
    return out


def _row(
    r: Result,
    *,
    group: str,
    slot: str,
    metrics: list[str],
    label: str,
    scale: str,
    modality: str | None = None,
) -> ComparisonRow:
    modality = r.modality if modality is None else modality
    return ComparisonRow(
        group=group,
        suite=r.suite,
        check=r.check,
        slot=slot,
        metrics=metrics,
        label=label,
        modality=modality,
        modalities=needed_modalities(modality),
        variant=r.variant,
        scale=scale,  # type: ignore[arg-type]
    )


def _plain(report: Report, suite: str, variant: str | None = "raw") -> Iterator[Result]:
    for r in report.results:
        if r.suite == suite and r.group is None and (variant is None or r.variant == variant):
            yield r


# -- retrieval ------------------------------------------------------------------------


def _retrieval(report: Report) -> list[Headline]:
    found: dict[tuple[str, str], dict[int, dict[str, Result]]] = {}
    for r in _plain(report, "retrieval"):
        if r.check.startswith(LATENCY_PREFIX) or r.dim is None or r.value is None:
            continue
        by_dim = found.setdefault((r.check, r.modality or "-"), {})
        by_dim.setdefault(r.dim, {}).setdefault(r.metric, r)
    out = []
    for (check, pair), by_dim in found.items():
        # Each model at its native size, as Table 2 compares them; else its largest.
        dim = report.embedder.dim if report.embedder.dim in by_dim else max(by_dim)
        metrics = by_dim[dim]
        corpus = pair.split("->")[-1]
        group = RETRIEVAL_GROUPS.get(corpus, f"{corpus.upper()} RETRIEVAL")
        for slot, wanted, name in (
            ("avg", AVG_METRICS, "Avg (R@1, R@5, R@10), %"),
            ("ndcg@10", ("ndcg@10",), "nDCG@10, %"),
        ):
            hit = next((metrics[m] for m in wanted if m in metrics), None)
            if hit is None:
                continue
            label = f"{check} {pair}: {name}"
            row = _row(
                hit,
                group=group,
                slot=slot,
                metrics=list(wanted),
                label=label,
                scale="percent",
                modality=pair,
            )
            out.append(Headline(row, hit))
    return out


# -- bias -----------------------------------------------------------------------------


def _bias(report: Report) -> list[Headline]:
    raw = list(_plain(report, "bias"))
    out = []
    for r in raw:
        if r.metric == "effect_size":
            row = _row(
                r,
                group="BIAS",
                slot="effect_size",
                metrics=["effect_size"],
                label=f"{r.check}: effect size d",
                scale="signed",
            )
            out.append(Headline(row, r))
    skew: dict[str, dict[int, Result]] = {}
    for r in raw:
        if r.check.startswith("skew/") and r.metric.startswith("max_skew@"):
            k = _k(r.metric)
            if k is not None:
                skew.setdefault(r.check, {}).setdefault(k, r)
    for check, by_k in skew.items():
        ks = sorted(by_k)
        first = by_k[ks[0]]
        metrics = [f"max_skew@{k}" for k in ks]
        row = _row(
            first,
            group="BIAS",
            slot="max_skew",
            metrics=metrics,
            label=f"{check}: MaxSkew@{ks[0]}",
            scale="plain",
        )
        out.append(Headline(row, first))
    for r in raw:
        if r.check.startswith("disparity/") and r.metric.endswith("_difference"):
            base = r.metric.removesuffix("_difference")
            row = _row(
                r,
                group="BIAS",
                slot=r.metric,
                metrics=[r.metric],
                label=f"{r.check}: {base} gap (best - worst group)",
                scale="plain",
            )
            out.append(Headline(row, r))
    return out


def _k(metric: str) -> int | None:
    tail = metric.rsplit("@", 1)[-1]
    return int(tail) if tail.isdigit() else None


# -- safety ---------------------------------------------------------------------------


def _safety(report: Report) -> list[Headline]:
    out = []
    seen: set[tuple[str, str]] = set()
    for r in _plain(report, "safety", variant=None):
        labelled = r.check.startswith("labelled/")
        benign = r.check.startswith("benign/") and r.check.count("/") == 1
        wanted = {"recall": "unsafe blocked (recall)"} if labelled else {}
        if labelled or benign:
            wanted["false_positive_rate"] = "false-positive rate"
        if r.metric not in wanted or (r.check, r.metric) in seen:
            continue
        seen.add((r.check, r.metric))
        row = _row(
            r,
            group="SAFETY",
            slot=r.metric,
            metrics=[r.metric],
            label=f"{r.check}: {wanted[r.metric]}",
            scale="plain",
        )
        out.append(Headline(row, r))
    return out


# -- red team -------------------------------------------------------------------------


def _budget(details: dict[str, Any]) -> float:
    for key in ("budget", "eps"):
        v = details.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
    return 0.0


def _budget_text(details: dict[str, Any]) -> str:
    if "budget" in details:
        return f"budget {details['budget']:g}"
    if "eps_255" in details:
        return f"eps {details['eps_255']:g}/255"
    if "eps" in details:
        return f"eps {details['eps']:.4g}"
    return "its budget"


def _redteam(report: Report) -> list[Headline]:
    best: dict[str, Result] = {}
    for r in _plain(report, "redteam"):
        if r.metric != ASR or r.value is None:
            continue
        held = best.get(r.check)
        if held is None or _budget(r.details) > _budget(held.details):
            best[r.check] = r
    out = []
    for check, r in best.items():
        label = f"{check}: attack success @ {_budget_text(r.details)}"
        row = _row(r, group="RED TEAM", slot="asr", metrics=[ASR], label=label, scale="plain")
        out.append(Headline(row, r))
    return out
