"""Judging a report against a policy: thresholds, significance, regressions, counts.

Every gate yields one :class:`~audit.report.GateResult` whose evidence lists each selected
result with its own verdict and reason. A gate passes when every selected result passes.
Where the number that would excuse a breach is missing (no p-value for a significance
gate, no CI for a ``when = "ci"`` gate) the breach stands: missing evidence never passes.
"""

from __future__ import annotations

import fnmatch
import logging
from typing import Any

from audit.config import ConfigError
from audit.gates._policy import Gate, Policy
from audit.gates._select import explain_empty, label, result_key, select
from audit.gates._verdict import compute_verdict
from audit.report import GateResult, PolicyInfo, Report, Result, evidence_key, result_setting

log = logging.getLogger(__name__)

_SYMBOL = {
    "min": ">=",
    "max": "<=",
    "max_abs": "abs<=",
    "max_drop": "drop<=",
    "max_increase": "increase<=",
    "min_results": "count>=",
}
_MAX_LISTED = 3  # failing results named in a gate's one-line message


def _fmt(v: float | None) -> str:
    return "null" if v is None else f"{v:.4g}"


def _where(r: Result) -> str:
    tags = [r.variant, r.modality, f"dim {r.dim}" if r.dim else None]
    tags.append(f"group {r.group}" if r.group else None)
    tags.append(result_setting(r))  # which defense / budget, where the suite has several
    return f"{r.check} {r.metric} [{', '.join(t for t in tags if t)}]"


def _evidence(r: Result, field: str) -> dict[str, Any]:
    # ``key`` is the result's stored identity (the verdict's too): readers select the
    # judged results by it instead of re-matching the gate's selectors.
    ev: dict[str, Any] = {"key": evidence_key(r)}
    if (setting := result_setting(r)) is not None:  # defense/budget: part of the identity
        ev["setting"] = setting
    ev.update({k: getattr(r, k) for k in ("suite", "check", "metric", "variant")})
    ev.update(dim=r.dim, modality=r.modality, group=r.group, value=r.value)
    for k in ("p_value", "ci_low", "ci_high", "n"):
        if getattr(r, k) is not None or k == field:
            ev[k] = getattr(r, k)
    return ev


def _breach(op: str, x: float, t: float) -> bool:
    return x > t if op == "max" else (x < t if op == "min" else abs(x) > t)


def _ci_beyond(op: str, lo: float, hi: float, t: float) -> bool:
    if op == "max":
        return lo > t
    if op == "min":
        return hi < t
    return lo > t or hi < -t


def _judge_threshold(
    gate: Gate, r: Result, x: float | None, p_adj: float | None, alpha: float
) -> tuple[bool, str]:
    op, t = gate.operator, gate.threshold
    shown = f"|{_fmt(x)}|" if op == "max_abs" else _fmt(x)
    if x is None:
        return False, f"{gate.field} is null (undefined), so it cannot show the gate holds"
    if not _breach(op, x, t):
        return True, f"{shown} {_SYMBOL[op].removeprefix('abs')} {_fmt(t)}"
    cmp = "below" if op == "min" else "above"
    breach = f"{shown} is {cmp} {_fmt(t)}"
    if gate.when == "significant":
        # The stored family-adjusted p-value decides (docs/bias-statistics.md), the same
        # number the summaries and the dashboard show; the gate never re-adjusts.
        if r.p_value is None:
            return False, f"{breach}; no p-value to judge significance, so the breach stands"
        if p_adj is None:
            return False, (
                f"{breach}; p={_fmt(r.p_value)} has no stored adjusted p-value (p_adjusted) "
                "to judge significance, so the breach stands"
            )
        p_txt = f"p={_fmt(r.p_value)} (adjusted {_fmt(p_adj)}, {r.p_family})"
        if r.too_few:
            p_txt += f"; too few samples: {r.too_few}"
        if p_adj < alpha:
            return False, f"{breach} and significant: {p_txt} < alpha {_fmt(alpha)}"
        return True, f"{breach} but not significant: {p_txt} >= alpha {_fmt(alpha)}"
    if gate.when == "ci":
        if r.ci_low is None or r.ci_high is None:
            return False, f"{breach}; no confidence interval, so the point value decides"
        ci = f"CI [{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]"
        if _ci_beyond(op, r.ci_low, r.ci_high, t):
            side = "outside ±" if op == "max_abs" else f"{cmp} "
            return False, f"{breach} and the whole {ci} lies {side}{_fmt(t)}"
        return True, f"{breach} but {ci} reaches {_fmt(t)}"
    return False, breach


