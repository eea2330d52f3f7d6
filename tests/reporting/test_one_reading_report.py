"""The fifth reader (issue 18): the audit report shows the one stored statistical reading
and the stored verdict of the one-reading fixture, as the run table, the bias summary, the
gates (tests/suites/test_one_reading.py) and the dashboard
(tests/dashboard/test_dash_one_reading.py) do.

Expected values come from the fixture's stored fields, read back from report.json with
``json`` and worded by the rule written out here (too few / significant at 0.05 by the
stored adjusted p), not by the report code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lxml import html as lxml_html
from report_fixture import close, resolve

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "suites"))
from one_reading_fixture import ALPHA, fixture_report

from audit.gates import Gate, Policy, apply_policy
from audit.reporting import render_report


def _judged():
    gate = Gate(
        name="assoc",
        check=["weat/*", "seat/*"],
        variant=["raw", "debiased"],
        max_abs=0.8,
        when="significant",
        dimension="fairness",
    )
    return apply_policy(fixture_report(), Policy(gate=[gate]))


def _word(r: dict) -> str:
    if r["too_few"] is not None:
        return "too few samples"
    return "significant" if r["p_adjusted"] < ALPHA else "not significant"


def test_report_shows_each_stored_adjusted_p_and_its_reading(tmp_path: Path) -> None:
    report = _judged()
    stored = json.loads(report.model_dump_json())
    doc = lxml_html.fromstring(render_report(report, None))
    (table,) = doc.xpath('//table[.//th[starts-with(normalize-space(.), "reading")]]')
    header = [th.text_content().strip() for th in table.xpath(".//th")]
    col = next(i for i, h in enumerate(header) if h.startswith("reading"))
    assert header[col] == f"reading (alpha {ALPHA})"
    tested = [i for i, r in enumerate(stored["results"]) if r["p_value"] is not None]
    seen = set()
    for row in table.xpath(".//tr[td]"):
        cells = row.xpath("./td")
        (span,) = cells[header.index("adjusted p")].xpath('.//span[@class="num"]')
        path = span.get("data-src")
        i = int(path.split("[")[1].split("]")[0])
        assert path == f"results[{i}].p_adjusted"
        r = stored["results"][i]
        assert close(float(span.text_content()), resolve(stored, path)) and r["p_adjusted"]
        assert cells[col].text_content().strip() == _word(r), r["check"]
        seen.add(i)
    assert seen == set(tested)  # every test, raw and debiased, once


def test_report_shows_the_stored_verdict_and_flags_the_over_correction() -> None:
    report = _judged()
    stored = json.loads(report.model_dump_json())["verdict"]
    doc = lxml_html.fromstring(render_report(report, None))
    decision = doc.xpath('//div[contains(@class, "decision")]')[0].text_content()
    assert stored["overall"] == "fail" and stored["reason"] in decision
    rows = doc.xpath('//a[starts-with(@href, "#dim-")]/ancestor::tr[1]')
    shown = {
        r.xpath("./td")[0].text_content().strip(): r.xpath("./td")[1].text_content().strip()
        for r in rows
    }
    for d in stored["dimensions"]:
        assert shown[d["dimension"]] == d["status"].replace("_", " ")
    # the planted over-correction: seat/weat7 +0.11 raw -> -1.35 debiased, significant
    findings = doc.xpath('//ul[@class="findings"]')[0].text_content()
    assert "seat/weat7" in findings and "over-corrected" in findings
