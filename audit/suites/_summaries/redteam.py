"""The red-team terminal summary: ASR by budget, raw beside each defense, from results only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from audit.report import Result

#: The headline metric of an attack (the share of queries it moved out of the top k);
#: the suite writes it (:mod:`audit.suites._redteam._results`) and this view reads it.
ASR = "attack_success_rate"


def budget_label(check: str, d: dict[str, Any]) -> str:
    """What the attacker spent, in the attack's own unit."""
    if check.startswith("text/") and "budget" in d:
        return f"{d['budget']} edit" + ("s" if d["budget"] != 1 else "")
    if "query_budget" in d:
        return f"{d['query_budget']} queries, {d.get('eps_255', 0):g}/255"
    if "poisons_per_query" in d:
        return f"{d['poisons_per_query']} poison/query"
    if "eps_255" in d:
        return f"eps {d['eps_255']:g}/255"
    return "-"


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows
    ]


def summary_text(results: list[Result]) -> str | None:
    """ASR by budget (raw, then each defense), detector AUCs, defense costs, skipped checks."""
    mine = [r for r in results if r.suite == "redteam"]
    if not mine:
        return None
    lines: list[str] = []
    keyed: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in mine:
        if r.metric not in (ASR, "detector_auc"):
            continue
        key = (r.check, r.modality or "-", budget_label(r.check, r.details))
        row = keyed.setdefault(
            key, {"raw": None, "n": r.n, "elig": None, "k": r.details.get("k"), "def": []}
        )
        if r.metric == "detector_auc":
            row["def"].append(f"detector AUC {_fmt(r.value)}")
        elif r.variant == "raw":
            row["raw"], row["n"] = r.value, r.n
            row["elig"] = r.details.get("n_eligible")
        else:
            row["def"].append(f"{r.details.get('defense')} {_fmt(r.value)}")
    if keyed:
        lines.append("Attack success rate by budget: undefended (raw) and behind each defense")
        rows = [("check", "modality", "budget", "k", "n", "eligible", "raw", "defended")]
        for (check, modality, budget), row in keyed.items():
            rows.append(
                (
                    check,
                    modality,
                    budget,
                    str(row["k"] or "-"),
                    str(row["n"] or "-"),
                    "-" if row["elig"] is None else str(row["elig"]),
                    _fmt(row["raw"]),
                    ", ".join(row["def"]) or "-",
                )
            )
        lines += _table(rows)
    gone = [r for r in mine if r.metric == "queries_destroyed" and r.value]
    if gone:
        lines += ["", "Attacked queries the embedder refuses (e.g. left empty), scored as misses"]
        for r in gone:
            label = r.details.get("defense") or "raw"
            lines.append(
                f"  {r.check} {budget_label(r.check, r.details)} {label}: "
                f"{r.value:.0f} of {r.n} queries"
            )
    costs = [r for r in mine if r.metric == "clean_recall_cost"]
    if costs:
        lines += ["", "Defense cost on clean retrieval (Recall@k without -> with the defense)"]
        rows = [("defense", "modality", "k", "recall", "cost")]
        for r in costs:
            d = r.details
            rows.append(
                (
                    r.check.removeprefix("defense/"),
                    r.modality or "-",
                    str(d.get("k")),
                    f"{_fmt(d.get('recall_without'))} -> {_fmt(d.get('recall_with'))}",
                    _fmt(r.value),
                )
            )
        lines += _table(rows)
    for r in mine:
        if r.metric == "hub_flagged":
            d = r.details
            verdict = "flagged" if r.value else "NOT flagged"
            lines += [
                "",
                f"Hubness detector (k={d.get('k')}, z > {d.get('threshold')}): planted "
                f"hub {verdict} (robust z {d.get('hub_robust_z', 0):.1f}); "
                f"{d.get('false_positives')} other item(s) flagged, "
                f"{d.get('flagged_on_clean_index')} on the clean index",
            ]
    skips = [r for r in mine if r.metric == "skipped"]
    if skips:
        lines += ["", "Skipped:"] + [f"  {r.check}: {r.details.get('reason')}" for r in skips]
    return "\n".join(lines)
