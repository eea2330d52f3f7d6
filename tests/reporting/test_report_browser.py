"""In Chromium: a report.html whose every report string is hostile opens from disk with no
request leaving the file, no console error and no script, and each section is captured.

The report is rendered by ``audit.reporting.write_report`` from the chart fixture with
hostile names (charts, thumbnails and tables all carry them). A control page with a
loopback image and an inline script proves the check sees what it must refuse. Needs
Debian's chromium and chromium-driver; CI sets MME_REQUIRE_BROWSER=1, which turns a
missing browser into a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("selenium")
pytest.importorskip("vl_convert")

import lxml.html
from charts_fixture import chart_report, write_examples
from PIL import Image

from audit.reporting import write_report
from dashboard.report_screenshots import check_report, main

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
REQUIRED = os.environ.get("MME_REQUIRE_BROWSER") == "1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER) and not REQUIRED,
        reason="needs Debian chromium and chromium-driver (MME_REQUIRE_BROWSER=1 in CI)",
    ),
]


def _browser() -> dict[str, str]:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("MME_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed")
    return {"chromium": CHROMIUM, "chromedriver": CHROMEDRIVER}


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("run")
    report = chart_report(hostile=True)
    write_examples(run, report)
    report.save(run / "report.json")
    return write_report(report, run)


def test_hostile_report_fetches_nothing_and_logs_no_error(hostile_report, tmp_path):
    res = check_report(hostile_report, tmp_path / "shots", **_browser())
    assert res.requests and res.requests[0] == hostile_report.resolve().as_uri()
    assert res.outside == [] and res.errors == [] and res.scripts == 0
    thumbs = [u for u in res.requests if u.startswith("data:image/png;base64,")]
    assert len(thumbs) == 4  # two before/after pairs, inline
    # One PNG for page one and for each <section id>, as the HTML (parsed here) lists them.
    doc = lxml.html.parse(str(hostile_report)).getroot()
    ids = ["page-one", *(s.get("id") for s in doc.iter("section") if s.get("id"))]
    assert [p.name for p in res.screenshots] == [f"{i}.png" for i in ids]
    for p in res.screenshots:
        with Image.open(p) as im:
            assert im.width > 300 and im.height > 20


def test_report_prints_to_pdf_with_a_page_per_section(hostile_report, tmp_path):
    pdfium = pytest.importorskip("pypdfium2")
    res = check_report(hostile_report, None, pdf=tmp_path / "report.pdf", **_browser())
    assert res.ok and res.screenshots == []  # checks only, no PNGs asked for
    doc = lxml.html.parse(str(hostile_report)).getroot()
    sections = [s for s in doc.iter("section") if s.get("id")]
    pdf = pdfium.PdfDocument(str(res.pdf))
    try:
        # page one, then each section starts a new page (the report's @media print rule)
        assert len(pdf) >= 1 + len(sections)
        first = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    assert doc.get_element_by_id("page-one").text_content().split()[0] in first


def test_the_check_sees_a_request_leaving_the_file_and_a_console_error(tmp_path):
    # Only loopback (port 9, nothing listens): the request is made and refused locally.
    page = tmp_path / "bad.html"
    page.write_text(
        "<!doctype html><html><body><header id='page-one'>x</header>"
        "<img src='http://127.0.0.1:9/x.png'><script>console.error('boom')</script>"
        "</body></html>"
    )
    res = check_report(page, None, **_browser())
    assert res.outside == ["http://127.0.0.1:9/x.png"]
    assert any("boom" in e for e in res.errors)
    assert res.scripts == 1 and not res.ok
    assert main([str(page), "--out", str(tmp_path / "o"), *_cli()]) == 1


def test_command_exit_codes(hostile_report, tmp_path):
    assert main([str(hostile_report.parent), "--out", str(tmp_path / "o"), *_cli()]) == 0
    assert (tmp_path / "o" / "page-one.png").is_file()
    assert main([str(tmp_path / "missing"), "--out", str(tmp_path / "o2"), *_cli()]) == 2


def _cli() -> list[str]:
    b = _browser()
    return ["--chromium", b["chromium"], "--chromedriver", b["chromedriver"]]
