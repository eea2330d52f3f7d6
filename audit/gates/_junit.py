"""JUnit XML for CI test reporters: one testcase per gate.

The layout follows the common JUnit schema (the Jenkins xunit plugin's junit-10.xsd, which
GitHub, GitLab, Azure DevOps and Jenkins parsers accept): ``<testsuites>`` holding one
``<testsuite>`` with ``<properties>`` and one ``<testcase>`` per gate. A failed gate
carries ``<failure message=... type="GateFailed">`` with the value, threshold and
evidence; an ``allow_empty`` gate that selected nothing is ``<skipped>``. Each check that
errored during the run (``report.check_errors``) is one more testcase with ``<error
type="CheckError">``.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from audit.gates._files import write_atomic
from audit.report import GateResult, Report

_MAX_EVIDENCE_LINES = 200  # a failure text stays readable in CI reporters
# Characters XML 1.0 cannot hold at all; ElementTree would write them and break parsers.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: object) -> str:
    return _INVALID_XML.sub("\ufffd", str(text))


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _evidence_line(ev: dict[str, Any]) -> str:
    mark = "PASS" if ev.get("passed", True) else "FAIL"
    keys = ("check", "metric", "variant", "modality", "dim", "group", "value", "baseline")
    keys += ("change", "p_value", "p_adjusted", "ci_low", "ci_high", "n")
    parts = [f"{k}={_fmt(ev[k])}" for k in keys if ev.get(k) is not None]
    reason = f": {ev['reason']}" if ev.get("reason") else ""
    return f"{mark} {' '.join(parts)}{reason}"


def _gate_text(g: GateResult) -> str:
    lines = [g.message, f"value={_fmt(g.value)} op={g.op} threshold={_fmt(g.threshold)}"]
    if g.dimension is not None:
        lines.append(f"dimension={g.dimension}")
    failing = [e for e in g.evidence if not e.get("passed", True)]
    passing = [e for e in g.evidence if e.get("passed", True)]
    if failing:
        lines.append(f"failing evidence ({len(failing)}):")
        lines += ["  " + _evidence_line(e) for e in failing[:_MAX_EVIDENCE_LINES]]
    if passing:
        lines.append(f"passing evidence ({len(passing)}):")
        lines += ["  " + _evidence_line(e) for e in passing[:_MAX_EVIDENCE_LINES]]
    shown = min(len(failing), _MAX_EVIDENCE_LINES) + min(len(passing), _MAX_EVIDENCE_LINES)
    if shown < len(g.evidence):
        lines.append(f"... {len(g.evidence) - shown} more in report.json")
    return _clean("\n".join(lines))


def _properties(parent: ET.Element, report: Report | None, *, gated: bool) -> None:
    props: dict[str, str] = {}
    if report is not None:
        props |= {
            "run_id": report.run_id,
            "suite": report.suite,
            "embedder": report.embedder.spec,
            "tool_version": report.tool_version,
        }
        if gated:
            props["status"] = report.status
        if gated and report.policy is not None:
            props |= {"policy": report.policy.name, "policy_path": report.policy.path or ""}
            props |= {"policy_sha256": report.policy.sha256 or ""}
            if report.policy.baseline_run_id:
                props["baseline_run_id"] = report.policy.baseline_run_id
        if gated and report.verdict is not None:  # the stored verdict, read, not recomputed
            props["verdict"] = report.verdict.overall
            props |= {f"verdict.{d.dimension}": d.status for d in report.verdict.dimensions}
    node = ET.SubElement(parent, "properties")
    for k, v in props.items():
        ET.SubElement(node, "property", name=_clean(k), value=_clean(v))


def _document(
    suite_name: str, cases: list[ET.Element], report: Report | None, *, gated: bool
) -> str:
    failures = sum(c.find("failure") is not None for c in cases)
    errors = sum(c.find("error") is not None for c in cases)
    skipped = sum(c.find("skipped") is not None for c in cases)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": str(errors)}
    root = ET.Element("testsuites", name="mme-audit", time="0.000", **counts)
    suite = ET.SubElement(
        root,
        "testsuite",
        name=_clean(suite_name),
        skipped=str(skipped),
        time="0.000",
        timestamp=report.created_at if report is not None else "",
        hostname=_clean(socket.gethostname()),
        **counts,
    )
    _properties(suite, report, gated=gated)
    suite.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def junit_xml(report: Report) -> str:
    """The JUnit XML document for a gated report: one testcase per gate.

    ``classname`` is ``suite/check`` (the gate's selectors), ``name`` the gate's name and
    ``group`` the responsible-AI dimension it serves; the suite's properties hold the stored
    verdict (``verdict``, ``verdict.<dimension>``).
    """
    cases = []
    for g in report.gates:
        case = ET.Element(
            "testcase", name=_clean(g.name), classname=_clean(f"{g.suite or '*'}/{g.check}")
        )
        case.set("time", "0.000")
        if g.dimension is not None:
            case.set("group", g.dimension)
        if not g.passed:
            message = f"{g.message} [value={_fmt(g.value)} {g.op} {_fmt(g.threshold)}]"
            fail = ET.SubElement(case, "failure", message=_clean(message), type="GateFailed")
            fail.text = _gate_text(g)
        elif g.selected == 0:
            ET.SubElement(case, "skipped", message=_clean(g.message))
        else:
            ET.SubElement(case, "system-out").text = _gate_text(g)
        cases.append(case)
    for e in report.check_errors:  # an errored check is a CI error, never a silent pass
        case = ET.Element(
            "testcase", name=_clean(e.check), classname=_clean(f"{e.suite}/check"), time="0.000"
        )
        err = ET.SubElement(case, "error", message=_clean(e.error), type="CheckError")
        err.text = _clean(e.error)
        cases.append(case)
    name = f"mme-audit gates: {report.policy.name if report.policy else 'no policy'}"
    return _document(name, cases, report, gated=True)


def write_junit(report: Report, path: str | Path) -> Path:
    """Write :func:`junit_xml` of ``report`` to ``path`` atomically; returns the path."""
    return write_atomic(path, junit_xml(report))


def write_junit_error(
    path: str | Path, *, name: str, message: str, report: Report | None = None
) -> Path:
    """Write a JUnit file with one errored testcase (the run or the policy failed).

    A CI reporter then shows why no gate was judged, instead of a missing file. Only the
    run's identity goes into the properties: its gates, if any, are from an earlier gating.
    """
    case = ET.Element("testcase", name=_clean(name), classname="mme-audit", time="0.000")
    first = message.strip().splitlines()[0] if message.strip() else name
    err = ET.SubElement(case, "error", message=_clean(first), type="AuditError")
    err.text = _clean(message)
    return write_atomic(path, _document("mme-audit gates", [case], report, gated=False))
