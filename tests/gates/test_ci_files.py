"""JUnit XML (parsed by junitparser, validated against the JUnit XSD) and the Markdown summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from gate_fixtures import report, res
from junitparser import Error, Failure, JUnitXml, Skipped

from audit.gates import (
    Gate,
    Policy,
    apply_policy,
    junit_xml,
    markdown_summary,
    write_junit,
    write_junit_error,
    write_summary,
)

XSD = Path(__file__).parent / "data" / "junit-10.xsd"


def _gated():
    rep = report(
        [
            res("weat/weat6", 1.1, p=0.01),
            res("weat/weat8", 1.4, p=0.3),
            res("weat/weat1", 0.2, p=0.4),
            res("retr/a", 0.42, suite="retrieval", metric="ndcg@10"),
        ]
    )
    policy = Policy(
        gate=[
            Gate(name="bias-sig", suite="bias", check="weat/*", max_abs=0.8, when="significant"),
            Gate(name="bias-plain", suite="bias", check="weat/*", max_abs=0.8),
            Gate(name="ndcg-floor", suite="retrieval", metric="ndcg@10", min=0.3),
            Gate(name="later", suite="safety", max=0.1, allow_empty=True),
        ]
    )
    return apply_policy(rep, policy)


def _validate_xsd(path: Path) -> None:
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    doc = etree.parse(str(path))
    assert schema.validate(doc), schema.error_log


def test_junit_one_testcase_per_gate_and_failure_counts(tmp_path):
    gated = _gated()
    path = write_junit(gated, tmp_path / "out" / "gates.xml")
    xml = JUnitXml.fromfile(str(path))
    (suite,) = list(xml)
    expected_failures = sum(not g.passed for g in gated.gates)
    assert expected_failures == 2  # bias-sig (weat6 significant) and bias-plain (6 and 8)
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (4, 2, 0, 1)
    cases = {c.name: c for c in suite}
    assert list(cases) == [g.name for g in gated.gates]
    assert cases["bias-sig"].classname == "bias/weat/*"
    assert cases["ndcg-floor"].classname == "retrieval/*" and cases["ndcg-floor"].is_passed
    (fail,) = cases["bias-sig"].result
    assert isinstance(fail, Failure) and fail.type == "GateFailed"
    # The failure message carries value and threshold; the text carries the evidence.
    assert "value=1.1" in fail.message and "abs<= 0.8" in fail.message
    assert "FAIL check=weat/weat6" in fail.text and "p_value=0.01" in fail.text
    assert "PASS check=weat/weat8" in fail.text and "not significant" in fail.text
    (plain,) = cases["bias-plain"].result
    assert "value=1.4" in plain.message and "2 of 3" in plain.message
    (skip,) = cases["later"].result
    assert isinstance(skip, Skipped)
    props = {p.name: p.value for p in suite.properties()}
    assert props["run_id"] == "run-a" and props["status"] == "failed"
    _validate_xsd(path)


def test_junit_escapes_markup_and_control_characters(tmp_path):
    rep = report([res("odd/<&>\"'\x01|x", 2.0)])
    gated = apply_policy(rep, Policy(gate=[Gate(name="a<b & c", max=1.0)]))
    path = write_junit(gated, tmp_path / "j.xml")
    (suite,) = list(JUnitXml.fromfile(str(path)))
    (case,) = list(suite)
    assert case.name == "a<b & c"
    assert "odd/<&>\"'\ufffd|x" in case.result[0].text  # the control character is replaced
    _validate_xsd(path)
    assert junit_xml(gated).startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_junit_error_file_when_nothing_was_judged(tmp_path):
    path = write_junit_error(
        tmp_path / "e.xml", name="policy", message="policy error: gate 'x' selects no result"
    )
    (suite,) = list(JUnitXml.fromfile(str(path)))
    assert (suite.tests, suite.failures, suite.errors) == (1, 0, 1)
    (case,) = list(suite)
    assert case.name == "policy" and isinstance(case.result[0], Error)
    assert "selects no result" in case.result[0].message
    _validate_xsd(path)


def test_markdown_summary_counts_skipped_gates_apart():
    # A gate that selected nothing (allow_empty) passed nothing: "3 passed" for two real
    # passes and one skip would read as three assessed gates.
    rep = report([res("weat/weat1", 0.5), res("weat/weat2", 2.0)])
    pol = Policy(
        gate=[
            Gate(name="ok", check=["weat/weat1"], max=1.0),
            Gate(name="bad", check=["weat/weat2"], max=1.0),
            Gate(name="none", check=["absent/*"], max=1.0, allow_empty=True),
        ]
    )
    gated = apply_policy(rep, pol)
    states = [(g.passed, g.selected) for g in gated.gates]
    assert states == [(True, 1), (False, 1), (True, 0)]
    text = markdown_summary(gated)
    assert "### Gates: 1 passed, 1 failed, 1 skipped (not assessed)" in text


def test_markdown_summary(tmp_path):
    gated = _gated()
    text = markdown_summary(gated, path="runs/x/report.json")
    assert text.startswith("## mme-audit: ❌ failed")
    # ndcg-floor passes; "later" selected nothing (skipped), so it is not counted as passed
    assert "### Gates: 1 passed, 2 failed, 1 skipped (not assessed)" in text
    gate_rows = [ln for ln in text.splitlines() if ln.startswith(("| ❌", "| ✅", "| ⏭️"))]
    assert len(gate_rows) == len(gated.gates)
    assert "bias-sig: 1 failing result(s)" in text and "bias-plain: 2 failing result(s)" in text
    # A pipe inside a cell is escaped, so every row of a table has the same column count.
    rep = report([res("a|b", 2.0)])
    md = markdown_summary(apply_policy(rep, Policy(gate=[Gate(name="p|q", max=1.0)])))
    tables: list[list[str]] = [[]]
    for ln in md.splitlines():
        if ln.startswith("|"):
            tables[-1].append(ln)
        elif tables[-1]:
            tables.append([])
    tables = [t for t in tables if t]
    assert len(tables) == 4  # verdict (schema 2), gates, failing evidence, results
    for t in tables:
        assert len({ln.replace("\\|", "").count("|") for ln in t}) == 1, t
    assert "p\\|q" in md and "a\\|b" in md
    out = write_summary(gated, tmp_path / "s.md")
    assert out.read_text(encoding="utf-8") == markdown_summary(gated)
    assert "no gates" in markdown_summary(report([res("a", 1.0)]))
