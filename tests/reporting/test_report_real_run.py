"""A real quick bias run of ``local`` writes report.html whose numbers are report.json's."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("vl_convert")
from lxml import html as lxml_html
from report_fixture import check_html, close, resolve

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_real_quick_bias_run_writes_its_audit_report(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    argv = ["run", "--suite", "bias", "--quick", "--policy", "default", "--out", str(out)]
    run = subprocess.run(
        [sys.executable, "-m", "audit", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode in (0, 1), run.stdout[-2000:] + run.stderr[-2000:]
    (folder,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    text = (folder / "report.html").read_text(encoding="utf-8")
    check_html(text)
    doc = lxml_html.fromstring(text)
    spans = doc.xpath('//span[@class="num"]')
    assert len(spans) > 100
    for span in spans:
        stored = resolve(data, span.get("data-src"))
        if span.get("data-op") == "exp":
            stored = math.exp(stored)
        assert close(float(span.text_content()), stored), span.get("data-src")
    # Page one shows the stored decision; every dimension has its section.
    decision = doc.xpath('//div[contains(@class, "decision")]')[0].text_content()
    assert decision.startswith(f"Overall: {data['verdict']['overall'].replace('_', ' ')}")
    for dim in ("fairness", "safety", "robustness", "quality", "privacy", "provenance"):
        assert doc.xpath(f'//section[@id="dim-{dim}"]')
    assert doc.xpath('//section[@id="dim-fairness"]//svg')  # R2's effect-size chart