def _worst(op: str, values: list[float]) -> float | None:
    if not values:
        return None
    if op in ("max", "max_drop", "max_increase"):
        return max(values)
    if op == "min":
        return min(values)
    return max(values, key=abs)


def _number(r: Result, field: str) -> float | None:
    v = getattr(r, field)
    return None if v is None else float(v)


def _threshold_gate(gate: Gate, sel: list[Result], alpha: float) -> tuple[list, list, list]:
    evidence, good, bad = [], [], []
    for r in sel:
        x = _number(r, gate.field)
        passed, reason = _judge_threshold(gate, r, x, r.p_adjusted, alpha)
        ev = _evidence(r, gate.field)
        if gate.when == "significant":
            ev.update(p_adjusted=r.p_adjusted, p_family=r.p_family)
        ev.update(passed=passed, reason=reason)
        evidence.append(ev)
        excused = passed and x is not None and _breach(gate.operator, x, gate.threshold)
        (good if passed else bad).append((r, x, reason, excused))
    return evidence, good, bad


def _change(gate: Gate, cur: float, base: float) -> float | None:
    if gate.magnitude:
        cur, base = abs(cur), abs(base)
    delta = base - cur if gate.operator == "max_drop" else cur - base
    if gate.change == "absolute":
        return delta
    if base == 0:
        return 0.0 if delta <= 0 else None  # any worsening from 0 is an undefined ratio
    return delta / abs(base)


def _regression_gate(
    gate: Gate, sel: list[Result], base_sel: list[Result]
) -> tuple[list, list, list, int]:
    base_by_key: dict[tuple, Result] = {}
    for b in base_sel:
        if result_key(b) in base_by_key:
            log.warning("gate %s: baseline has duplicate result %s", gate.name, _where(b))
        base_by_key.setdefault(result_key(b), b)
    evidence, good, bad, compared = [], [], [], 0
    kind = "relative " if gate.change == "relative" else ""
    what = "drop" if gate.operator == "max_drop" else "increase"
    seen = set()
    for r in sel:
        key = result_key(r)
        seen.add(key)
        ev = _evidence(r, gate.field)
        b = base_by_key.get(key)
        if b is None:
            ev.update(baseline=None, change=None, passed=True, reason="new: not in the baseline")
            evidence.append(ev)
            continue
        compared += 1
        x, xb = _number(r, gate.field), _number(b, gate.field)
        ch = None if x is None or xb is None else _change(gate, x, xb)
        if x is None or xb is None:
            passed, reason = False, f"{gate.field} is null in this run or the baseline"
        elif ch is None:
            passed, reason = False, "baseline is 0, so a relative change is undefined"
        else:
            passed = ch <= gate.threshold
            verb = "within" if passed else "exceeds"
            reason = (
                f"{kind}{what} {_fmt(ch)} ({_fmt(xb)} -> {_fmt(x)}) {verb} {_fmt(gate.threshold)}"
            )
        ev.update(baseline=xb, change=ch, passed=passed, reason=reason)
        evidence.append(ev)
        (good if passed else bad).append((r, ch, reason, False))
    for key, b in base_by_key.items():
        if key in seen:
            continue
        ev = _evidence(b, gate.field)
        ev.update(baseline=ev.pop("value"), value=None, change=None)
        if gate.allow_missing:
            ev.update(passed=True, reason="in the baseline, missing here (allow_missing)")
            good.append((b, None, ev["reason"], True))
        else:
            ev.update(passed=False, reason="in the baseline but missing from this run")
            bad.append((b, None, ev["reason"], False))
        evidence.append(ev)
    return evidence, good, bad, compared


