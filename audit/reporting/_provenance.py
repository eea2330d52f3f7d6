"""The report's caveats and provenance sections, read from the stored report."""

from __future__ import annotations

import json
from typing import Any

from audit.report import Report
from audit.reporting._findings import describe
from audit.reporting._num import Num, src_key, src_path

__all__ = ["MAX_LISTED", "caveats", "provenance"]

#: Caveat lists (too-few results, skipped items) name this many, then count the rest.
MAX_LISTED = 25


def _number(v: Any) -> float | int | None:
    return v if isinstance(v, int | float) and not isinstance(v, bool) else None


#: Dataset card fields quoted among the caveats (the card's own words).
_CARD_CAVEATS = ("description", "limitations", "caveats", "known_issues", "bias")


def caveats(report: Report) -> dict[str, Any]:
    """What limits the reading: quick runs, wrappers, dataset cards, too-few results,
    skipped items, errored checks."""
    too_few = [(i, r) for i, r in enumerate(report.results) if r.too_few]
    cfg = report.config
    notes = []
    if cfg.get("quick"):
        notes.append("Quick run (--quick): suites ran on subsampled data; intervals are wide.")
    for name, wrapper in report.wrappers.model_dump().items():
        if wrapper and name in ("safety", "projection"):  # they change what was measured
            notes.append(f"The embedder ran behind a {name} wrapper: {json.dumps(wrapper)}")
    datasets = report.reproducibility.get("datasets")
    for d in datasets if isinstance(datasets, list) else []:
        card = d.get("card") if isinstance(d, dict) else None
        if not isinstance(card, dict):
            continue
        for key in _CARD_CAVEATS:  # what the data is, and what its card warns about
            if isinstance(card.get(key), str) and card[key]:
                notes.append(f"Data set {d.get('name') or d.get('spec')}: {key}: {card[key]}")
    return {
        "notes": notes,
        "too_few": [(r.too_few, describe(r, i)) for i, r in too_few[:MAX_LISTED]],
        "too_few_more": max(0, len(too_few) - MAX_LISTED),
        "too_few_count": len(too_few),
        "skipped": report.skipped_items[:MAX_LISTED],
        "skipped_more": max(0, len(report.skipped_items) - MAX_LISTED),
        "check_errors": report.check_errors,
        "errors": report.errors,
    }


def _kv(value: Any, src: str) -> Num | str:
    if _number(value) is not None:
        return Num(value, src)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def provenance(report: Report) -> dict[str, Any]:
    """Which model, data and settings produced the numbers, as the report records them."""
    repro = report.reproducibility
    datasets = repro.get("datasets")
    ds_rows = []
    if isinstance(datasets, list):
        for di, d in enumerate(datasets):
            if isinstance(d, dict):
                base = src_path("reproducibility", "datasets", di)
                rows = []
                for k, v in sorted(d.items()):
                    if isinstance(v, dict) and v:  # the card, the counts: one row per field
                        at = base + src_key(k)
                        rows += [(f"{k}.{ck}", _kv(cv, at + src_key(ck))) for ck, cv in v.items()]
                    else:
                        rows.append((k, _kv(v, base + src_key(k))))
                ds_rows.append(rows)
    timings = [(k, Num(v, "timings" + src_key(k))) for k, v in report.timings.items()]
    usage = [(k, _kv(v, "embedder.usage" + src_key(k))) for k, v in report.embedder.usage.items()]
    skip = {"datasets"}
    return {
        "fingerprint": repro.get("embedder_fingerprint"),
        "weights": sorted(report.embedder.weights.items()),
        "datasets": ds_rows,
        "datasets_missing": not ds_rows,
        "config": [(k, _kv(v, "config" + src_key(k))) for k, v in sorted(report.config.items())],
        "repro": [
            (k, _kv(v, "reproducibility" + src_key(k)))
            for k, v in sorted(repro.items())
            if k not in skip
        ],
        "seed": Num(_number(report.config.get("seed", repro.get("seed"))), "config.seed"),
        "timings": timings,
        "usage": usage,
    }
