"""Plain-language findings: one stored result as a sentence a reviewer can read.

One function per kind of metric, chosen by :func:`describe`. A finding is a tuple of parts:
plain strings (report strings among them, escaped by the template) and :class:`Num`
numbers read from report.json (never recomputed; a skew is shown as the ratio ``e^skew``
with the transform named). Example: ``skew/emoji-professions/gender [raw, text->image,
dim 384, group man]: group man is shown 1.77x its target share in the top 10 (skew@10
0.5702, CI [0.48, 0.65], n = 60)``.
"""

from __future__ import annotations

import re
from typing import Any

from audit.metrics import metric_info
from audit.report import GateResult, Result
from audit.reporting._num import Num, src_path

__all__ = ["Part", "describe", "gate_clause", "where"]

Part = str | Num
_AT_K = re.compile(r"@(\d+)")
_SAFETY_BENIGN = {"false_positive_rate", "flag_rate", "block_rate", "held_out_fpr"}
_SAFETY_HARMFUL = {"detection_rate", "recall"}


def where(r: Result) -> str:
    """``check [variant, modality, dim 384, group man]``: which result, in words."""
    bits = [r.variant, r.modality, None if r.dim is None else f"dim {r.dim}"]
    bits.append(None if r.group is None else f"group {r.group}")
    return f"{r.check} [{', '.join(b for b in bits if b)}]"


def _num(r: Result, i: int, field: str) -> Num:
    return Num(getattr(r, field), src_path("results", i, field))


def _detail(r: Result, i: int, key: str) -> Num | None:
    value = r.details.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Num(value, src_path("results", i, "details", key))
    return None


def _ci(r: Result, i: int) -> list[Part]:
    if r.ci_low is None or r.ci_high is None:
        return []
    return [", CI [", _num(r, i, "ci_low"), ", ", _num(r, i, "ci_high"), "]"]


def _sample(r: Result, i: int) -> list[Part]:
    return [] if r.n is None else [", n = ", _num(r, i, "n")]


def _p(r: Result, i: int) -> list[Part]:
    if r.p_adjusted is None:
        return [] if r.p_value is None else ["; p = ", _num(r, i, "p_value"), " (not adjusted)"]
    parts: list[Part] = ["; adjusted p = ", _num(r, i, "p_adjusted")]
    parts += [f" ({r.p_family})" if r.p_family else ""]
    if r.p_value is not None:
        parts += [", raw p = ", _num(r, i, "p_value")]
    if r.test is not None:
        parts += [f", {r.test.name}, {r.test.sidedness}"]
    return parts


def _pair(details: dict[str, Any], key: str) -> tuple[str, str] | None:
    pair = details.get(key)
    if isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair):
        return pair[0], pair[1]
    return None


def _effect(r: Result, i: int) -> list[Part]:
    parts: list[Part] = ["effect size d = ", _num(r, i, "value"), *_ci(r, i), *_sample(r, i)]
    targets, attributes = _pair(r.details, "targets"), _pair(r.details, "attributes")
    if targets and attributes and r.value is not None and r.value != 0:
        first, second = targets if r.value > 0 else targets[::-1]
        parts += [
            f" ({first} closer to {attributes[0]}, {second} closer to {attributes[1]})",
        ]
    return parts + _p(r, i)


def _skew(r: Result, i: int, k: str) -> list[Part]:
    name = r.metric.split("@")[0]
    subject = {
        "skew": f"group {r.group}",
        "max_skew": "the most over-represented group",
        "min_skew": "the most under-represented group",
    }[name]
    shown = Num(r.value, src_path("results", i, "value"), op="exp")
    return [
        f"{subject} is shown ",
        shown,
        f"x its target share in the top {k} ({r.metric} = ",
        _num(r, i, "value"),
        ", a log ratio",
        *_ci(r, i),
        *_sample(r, i),
        ")",
        *_p(r, i),
    ]


def _attack(r: Result, i: int) -> list[Part]:
    defense = r.details.get("defense")
    parts: list[Part] = [
        "the attack succeeds on a share ",
        _num(r, i, "value"),
        " of the attacked queries",
        *_ci(r, i),
        *_sample(r, i),
        f" (defense: {defense})" if defense else " (no defense)",
    ]
    for key, label in (("eps", "eps"), ("budget", "budget")):
        num = _detail(r, i, key)
        if num is not None:
            parts += [f", {label} ", num]
            break
    return parts


def _safety(r: Result, i: int) -> list[Part]:
    if r.metric in _SAFETY_HARMFUL:
        what = "of the harmful items are caught"
    elif r.metric == "evasion_rate":
        what = "of the obfuscated harmful items get through"
    else:
        what = "of the benign items are flagged or blocked"
    return ["a share ", _num(r, i, "value"), f" {what} ({r.metric})", *_ci(r, i), *_sample(r, i)]


def _generic(r: Result, i: int) -> list[Part]:
    info = metric_info(r.metric)
    meaning = f" ({info.description})" if info is not None else ""
    parts: list[Part] = [f"{r.metric} = ", _num(r, i, "value"), meaning, *_ci(r, i)]
    return parts + _sample(r, i) + _p(r, i)


def describe(r: Result, i: int) -> tuple[Part, ...]:
    """One result in plain language.

    Parameters
    ----------
    r : Result
        The stored result.
    i : int
        Its index in ``report.results`` (the numbers' ``data-src``).

    Returns
    -------
    tuple of str and Num
        The sentence, starting with :func:`where`; too-few-samples results say so.
    """
    name, k = _AT_K.sub("", r.metric), _AT_K.search(r.metric)
    if r.metric == "effect_size":
        body = _effect(r, i)
    elif name in ("skew", "max_skew", "min_skew") and k and r.value is not None:
        body = _skew(r, i, k.group(1)) if name != "skew" or r.group else _generic(r, i)
    elif r.metric == "attack_success_rate":
        body = _attack(r, i)
    elif r.suite == "safety" and (
        r.metric in _SAFETY_BENIGN | _SAFETY_HARMFUL or "evasion" in name
    ):
        body = _safety(r, i)
    else:
        body = _generic(r, i)
    parts: list[Part] = [f"{where(r)}: ", *body]
    if r.too_few:
        parts.append(f". Too few samples to read: {r.too_few}")
    if r.details.get("sign_reversed"):
        parts.append(". Sign reversed after debiasing (over-correction)")
    return tuple(parts)


def gate_clause(g: GateResult, gi: int, entry: dict[str, Any] | None = None) -> tuple[Part, ...]:
    """``gate NAME requires abs<= 0.8: fails (|1.02| is above 0.8)``."""
    verdict = "passes" if g.passed else "fails"
    parts: list[Part] = [f"gate {g.name} requires {g.metric} {g.op} "]
    parts += [Num(g.threshold, src_path("gates", gi, "threshold")), f": {verdict}"]
    reason = entry.get("reason") if entry else None
    if isinstance(reason, str) and reason:
        parts.append(f" ({reason})")
    return tuple(parts)
