"""After the probes ran: the one statistical reading, and raw-vs-debiased deltas.

:func:`finish_statistics` runs once over every result of a bias run: the
multiple-comparison rule (:mod:`audit.suites._summaries._holm`, defined once and
documented in docs/bias-statistics.md) stores ``p_adjusted``/``p_family``, and results
whose sample is too small to read get ``too_few`` with the reason. Readers read these
fields; none recomputes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from audit.report import Result
from audit.suites._bias._probe import SUITE
from audit.suites._summaries._holm import adjust_families, significant

#: A confidence interval covering at least this share of the metric's possible range says
#: nothing about where the value lies (e.g. a CI of [0, 1] for a recall).
MAX_CI_SPAN = 0.9


def _smallest_p(r: Result) -> tuple[float, str] | None:
    """The smallest p-value the test could return for this sample, and why."""
    d = r.details
    sizes = d.get("n_targets")
    if r.metric == "effect_size" and isinstance(sizes, list) and len(sizes) == 2:
        count = math.comb(int(sizes[0]) + int(sizes[1]), int(sizes[0]))
        sides = 2 if r.test is not None and r.test.sidedness == "two-sided" else 1
        return min(1.0, sides / count), f"{count} partitions of {sizes[0]} + {sizes[1]} targets"
    gap = d.get("gap_test")
    if isinstance(gap, dict) and gap.get("method") == "exact" and gap.get("n_permutations"):
        count = int(gap["n_permutations"])
        return 1.0 / count, f"{count} arrangements of the groups over the queries"
    return None


def too_few_reason(r: Result, alpha: float) -> str | None:
    """Why ``r``'s sample is too small to read, or None.

    Two rules (docs/bias-statistics.md, "Too few samples"): the test cannot reach
    significance at ``alpha`` even in the most extreme arrangement of the data (its
    smallest attainable p-value is >= alpha), or the confidence interval spans at least
    ``MAX_CI_SPAN`` of the metric's possible range.
    """
    from audit.metrics import metric_info

    if r.p_value is not None:
        smallest = _smallest_p(r)
        if smallest is not None and smallest[0] >= alpha:
            return (
                f"only {smallest[1]}: the smallest possible p-value is {smallest[0]:.3g}, "
                f"not below alpha {alpha:g}, so no result could be significant"
            )
    info = metric_info(r.metric)
    if info is None or r.ci_low is None or r.ci_high is None:
        return None
    if info.low is None or info.high is None or info.high <= info.low:
        return None
    span = (r.ci_high - r.ci_low) / (info.high - info.low)
    if span >= MAX_CI_SPAN:
        return (
            f"the CI [{r.ci_low:.3g}, {r.ci_high:.3g}] spans {span:.0%} of the possible range "
            f"[{info.low:g}, {info.high:g}] (n={r.n})"
        )
    return None


def finish_statistics(results: Sequence[Result], alpha: float) -> None:
    """Store the one statistical reading on every result of a bias run (in place)."""
    adjust_families(results)
    for r in results:
        r.too_few = too_few_reason(r, alpha)


def _key(r: Result) -> tuple[Any, ...]:
    return (r.check, r.metric, r.group, r.details.get("size_label"))


def deltas(raw: Sequence[Result], debiased: Sequence[Result], alpha: float = 0.05) -> list[Result]:
    """``debiased - raw`` for every headline result (those without a group) of both variants.

    For effect sizes the details also hold the change of the magnitude ``|d_debiased| -
    |d_raw|`` (negative: the projection weakened the association, whatever its sign) and
    ``sign_reversed``: the sign flipped and the debiased one is significant at ``alpha``
    (read from its stored ``p_adjusted``, so :func:`finish_statistics` runs first).
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
            "raw_p_adjusted": r.p_adjusted,
            "debiased_p_adjusted": d.p_adjusted,
        }
        if "size_label" in d.details:
            details["size_label"] = d.details["size_label"]
        if d.metric == "effect_size" and value is not None:
            details["abs_change"] = abs(d.value) - abs(r.value)  # type: ignore[arg-type]
            # An over-correction: the association flipped sign and the flipped one is
            # significant (two-sided test), e.g. d = +0.11 raw, -1.35 debiased.
            details["sign_reversed"] = bool(
                r.value * d.value < 0 and significant(d, alpha)  # type: ignore[operator]
            )
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
