"""Holm-Bonferroni adjustment of a bias run's p-values, per variant.

The bias suite adjusts its results with it after the probes ran, and the torch-free
terminal summary (:mod:`audit.suites._summaries.bias`) re-adjusts copies of the results of
a report written without adjusted p-values; both need the same definition.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.report import Result

HOLM_NOTE = (
    "Holm-Bonferroni over every p-value of this variant in this run (association tests, "
    "skew, group gaps): family-wise error <= alpha"
)


def apply_holm(results: Sequence[Result]) -> None:
    """Add ``p_holm`` (and the family size) to the details of every result with a p-value.

    The family is all results of one variant that carry a p-value, so adding probes to a
    run makes each adjusted p-value larger (more tests, more chances of a false positive).
    """
    from fairness.probes import holm_bonferroni

    for variant in dict.fromkeys(r.variant for r in results):
        family = [r for r in results if r.variant == variant and r.p_value is not None]
        if not family:
            continue
        adjusted = holm_bonferroni([r.p_value for r in family])
        for r, p in zip(family, adjusted, strict=True):
            r.details = {
                **r.details,
                "p_holm": float(p),
                "holm_family_size": len(family),
                "holm": HOLM_NOTE,
            }


def significant(r: Result, alpha: float) -> bool:
    """Whether a result's Holm-adjusted p-value is below ``alpha``."""
    p = r.details.get("p_holm")
    return p is not None and p < alpha
