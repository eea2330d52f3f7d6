"""The audit report (audit.reporting): well-formed, self-contained HTML; every number equal
to report.json at its ``data-src``; report strings only ever text (HTML and Markdown); the
planted over-correction and the failed gate on page one."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

pytest.importorskip("vl_convert")
from charts_fixture import write_examples
from lxml import html as lxml_html
from markdown_it import MarkdownIt
from report_fixture import DATASET, PLANTED, check_html, close, judged_report, resolve, write_run

from audit.report import Result
from audit.reporting import md_escape, render_report, write_report


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A judged hostile run on disk with red-team examples; its HTML and Markdown."""
    root = tmp_path_factory.mktemp("report")
    report = judged_report()
    folder = write_run(root, report)
    write_examples(folder, report)
    report.save(folder / "report.json")  # write_examples pointed details at the PNGs
    html_path = write_report(report, folder)
    md_path = write_report(report, folder, fmt="md")
    return folder, html_path.read_text(encoding="utf-8"), md_path.read_text(encoding="utf-8")


def test_html_is_well_formed_with_one_document(run) -> None:
    _, text, _ = run
    parser = check_html(text)
    assert parser.counts.get("script", 0) == 0  # no script at all, hostile or ours
    assert parser.counts.get("svg", 0) >= 4  # the charts are inline SVG
    assert text.startswith("<!DOCTYPE html>")


def test_every_number_equals_report_json(run) -> None:
    folder, text, _ = run
    # report.json read independently of the pydantic models.
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    spans = lxml_html.fromstring(text).xpath('//span[@class="num"]')
    assert len(spans) > 50
    srcs = set()
    for span in spans:
        src, shown = span.get("data-src"), span.text_content()
        stored = resolve(data, src)
        assert isinstance(stored, int | float), (src, stored)
        if span.get("data-op") == "exp":  # a log-ratio skew shown as its ratio
            stored = math.exp(stored)
        assert close(float(shown), stored), (src, shown, stored)
        srcs.add(src)
    # The stored adjusted p-values and the gate thresholds are among them.
    assert any(s.endswith(".p_adjusted") for s in srcs)
    assert any(re.fullmatch(r"gates\[\d+\]\.threshold", s) for s in srcs)


def test_nothing_leaves_the_file(run) -> None:
    _, text, _ = run
    parser = check_html(text)
    for tag, name, value in parser.attrs:
        assert not name.startswith("on"), (tag, name)  # no event handler anywhere
        if name in ("src", "href", "xlink:href", "action", "srcset"):
            ok = value.startswith(("#", "data:image/png;base64,")) or value == "report.html"
            assert ok, (tag, name, value[:80])
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", text)
    assert "@import" not in text and "<link" not in text


def test_report_strings_are_text_in_html(run) -> None:
    _, text, _ = run
    doc = lxml_html.fromstring(text)
    shown = doc.text_content()
    for planted in PLANTED:
        assert planted in shown, planted  # shown, literally
    assert not doc.xpath("//script | //img[not(starts-with(@src, 'data:image/png'))] | //b")
    assert "49jinja" not in shown  # the template expression was not evaluated


def test_report_strings_are_text_in_markdown(run) -> None:
    _, _, md = run
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    doc = lxml_html.fromstring(f"<div>{rendered}</div>")
    # Our own raw HTML is only the anchors (<a id=...>); every link is an in-page one.
    for a in doc.xpath("//a"):
        assert a.get("href", "#").startswith("#") or a.get("href") == "report.html", a.get("href")
    assert not doc.xpath("//script | //img | //b")
    shown = doc.text_content()
    for planted in PLANTED:
        assert " ".join(planted.split()) in " ".join(shown.split()), planted


def test_md_escape_round_trips_through_commonmark() -> None:
    parser = MarkdownIt("commonmark", {"html": True})
    for text in (*PLANTED, "a | b", "*x* _y_ `z` # h", "1. not a list", "&amp; &lt;"):
        out = parser.renderInline(md_escape(text))
        assert lxml_html.fromstring(f"<p>{out}</p>").text_content() == text


def test_page_one_flags_the_over_correction_and_the_failed_gate(run) -> None:
    folder, text, md = run
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    deb = next(
        i
        for i, r in enumerate(data["results"])
        if r["metric"] == "effect_size" and r["variant"] == "debiased" and r["value"] < -1
    )
    doc = lxml_html.fromstring(text)
    page_one = doc.xpath('//header[@id="page-one"]')[0]
    words = page_one.text_content()
    assert "Sign reversal after debiasing (over-correction)" in words
    srcs = {s.get("data-src") for s in page_one.xpath('.//span[@class="num"]')}
    assert f"results[{deb}].value" in srcs and f"results[{deb}].p_adjusted" in srcs
    # The stored verdict fails fairness on the debiased gate; page one says so and links
    # the gate's evidence, an anchor that exists.
    assert data["verdict"]["overall"] == "fail"
    assert "bias-debiased" in words
    links = [a.get("href") for a in page_one.xpath(".//a")]
    gate_links = [h for h in links if h.startswith("#gate-")]
    assert gate_links and all(doc.xpath(f'//*[@id="{h[1:]}"]') for h in gate_links)
    assert "Sign reversal after debiasing" in md.split("## Fairness")[0]