def _listing(entries: list) -> str:
    listed = "; ".join(f"{_where(r)}: {reason}" for r, _, reason, _ in entries[:_MAX_LISTED])
    more = f"; and {len(entries) - _MAX_LISTED} more" if len(entries) > _MAX_LISTED else ""
    return listed + more


def _message(gate: Gate, n: int, good: list, bad: list) -> str:
    rule = f"{gate.operator} {_fmt(gate.threshold)}"
    if bad:
        return f"{len(bad)} of {n} selected result(s) fail {rule}: {_listing(bad)}"
    excused = [e for e in good if e[3]]
    note = f"; {len(excused)} excused: {_listing(excused)}" if excused else ""
    return f"all {n} selected result(s) pass {rule}{note}"


def _evaluate_gate(
    policy: Policy, gate: Gate, report: Report, baseline: Report | None
) -> GateResult | str:
    """A verdict, or the reason the gate selects nothing (a string) when that is an error."""
    sel = select(gate, report.results)
    op_symbol = _SYMBOL[gate.operator]
    if gate.is_regression and gate.change == "relative":
        op_symbol = "rel-" + op_symbol
    common = dict(
        name=gate.name,
        suite=label(gate.suite),
        check=label(gate.check),
        metric=label(gate.metric) + ("" if gate.field == "value" else f":{gate.field}"),
        op=op_symbol,
        threshold=gate.threshold,
        dimension=gate.dimension,
    )
    absent = _suite_not_run(gate, report)
    if absent is not None:
        return GateResult(**common, value=None, passed=True, message=absent, selected=0)
    if gate.is_regression:
        assert baseline is not None
        base_sel = select(gate, baseline.results)
        evidence, good, bad, compared = _regression_gate(gate, sel, base_sel)
        empty = compared == 0 and not bad
        values = [c for _, c, _, _ in (bad or good) if c is not None]
    else:
        empty = not sel
    if empty:
        if not gate.allow_empty:
            if sel:  # only a regression gate gets here with a selection: no baseline pairs
                return (
                    f"gate {gate.name!r} selects {len(sel)} result(s) in run {report.run_id} "
                    f"but none in baseline {baseline.run_id}, so nothing is compared "  # type: ignore[union-attr]
                    "(a gate that compares nothing would pass silently; set allow_empty = "
                    "true while the baseline lacks these results)"
                )
            return explain_empty(gate, report.results, where=f"run {report.run_id}")
        msg = "selects no result; skipped (allow_empty = true)"
        if sel:
            msg = "no selected result has a counterpart in the baseline; skipped (allow_empty)"
        return GateResult(**common, value=None, passed=True, message=msg, selected=0)
    if gate.operator == "min_results":
        evidence = [_evidence(r, "value") | {"passed": True, "reason": "counted"} for r in sel]
        passed = len(sel) >= gate.threshold
        verdict = "at least" if passed else "fewer than"
        msg = f"{len(sel)} result(s) selected: {verdict} the {int(gate.threshold)} required"
        return GateResult(
            **common, value=float(len(sel)), passed=passed, message=msg, evidence=evidence,
            selected=len(sel),
        )  # fmt: skip
    if not gate.is_regression:
        evidence, good, bad = _threshold_gate(gate, sel, policy.alpha_for(gate))
        values = [x for _, x, _, _ in (bad or good) if x is not None]
    value = _worst(gate.operator, values)
    return GateResult(
        **common,
        value=value,
        passed=not bad,
        message=_message(gate, len(evidence), good, bad),
        evidence=evidence,
        selected=len(evidence),
    )


def run_suites(report: Report) -> list[str]:
    """The suites the run was asked for (its config), else those its results name."""
    asked = report.config.get("suites")
    if isinstance(asked, list) and all(isinstance(s, str) for s in asked):
        return list(asked)
    named = [r.suite for r in report.results] + [e.suite for e in report.check_errors]
    if report.suite != "all":
        named += report.suite.split("+")
    return list(dict.fromkeys(named))


