"""`audit run` with several --embedder: layout, cells == reports, failures, gates, CI files.

Embedders are the fake hosted backend (tests/usage/hosted_fake.py): one text+image, one
text-only, one that fails. Expected cells are read back from each report.json with the
json module, selected by the rules docs/compare.md states.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from compare_helpers import read_json
from hosted_fake import register

from audit.cli import EXIT_GATE_FAILED, EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, main
from audit.compare import load_comparison, rebuild_comparison

CONFIG = """
[suite.bias]
probes = ["weat/weat6", "xmodal/emoji-gender-career"]
n_permutations = 200
n_bootstrap = 50
debias = "none"
[suite.retrieval]
datasets = ["builtin:passages", "builtin:emoji-professions"]
n_bootstrap = 20
"""
M1, T1, BOOM = "fakehosted:m1", "fakehosted:t1?text_only=1", "fakehosted:boom?dim=99"


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    register(monkeypatch)
    path = tmp_path / "cfg.toml"
    path.write_text(CONFIG)
    return path


def _run(cfg: Path, out: Path, *embedders: str, extra: tuple[str, ...] = ()) -> int:
    args = ["run", "--suite", "retrieval", "--suite", "bias", "--quick", "--no-progress"]
    args += ["--config", str(cfg), "--out", str(out), *extra]
    for e in embedders:
        args += ["--embedder", e]
    return main(args)


def _expected(rep: dict, check: str, modality: str, metrics: list[str]) -> float | None:
    """The headline value, selected from report.json by the documented rule: variant raw,
    no group, the native size, the first of the row's metrics the report has."""
    native = rep["embedder"]["dim"]
    found = {
        r["metric"]: r["value"]
        for r in rep["results"]
        if r["check"] == check
        and r["modality"] == modality
        and r["variant"] == "raw"
        and r["group"] is None
        and r["dim"] == native
    }
    return next((found[m] for m in metrics if m in found), None)


