"""After the probes ran: raw-vs-debiased deltas.

The Holm-Bonferroni adjustment lives in :mod:`audit.suites._summaries._holm`: the terminal
summary of a finished report needs it too, without importing the suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from audit.report import Result
from audit.suites._bias._probe import SUITE


def _key(r: Result) -> tuple[Any, ...]:
    return (r.check, r.metric, r.group, r.details.get("size_label"))


def deltas(raw: Sequence[Result], debiased: Sequence[Result]) -> list[Result]:
    """``debiased - raw`` for every headline result (those without a group) of both variants.

    For effect sizes the details also hold the change of the magnitude ``|d_debiased| -
    |d_raw|`` (negative: the projection weakened the association, whatever its sign).
    """
    twins = {_key(r): r for r in raw if r.group is None}
    out = []
    for d in debiased:
        r = twins.get(_key(d))
        if d.group is not None or r is None:
            continue
        value = None if r.value is None or d.value is None else d.value - r.value
        details: dict[str, Any] = {
            "definition": "debiased minus raw",
            "raw": r.value,
            "debiased": d.value,
            "raw_dim": r.dim,
            "raw_p_holm": r.details.get("p_holm"),
            "debiased_p_holm": d.details.get("p_holm"),
        }
        if "size_label" in d.details:
            details["size_label"] = d.details["size_label"]
        if d.metric == "effect_size" and value is not None:
            details["abs_change"] = abs(d.value) - abs(r.value)  # type: ignore[arg-type]
        out.append(
            Result(
                suite=SUITE,
                check=d.check,
                metric=d.metric,
                value=value,
                variant="delta",
                dim=d.dim,
                modality=d.modality,
                n=d.n,
                details=details,
            )
        )
    return out
