"""``audit report`` and the report.html hook: exit codes, files, the comparison report,
a failed render that loses nothing, and no torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("vl_convert")
from lxml import html as lxml_html
from markdown_it import MarkdownIt
from report_fixture import POLICY, check_html, judged_report

from audit.cli import ExitCode, main
from audit.compare._schema import Cell, Comparison, ComparisonEmbedder, ComparisonRow
from audit.report import load_report

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, name: str = "run1", **update) -> Path:
    report = judged_report(hostile=False).model_copy(update=update)
    folder = tmp_path / name
    report.save(folder / "report.json")
    return folder


def test_report_writes_html_then_markdown_where_asked(tmp_path, capsys) -> None:
    folder = _run(tmp_path)
    assert main(["report", str(folder)]) == ExitCode.OK
    assert capsys.readouterr().out.strip() == str(folder / "report.html")
    check_html((folder / "report.html").read_text(encoding="utf-8"))
    out = tmp_path / "elsewhere" / "audit.md"
    assert main(["report", str(folder / "report.json"), "--format", "md", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Audit report: model") and "## Provenance" in text
    assert not (folder / "report.md").exists()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no report found"),
        ("{not json", "not valid JSON"),
        (json.dumps({"schema_version": 99, "run_id": "x"}), "newer than this tool"),
        (json.dumps({"schema_version": 2, "run_id": "x"}), "is invalid"),
    ],
)
def test_report_exit_2_names_the_bad_report(tmp_path, capsys, content, says) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    if content is not None:
        (folder / "report.json").write_text(content, encoding="utf-8")
    assert main(["report", str(folder)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("audit: error:") and says in err
    assert not (folder / "report.html").exists()


def test_report_exit_2_for_an_unwritable_output(tmp_path, capsys) -> None:
    folder = _run(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["report", str(folder), "--out", str(blocker / "r.html")]) == ExitCode.USAGE
    assert "cannot write the audit report" in capsys.readouterr().err


def test_gate_rewrites_report_html_with_the_new_verdict(tmp_path, capsys) -> None:
    folder = _run(tmp_path, verdict=None, gates=[], status="no-gates")
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    code = main(["gate", str(folder), "--policy", str(policy)])
    # the terminal names the document beside report.json
    assert f"audit report: {folder / 'report.html'}" in capsys.readouterr().out.splitlines()
    stored = load_report(folder / "report.json")
    assert code == ExitCode.GATE_FAILED and stored.verdict.overall == "fail"
    doc = lxml_html.fromstring((folder / "report.html").read_text(encoding="utf-8"))
    decision = doc.xpath('//div[contains(@class, "decision")]')[0].text_content()
    assert decision.startswith("Overall: fail") and stored.verdict.reason in decision


def test_a_failed_render_is_an_error_message_not_a_lost_run(tmp_path, capsys, monkeypatch):
    import audit.reporting

    def broken(*args, **kwargs):
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(audit.reporting, "write_report", broken)
    folder = _run(tmp_path, verdict=None, gates=[], status="no-gates")
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    assert main(["gate", str(folder), "--policy", str(policy)]) == ExitCode.GATE_FAILED
    captured = capsys.readouterr()
    err = captured.err
    assert "cannot write the audit report" in err and "renderer exploded" in err
    assert f"audit report {folder}" in err
    assert "status: failed" in captured.out  # the summary printed...
    assert "audit report: " not in captured.out  # ...but no path to a file not written
    assert load_report(folder / "report.json").verdict.overall == "fail"  # saved
    assert not (folder / "report.html").exists()


def _comparison(root: Path) -> Path:
    folder = root / "compare-x"
    _run(folder, "e1-local")
    _run(folder, "e2-other", verdict=None, gates=[], status="no-gates")

    def emb(label: str, path: str | None, status: str) -> ComparisonEmbedder:
        return ComparisonEmbedder(label=label, spec=label, name=label, path=path, status=status)

    comp = Comparison(
        comparison_id="compare-x",
        tool_version="0",
        suites=["bias"],
        embedders=[
            emb("local", "e1-local/report.json", "failed"),
            emb("other", "e2-other/report.json", "no-gates"),
            emb("evil <script>x</script>", "javascript:alert(1)/report.json", "missing"),
        ],
        rows=[
            ComparisonRow(
                group="Bias", suite="bias", check="weat/weat1", slot="effect_size",
                metrics=["effect_size"], label="WEAT 1 <b>x</b>",
            )
        ],
        cells=[
            [
                Cell(kind="value", text="0.41", value=0.41, ci_low=0.2, ci_high=0.6),
                Cell(kind="not-run", text="n/a"),
                Cell(kind="error", text="error"),
            ]
        ],
    )  # fmt: skip
    (folder / "comparison.json").write_text(comp.model_dump_json(indent=2), encoding="utf-8")
    return folder


def test_comparison_report_lists_each_decision_and_links_each_run(tmp_path) -> None:
    folder = _comparison(tmp_path)
    assert main(["report", str(folder)]) == ExitCode.OK
    text = (folder / "report.html").read_text(encoding="utf-8")
    check_html(text)
    doc = lxml_html.fromstring(text)
    rows = doc.xpath('//h2[@id="decisions"]/following-sibling::table[1]//tr')[1:]
    got = [(r.xpath("./td")[0].text_content(), r.xpath("./td")[3].text_content()) for r in rows]
    assert got == [
        ("local", "fail"),
        ("other", "not assessed"),
        ("evil <script>x</script>", "missing"),
    ]
    hrefs = [a.get("href") for a in doc.xpath("//a")]
    assert hrefs == ["e1-local/report.html", "e2-other/report.html"]  # none for the bad path
    assert not doc.xpath("//script | //b")
    data = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
    for span in doc.xpath('//span[@class="num"]'):
        path = span.get("data-src")  # cells[0][0].value
        row, col, field = path[len("cells[") :].replace("][", " ").replace("].", " ").split()
        stored = data["cells"][int(row)][int(col)][field]
        assert float(span.text_content()) == pytest.approx(stored)
    md = tmp_path / "c.md"
    assert main(["report", str(folder), "--format", "md", "--out", str(md)]) == 0
    rendered = MarkdownIt("commonmark").enable("table").render(md.read_text(encoding="utf-8"))
    md_doc = lxml_html.fromstring(f"<div>{rendered}</div>")
    assert [a.get("href") for a in md_doc.xpath("//a")] == hrefs
    assert "evil <script>x</script>" in md_doc.text_content()


def test_an_invalid_comparison_is_exit_2(tmp_path, capsys) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "comparison.json").write_text('{"schema_version": 1}', encoding="utf-8")
    assert main(["report", str(folder)]) == ExitCode.USAGE
    assert f"comparison {folder} is invalid" in capsys.readouterr().err


def test_audit_report_imports_no_torch(tmp_path) -> None:
    folder = _run(tmp_path)
    code = (
        "import sys; from audit.cli import main; code = main(['report', sys.argv[1]]); "
        "print(int(code), 'torch' in sys.modules)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "0 False"


@pytest.mark.parametrize("status", ["no-gates", "error"])
def test_every_run_gets_report_html_without_a_policy_or_when_it_failed(tmp_path, status):
    from audit.cli._gating import gate_report

    folder = _run(tmp_path, verdict=None, gates=[], status=status, errors=["boom: it broke"])
    report = load_report(folder / "report.json")
    _, code, _ = gate_report(report, folder / "report.json", (None, None, None, False))
    assert code == (ExitCode.OK if status == "no-gates" else ExitCode.RUN_FAILED)
    doc = lxml_html.fromstring((folder / "report.html").read_text(encoding="utf-8"))
    decision = doc.xpath('//div[contains(@class, "decision")]')[0].text_content()
    assert decision.startswith("No policy applied: not assessed.")
    assert ("The run failed" in decision) == (status == "error")
    assert "boom: it broke" in doc.xpath('//header[@id="page-one"]')[0].text_content()


def test_gating_a_comparison_run_renders_the_comparison_report_again(tmp_path, capsys) -> None:
    folder = _comparison(tmp_path)
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    # e2-other had no policy: not assessed; judged now, its decision must change there too
    code = main(["gate", str(folder / "e2-other"), "--policy", str(policy)])
    assert code == ExitCode.GATE_FAILED
    assert f"comparison report: {folder / 'report.html'}" in capsys.readouterr().out
    doc = lxml_html.fromstring((folder / "report.html").read_text(encoding="utf-8"))
    rows = doc.xpath('//h2[@id="decisions"]/following-sibling::table[1]//tr')[1:]
    other = next(r for r in rows if r.xpath("./td")[0].text_content() == "other")
    stored = load_report(folder / "e2-other" / "report.json").verdict.overall
    assert other.xpath("./td")[3].text_content() == stored == "fail"
