"""Turning attack reports into report.json results, one shape for every family.

Every attack gives ``attack_success_rate`` (variant ``raw`` undefended, ``defended`` with
``details.defense``), ``recall@k_attacked`` (``details.recall_clean`` beside it) and
``cosine_drift``; score-based and text attacks add ``queries_used``, text attacks
``queries_destroyed`` (attacked queries the embedder would refuse, e.g. left empty: they
count as misses; ``details.n_destroyed`` on every result of the attack). A defense's price on
clean retrieval is ``clean_recall_cost`` under check ``defense/<name>``. A check that cannot
run on this embedder gives one ``skipped`` result (value null) with ``details.reason``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from audit.report import Result
from audit.suites._summaries.redteam import ASR
from redteam.metrics import AttackReport

SUITE = "redteam"


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def result(
    check: str,
    metric: str,
    value: float | None,
    *,
    modality: str | None,
    n: int | None,
    variant: str = "raw",
    **details: Any,
) -> Result:
    """One redteam Result with JSON-safe details."""
    return Result(
        suite=SUITE,
        check=check,
        metric=metric,
        value=_num(value),
        variant=variant,
        modality=modality,
        n=n,
        details=_clean(details),
    )


def attack_results(
    check: str,
    rep: AttackReport,
    *,
    modality: str,
    defense: str | None = None,
    queries: bool = False,
    destroyed: bool = False,
    **details: Any,
) -> Iterator[Result]:
    """ASR, Recall@k under attack and drift of one report (plus queries_used and
    queries_destroyed if asked).

    ``details`` must carry the budget (``budget`` for edit counts and query budgets, ``eps``
    for L-inf budgets: the dashboard plots ASR against them).
    """
    variant = "defended" if defense else "raw"
    common: dict[str, Any] = {
        "k": rep.k,
        "targeted": rep.targeted,
        "defense": defense,
        "n_eligible": rep.n_eligible,
        "n_success": rep.n_success,
        "n_destroyed": rep.n_destroyed,
        "recall_clean": rep.recall_clean,
        "perturbation": rep.perturbation,
        **details,
    }
    yield result(
        check, ASR, rep.success_rate, modality=modality, n=rep.n, variant=variant, **common
    )
    if rep.recall_attacked is not None:
        yield result(
            check,
            f"recall@{rep.k}_attacked",
            rep.recall_attacked,
            modality=modality,
            n=rep.n,
            variant=variant,
            **common,
        )
    yield result(
        check,
        "cosine_drift",
        rep.cosine_drift,
        modality=modality,
        n=rep.n,
        variant=variant,
        **common,
    )
    if queries and rep.queries_used is not None:
        yield result(
            check,
            "queries_used",
            float(rep.queries_used),
            modality=modality,
            n=rep.n,
            variant=variant,
            **common,
        )
    if destroyed:
        yield result(
            check,
            "queries_destroyed",
            float(rep.n_destroyed),
            modality=modality,
            n=rep.n,
            variant=variant,
            **common,
        )


def clean_cost(
    defense: str,
    without: float | None,
    with_: float | None,
    *,
    k: int,
    modality: str,
    n: int,
    **details: Any,
) -> Result:
    """``clean_recall_cost`` = Recall@k without the defense - with it (positive: it costs)."""
    value = None if without is None or with_ is None else without - with_
    return result(
        f"defense/{defense}",
        "clean_recall_cost",
        value,
        modality=modality,
        n=n,
        variant="defended",
        defense=defense,
        k=k,
        recall_without=without,
        recall_with=with_,
        **details,
    )


def skipped(check: str, reason: str, *, modality: str | None = None, **details: Any) -> Result:
    """A check that did not run here, and why (value null, metric ``skipped``)."""
    return result(check, "skipped", None, modality=modality, n=None, reason=reason, **details)