def _suite_not_run(gate: Gate, report: Report) -> str | None:
    """``not assessed: ...`` when the gate's suite selector names known suites none of which
    ran (a run of other suites is not judged by it), else None. A pattern matching no known
    suite is left to the empty-selection error: it is a typo, not a suite left out."""
    if gate.suite is None:
        return None
    from audit.suites import suite_names  # the registry only; no suite module is imported

    ran = run_suites(report)
    if any(fnmatch.fnmatchcase(s, p) for s in ran for p in gate.suite):
        return None
    if not any(fnmatch.fnmatchcase(s, p) for s in suite_names() for p in gate.suite):
        return None
    return (
        f"not assessed: suite {label(gate.suite)} is not in this run "
        f"(suites run: {', '.join(ran) or 'none'})"
    )


# Settings that change sampled numbers (permutations, bootstrap): a baseline run with other
# values differs by sampling noise alone, so regression gates would compare noise.
_SAMPLING_KEYS = ("seed", "quick", "suite_options")


def _warn_if_not_comparable(report: Report, baseline: Report) -> None:
    differ = [k for k in _SAMPLING_KEYS if report.config.get(k) != baseline.config.get(k)]
    if differ:
        log.warning(
            "run %s and baseline %s differ in %s; regression gates then compare sampling "
            "noise too (run both with the same config)",
            report.run_id,
            baseline.run_id,
            ", ".join(differ),
        )


def evaluate(policy: Policy, report: Report, *, baseline: Report | None = None) -> list[GateResult]:
    """Judge ``report`` by every gate of ``policy``.

    Parameters
    ----------
    policy : Policy
        The validated policy.
    report : Report
        The run to judge.
    baseline : Report, optional
        The run that regression gates (``max_drop``/``max_increase``) compare with.

    Returns
    -------
    list of GateResult
        One per gate, in policy order.

    Raises
    ------
    ConfigError
        A regression gate without a baseline, a failed baseline run, or gates that select
        no result without ``allow_empty`` (every such gate is named, with the likely typo).
    """
    needs = policy.needs_baseline()
    if needs and baseline is None:
        raise ConfigError(
            f"gate(s) {', '.join(map(repr, needs))} compare with a baseline run; "
            "pass --baseline RUN_DIR"
        )
    if baseline is not None and baseline.status == "error":
        raise ConfigError(f"baseline run {baseline.run_id} failed; its results are incomplete")
    if baseline is not None:
        _warn_if_not_comparable(report, baseline)
    out: list[GateResult] = []
    problems: list[str] = []
    for gate in policy.gate:
        verdict = _evaluate_gate(policy, gate, report, baseline)
        if isinstance(verdict, str):
            problems.append(verdict)
        else:
            out.append(verdict)
    if problems:
        raise ConfigError("\n".join(problems))
    return out


def apply_policy(
    report: Report,
    policy: Policy,
    *,
    baseline: Report | None = None,
    baseline_path: str | None = None,
    allow_errors: bool = False,
) -> Report:
    """A copy of ``report`` with ``gates``, ``status`` and ``policy`` filled in.

    ``status`` becomes ``"passed"`` when every gate passes, else ``"failed"``; but a run
    with errored checks (``report.check_errors``) is ``"incomplete"`` whatever its gates
    say, unless ``allow_errors`` (an errored check is not a pass).

    Raises
    ------
    ValueError
        If the run itself failed (``status == "error"``): its results are incomplete.
    ConfigError
        See :func:`evaluate`.
    """
    if report.status == "error":
        raise ValueError(f"run {report.run_id} failed; its results are incomplete, not gated")
    gates = evaluate(policy, report, baseline=baseline)
    info = PolicyInfo(
        name=policy.name,
        path=policy.source,
        sha256=policy.sha256,
        baseline_run_id=baseline.run_id if baseline is not None else None,
        baseline_path=baseline_path,
    )
    status = "passed" if all(g.passed for g in gates) else "failed"
    if report.check_errors and not allow_errors:
        status = "incomplete"
    # The decision, computed once here and stored; every reader reads report.verdict.
    verdict = compute_verdict(report, gates)
    update = {"gates": gates, "status": status, "policy": info, "verdict": verdict}
    return report.model_copy(update=update)
