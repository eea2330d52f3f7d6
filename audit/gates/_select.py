"""Selecting a gate's results: glob patterns over suite/check/metric, and the other keys.

Patterns follow :func:`fnmatch.fnmatchcase` (``*``, ``?``, ``[3-9]``), case-sensitive so a
selector means the same on every platform. A selector that is set never matches a result
whose field is null (``group = "*"`` selects only results that have a group).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from fnmatch import fnmatchcase

from audit.gates._policy import Gate
from audit.report import Result, result_setting

# The fields that identify a result across runs (a baseline's result is "the same" one).
KEY_FIELDS = ("suite", "check", "metric", "variant", "dim", "modality", "group")
_PATTERN_FIELDS = ("suite", "check", "metric", "variant", "modality", "group")

ResultKey = tuple[str | int | None, ...]


def result_key(result: Result) -> ResultKey:
    """The identity of a result: suite, check, metric, variant, dim, modality, group and
    the setting kept in its details (defense, budget: :func:`audit.report.result_setting`),
    so a baseline's defended result is compared with the same defense and budget."""
    return (*(getattr(result, f) for f in KEY_FIELDS), result_setting(result))


def _field_matches(gate: Gate, field: str, result: Result) -> bool:
    if field == "dim":
        return gate.dim is None or (result.dim is not None and result.dim in gate.dim)
    patterns = getattr(gate, field)
    if patterns is None:
        return True
    value = getattr(result, field)
    return value is not None and any(fnmatchcase(value, p) for p in patterns)


def matches(gate: Gate, result: Result) -> bool:
    """Whether ``result`` satisfies every selector ``gate`` sets."""
    return all(_field_matches(gate, f, result) for f in KEY_FIELDS)


def select(gate: Gate, results: Sequence[Result]) -> list[Result]:
    """The results ``gate`` selects, in report order."""
    return [r for r in results if matches(gate, r)]


def label(patterns: Sequence[str] | None) -> str:
    """A selector as text for reports: patterns joined by ``,``; ``*`` when unset."""
    return ",".join(patterns) if patterns else "*"


def explain_empty(gate: Gate, results: Sequence[Result], *, where: str) -> str:
    """Why ``gate`` selects nothing: which selector removes everything, with close names.

    Parameters
    ----------
    gate : Gate
        The gate that selected no result.
    results : sequence of Result
        The results it was matched against.
    where : str
        What the results are ("run 2026...-bias-abc123"), for the message.
    """
    parts = []
    remaining = list(results)
    for field in (*_PATTERN_FIELDS, "dim"):
        if getattr(gate, field) is None:
            continue
        kept = [r for r in remaining if _field_matches(gate, field, r)]
        if not kept:
            values = sorted({str(getattr(r, field)) for r in remaining})
            shown = ", ".join(values[:12]) + (" ..." if len(values) > 12 else "")
            hint = ""
            if field != "dim":
                # Offer values and their "prefix/*" families, so 'waet/*' finds 'weat/*'.
                pool = set(values) | {v.split("/")[0] + "/*" for v in values if "/" in v}
                close = {
                    c
                    for p in getattr(gate, field)
                    for c in difflib.get_close_matches(p, sorted(pool), n=2, cutoff=0.6)
                }
                if close:
                    hint = f"; did you mean {' or '.join(map(repr, sorted(close)))}?"
            given = getattr(gate, field)
            given_text = label(given) if field != "dim" else ",".join(map(str, given))
            parts.append(
                f"{field} = {given_text!r} matches none of the {len(remaining)} result(s) "
                f"left by the selectors before it (values there: {shown or 'none'}{hint})"
            )
            break
        remaining = kept
    if not results:
        parts = ["the report has no results"]
    reason = "; ".join(parts) or "no result matches"
    return (
        f"gate {gate.name!r} selects no result in {where}: {reason}. A gate that selects "
        "nothing would pass silently; fix the selector, or set allow_empty = true"
    )