def test_quality_table_has_groups_as_rows_and_sizes_as_columns(run) -> None:
    _, text, _ = run
    doc = lxml_html.fromstring(text)
    section = doc.xpath('//section[@id="dim-quality"]')[0]
    headers = [
        [th.text_content() for th in t.xpath(".//tr[1]/th")] for t in section.xpath(".//table")
    ]
    assert ["group", "dim 384", "dim 64"] in headers
    # The too-few result of the fixture is flagged in its cell, beside its stored value.
    rows = section.xpath(".//tr[td]")
    (row,) = [tr for tr in rows if tr.xpath("./td")[0].text_content().startswith("profession=")]
    cell = row.xpath("./td")[1]
    assert cell.text_content().startswith("0.25 (too few queries (n=2)")
    assert cell.xpath('./span[@class="num"]')[0].get("data-src").endswith(".value")


def test_no_policy_reads_not_assessed() -> None:
    report = judged_report(hostile=False).model_copy(update={"verdict": None, "gates": []})
    text = render_report(report, None, fmt="md")
    assert "**No policy applied: not assessed.**" in text
    check_html(render_report(report, None))


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        render_report(judged_report(hostile=False), None, fmt="pdf")  # type: ignore[arg-type]


def test_a_gate_without_a_dimension_gets_its_own_section() -> None:
    report = judged_report(hostile=False)
    loose = report.gates[0].model_copy(update={"dimension": None, "name": "v1-gate"})
    report = report.model_copy(update={"gates": [*report.gates, loose]})
    doc = lxml_html.fromstring(render_report(report, None))
    section = doc.xpath('//section[@id="dim-none"]')[0]
    assert not loose.passed and "Gate v1-gate fail" in section.text_content()
    md = render_report(report, None, fmt="md")
    assert "### Gate v1\\-gate: fail" in md.split("## Gates without")[1]


def test_provenance_and_caveats_read_the_dataset_records(run) -> None:
    _, text, _ = run
    doc = lxml_html.fromstring(text)
    prov = doc.xpath('//section[@id="provenance"]')[0]
    rows = {
        tr.xpath("./th")[0].text_content(): tr.xpath("./td")[0]
        for tr in prov.xpath(".//tr[th and td]")
    }
    assert rows["sha256"].text_content() == DATASET["sha256"]
    assert rows["card.description"].text_content() == DATASET["card"]["description"]
    assert rows["counts.corpus"].xpath('./span[@class="num"]')[0].get("data-src") == (
        "reproducibility.datasets[0].counts.corpus"
    )
    caveats = doc.xpath('//section[@id="caveats"]')[0].text_content()
    assert "Data set tiny: limitations: Emoji stand in for people." in caveats
    assert f"Data set tiny: description: {DATASET['card']['description']}" in caveats


def test_a_gate_that_selected_nothing_reads_skipped_not_pass() -> None:
    # An allow_empty gate with no result passed nothing: badge and heading say skipped.
    report = judged_report(hostile=False)
    empty = report.gates[0].model_copy(
        update={"name": "empty-gate", "passed": True, "selected": 0, "evidence": []}
    )
    report = report.model_copy(update={"gates": [*report.gates, empty]})
    doc = lxml_html.fromstring(render_report(report, None))
    (heading,) = [h for h in doc.xpath("//h3") if "Gate empty-gate" in h.text_content()]
    (badge,) = heading.xpath('.//span[contains(@class, "badge")]')
    assert badge.text_content() == "skipped" and "pass" not in heading.text_content()
    md = render_report(report, None, fmt="md")
    assert "### Gate empty\\-gate: skipped \\(not assessed\\)" in md  # escaped as text


def test_evidence_rows_point_at_the_result_each_gate_judged() -> None:
    # Defended red-team results differ only by the defense in details; each evidence row
    # must show the result the gate judged (its stored value), not the first look-alike.
    from audit.gates import Gate, Policy, apply_policy

    base = judged_report(hostile=False)
    hub = [
        Result(
            suite="redteam", check="index/hub", metric="attack_success_rate", value=v,
            variant="defended", modality="text->image", details={"defense": d, "budget": 1},
        )
        for d, v in (("hubness", 0.0), ("csls", 0.303), ("mutual-proximity", 0.273))
    ]  # fmt: skip
    report = base.model_copy(update={"results": hub, "gates": [], "verdict": None})
    gate = Gate(name="hub", suite="redteam", variant="defended", max=0.5, dimension="robustness")
    report = apply_policy(report, Policy(gate=[gate]))
    doc = lxml_html.fromstring(render_report(report, None))
    (table,) = doc.xpath('//h3[starts-with(normalize-space(.), "Gate hub")]/following::table[1]')
    srcs = [s.get("data-src") for s in table.xpath('.//span[@class="num"]')]
    shown = [s for s in srcs if s and s.startswith("results[") and s.endswith("].value")]
    for i, r in enumerate(hub):
        assert f"results[{i}].value" in shown, f"the {r.details['defense']} row is missing"
    # each row says which defense it is (the only label that differs between them)
    header = [th.text_content().strip() for th in table.xpath(".//th")]
    col = header.index("setting")
    settings = [tr.xpath("./td")[col].text_content() for tr in table.xpath(".//tr[td]")]
    assert settings == [f"defense={r.details['defense']},budget=1" for r in hub]
