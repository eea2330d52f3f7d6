"""The multiple-comparison rule, defined once: which p-values form a family, and Holm.

The bias suite applies :func:`adjust_families` once when its probes have run and stores
``p_adjusted``/``p_family`` on every result with a p-value; every reader (run table,
summaries, gates, dashboard) reads those fields and never adjusts again. The rule is
documented in docs/bias-statistics.md ("Multiple comparisons").

Torch-free and suite-free (contract *summaries*), so the rule can be named by readers
(:func:`significant`) without importing a suite.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.report import Result

#: How the rule is described to readers (summary caveats, dashboard captions).
FAMILY_RULE = (
    "Holm-Bonferroni within a family: the p-values of one run, suite, variant and test "
    "kind (weat, seat, xmodal, skew, disparity...)"
)


def family_of(r: Result) -> str:
    """The family key of a result: ``suite/variant/kind`` (kind: the check's first part).

    Tests of one kind answer one question (e.g. "do the WEAT word lists show
    associations?") over overlapping stimuli, so they share a family-wise error budget;
    different kinds (association tests vs retrieval skew) are separate questions.
    """
    kind = r.check.split("/", 1)[0]
    return f"{r.suite}/{r.variant}/{kind}"


def family_name(key: str, size: int) -> str:
    """The ``p_family`` string stored on a result: correction, family key and its size."""
    return f"holm:{key} (m={size})"


def adjust_families(results: Sequence[Result]) -> None:
    """Store ``p_adjusted`` and ``p_family`` on every result with a raw ``p_value``.

    The Holm-Bonferroni step-down adjustment runs over each family (:func:`family_of`), so
    adding probes of one kind makes that kind's adjusted p-values larger, and leaves the
    others alone. Results without a p-value are left untouched.
    """
    from fairness.probes import holm_bonferroni

    families: dict[str, list[Result]] = {}
    for r in results:
        if r.p_value is not None:
            families.setdefault(family_of(r), []).append(r)
    for key, members in families.items():
        adjusted = holm_bonferroni([r.p_value for r in members])
        name = family_name(key, len(members))
        for r, p in zip(members, adjusted, strict=True):
            r.p_adjusted = float(p)
            r.p_family = name


def significant(r: Result | None, alpha: float) -> bool:
    """Whether a result's stored adjusted p-value is below ``alpha`` (False without one)."""
    return r is not None and r.p_adjusted is not None and r.p_adjusted < alpha


def family_label(p_family: str | None) -> str:
    """``holm:bias/raw/weat (m=10)`` -> ``Holm, family bias/raw/weat, m=10`` for captions."""
    if not p_family:
        return "no family stored"
    method, _, rest = p_family.partition(":")
    return f"{method.capitalize()}, family {rest}" if rest else p_family