def test_comparison_of_three_embedders(cfg: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "runs"
    assert _run(cfg, out, M1, T1, BOOM) == EXIT_RUN_FAILED  # one failed: exit 3
    captured = capsys.readouterr()
    assert "fakehosted:boom?dim=99 failed: EmbeddingError" in captured.err
    (root,) = [p for p in out.iterdir() if not p.name.startswith(".")]  # .cache is the cache
    assert "-compare-retrieval+bias-" in root.name
    assert sorted(p.name for p in root.iterdir()) == [
        "comparison.json",
        "comparison.md",
        "e1-fakehosted-m1",
        "e2-fakehosted-t1",
        "e3-fakehosted-boom",
        "report.html",  # the comparison's audit report (audit/reporting)
    ]
    comp = read_json(root / "comparison.json")
    reports = [read_json(root / e["path"]) for e in comp["embedders"]]
    assert [r["embedder"]["spec"] for r in reports] == [M1, T1, BOOM]
    assert [r["status"] for r in reports] == ["no-gates", "no-gates", "error"]
    assert all(r["config"]["comparison"] == root.name for r in reports)
    # Same configuration apart from the embedder.
    strip = ("embedder", "out", "comparison")
    configs = [{k: v for k, v in r["config"].items() if k not in strip} for r in reports]
    assert configs[0] == configs[1] == configs[2]
    assert [e["label"] for e in comp["embedders"]] == [
        "fakehosted:m1",
        "fakehosted:t1",
        "fakehosted:boom",
    ]
    assert comp["schema_version"] == 1 and comp["suites"] == ["retrieval", "bias"]

    rows = comp["rows"]
    for i, row in enumerate(rows):
        cells = comp["cells"][i]
        if row["suite"] == "usage":
            for rep, cell in zip(reports[:2], cells, strict=False):
                assert cell["value"] == rep["embedder"]["usage"].get(row["slot"])
            continue
        assert cells[2]["text"] == "error"  # the failed run has no result for any check
        needs_image = "image" in (row["modality"] or "")
        assert (cells[1]["text"] == "-") == needs_image  # "-" exactly where image is needed
        assert cells[0]["kind"] == "value"
        if row["suite"] == "retrieval":
            pair = row["modality"]
            check = row["check"]
            for rep, cell in zip(reports[:2], cells, strict=False):
                if cell["kind"] == "value":
                    assert cell["value"] == _expected(rep, check, pair, row["metrics"])
    labels = {r["label"] for r in rows}
    assert {
        "passages text->text: Avg (R@1, R@5, R@10), %",
        "emoji-professions text->image: nDCG@10, %",
        "weat/weat6: effect size d",
        "xmodal/emoji-gender-career: effect size d",
        "requests sent",
    } <= labels
    # The bias cells: effect sizes straight from the reports.
    (weat,) = [i for i, r in enumerate(rows) if r["check"] == "weat/weat6"]
    for rep, cell in zip(reports[:2], comp["cells"][weat], strict=False):
        (d,) = [r for r in rep["results"] if r["check"] == "weat/weat6" and r["variant"] == "raw"]
        assert cell["value"] == d["value"] and cell["ci_low"] == d["ci_low"]
    # The printed table and comparison.md carry the same cells.
    md = (root / "comparison.md").read_text()
    assert "| **IMAGE RETRIEVAL** |" in md and "| **BIAS** |" in md
    assert "comparison:" in captured.out and "IMAGE RETRIEVAL" in captured.out
    # The comparison report links each run's own report.html, written by each run's gating.
    html = (root / "report.html").read_text(encoding="utf-8")
    for e in comp["embedders"]:
        link = str(Path(e["path"]).parent / "report.html")
        assert f'href="{link}"' in html and (root / link).is_file()


def test_one_embedder_keeps_the_single_run_layout(cfg: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    assert _run(cfg, out, M1) == EXIT_OK
    runs = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert len(runs) == 1 and (runs[0] / "report.json").is_file()
    assert not list(out.rglob("comparison.json"))
    assert read_json(runs[0] / "report.json")["config"]["comparison"] is None


def test_gates_per_embedder_worst_exit_code_and_merged_junit(cfg: Path, tmp_path: Path):
    policy = tmp_path / "policy.toml"
    # The text-only model measures nDCG@10 on passages only (2 sizes): fewer than 3.
    policy.write_text(
        '[policy]\nname = "needs-images"\n[[gate]]\nname = "ndcg-measured"\ndimension = "quality"\n'
        'suite = "retrieval"\nmetric = "ndcg@10"\nmin_results = 3\n'
    )
    out, junit, summary = tmp_path / "runs", tmp_path / "junit.xml", tmp_path / "summary.md"
    extra = ("--policy", str(policy), "--junit", str(junit), "--summary", str(summary))
    assert _run(cfg, out, M1, T1, extra=extra) == EXIT_GATE_FAILED
    (comp_path,) = out.glob("*/comparison.json")
    comp = read_json(comp_path)
    assert [e["status"] for e in comp["embedders"]] == ["passed", "failed"]
    statuses = [read_json(comp_path.parent / e["path"])["status"] for e in comp["embedders"]]
    assert statuses == ["passed", "failed"]  # each report was gated and saved
    suites = list(ET.parse(junit).getroot().iter("testsuite"))
    assert [s.get("name") for s in suites] == [
        "mme-audit gates: needs-images [fakehosted:m1]",
        "mme-audit gates: needs-images [fakehosted:t1]",
    ]
    assert [s.get("failures") for s in suites] == ["0", "1"]
    text = summary.read_text()
    assert text.startswith("# Embedder comparison") and text.count("## mme-audit:") == 2
    # Rebuilt from the folder's (gated) reports, the table is the one written.
    assert rebuild_comparison(comp_path.parent) == load_comparison(comp_path)


def test_config_file_embedders_list_and_usage_errors(cfg: Path, tmp_path: Path, capsys):
    listed = tmp_path / "listed.toml"
    listed.write_text(f'embedders = ["{M1}", "{T1}"]\n' + CONFIG)
    out = tmp_path / "runs"
    args = ["run", "--suite", "retrieval", "--quick", "--no-progress", "--out", str(out)]
    assert main([*args, "--config", str(listed)]) == EXIT_OK
    (comp_path,) = out.glob("*/comparison.json")
    assert [e["spec"] for e in read_json(comp_path)["embedders"]] == [M1, T1]
    both = tmp_path / "both.toml"
    both.write_text(f'embedder = "local"\nembedders = ["{M1}"]\n')
    assert main([*args, "--config", str(both)]) == EXIT_USAGE
    assert "not both" in capsys.readouterr().err
    assert main([*args, "--embedder", M1, "--embedder", M1]) == EXIT_USAGE
    assert "more than once" in capsys.readouterr().err
    assert main([*args, "--embedder", M1, "--embedder", "lokal"]) == EXIT_USAGE
    assert "did you mean 'local'" in capsys.readouterr().err
    assert len(list(out.glob("*/comparison.json"))) == 1  # usage errors ran nothing
