"""The Compare page's embedder table: a comparison folder built here, read back with json.

The folder holds two per-embedder runs (one text+image, one text-only), comparison.json
and comparison.md as `audit run --embedder A --embedder B` writes them, a dry-run plan
folder beside it, and a second, corrupt comparison.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dash_helpers import goto, plain

from audit.compare import RunRef, build_comparison, write_comparison
from audit.report import EmbedderInfo, Report, Result
from dashboard._frames import comparison_frame, comparison_kinds, comparison_values
from dashboard._loader import discover_comparisons, discover_runs

CID = "20260401T000000Z-compare-retrieval+bias-abc123"


def _res(check: str, metric: str, value: float, modality: str, **kw: object) -> Result:
    suite = "bias" if metric == "effect_size" else "retrieval"
    return Result(suite=suite, check=check, metric=metric, value=value, modality=modality, **kw)


def _report(folder: str, spec: str, modalities: list[str], results: list[Result]) -> Report:
    return Report(
        run_id=f"{CID}.{folder}",
        created_at="2026-04-01T00:00:00+00:00",
        tool_version="0.1.0",
        suite="retrieval+bias",
        embedder=EmbedderInfo(
            spec=spec,
            name=spec,
            modalities=modalities,
            dim=16,
            usage={"requests": 7} if spec.startswith("fake") else {},
        ),
        config={"suites": ["retrieval", "bias"], "comparison": CID},
        timings={"suite/retrieval": 1.0, "suite/bias": 1.0},
        results=results,
    )


@pytest.fixture
def comparison_runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    root = runs / CID
    both = [
        _res("passages", "avg_recall", 0.8, "text->text", dim=16, ci_low=0.7, ci_high=0.9),
        _res("emoji", "avg_hit", 0.5, "text->image", dim=16),
        _res("weat/weat6", "effect_size", 1.1, "text", p_value=0.01),
    ]
    text = [
        _res("passages", "avg_recall", 0.6, "text->text", dim=16),
        _res("weat/weat6", "effect_size", -0.2, "text", p_value=0.6),
    ]
    refs = []
    for folder, spec, mods, results in (
        ("e1-local", "local", ["text", "image"], both),
        ("e2-fake-text", "fake:text", ["text"], text),
    ):
        path = _report(folder, spec, mods, results).save(root / folder / "report.json")
        refs.append(RunRef(spec, Report.model_validate_json(path.read_text()), path))
    comp = build_comparison(refs, comparison_id=CID, suites=["retrieval", "bias"], root=root)
    write_comparison(comp, root)
    plan = runs / "20260402T000000Z-plan-bias-def456"
    plan.mkdir()
    (plan / "plan.json").write_text("{}")  # a dry run: no report, not a run
    broken = runs / "20260403T000000Z-compare-bias-000000"
    broken.mkdir()
    (broken / "comparison.json").write_text('{"schema_version": 1, "comparison_id": ')
    # A comparison still going: its first run is written, comparison.json is not yet.
    going = runs / "20260404T000000Z-compare-bias-111111"
    _report("e1-local", "local", ["text"], text).save(going / "e1-local" / "report.json")
    (going / "e2-fake" / "artifacts").mkdir(parents=True)  # the second one, running
    return runs


def test_loader_finds_nested_runs_and_comparisons(comparison_runs: Path) -> None:
    entries = {e.name: e.state for e in discover_runs(comparison_runs)}
    going = "20260404T000000Z-compare-bias-111111"
    assert entries == {  # the plan folder is no run
        f"{CID}/e1-local": "ok",
        f"{CID}/e2-fake-text": "ok",
        f"{going}/e1-local": "ok",
        f"{going}/e2-fake": "missing",
    }
    found = discover_comparisons(comparison_runs)
    assert [(e.name, e.ok) for e in found] == [
        (CID, True),
        ("20260403T000000Z-compare-bias-000000", False),
    ]
    assert "not valid JSON" in found[1].message
    # Pointed at the comparison folder itself, both readers still work.
    assert sorted(e.name for e in discover_runs(comparison_runs / CID)) == [
        "e1-local",
        "e2-fake-text",
    ]
    assert [e.name for e in discover_comparisons(comparison_runs / CID)] == [CID]


def test_frames_follow_comparison_json(comparison_runs: Path) -> None:
    data = json.loads((comparison_runs / CID / "comparison.json").read_text())
    (entry, _) = discover_comparisons(comparison_runs)
    assert entry.comparison is not None
    table = comparison_frame(entry.comparison)
    kinds = comparison_kinds(entry.comparison)
    assert list(table.columns) == ["group", "check", "local", "fake:text"]
    assert table["check"].tolist() == [r["label"] for r in data["rows"]]
    assert table[["local", "fake:text"]].values.tolist() == [
        [c["text"] for c in cells] for cells in data["cells"]
    ]
    assert kinds[["local", "fake:text"]].values.tolist() == [
        [c["kind"] for c in cells] for cells in data["cells"]
    ]
    bars = comparison_values(entry.comparison, "TEXT RETRIEVAL")
    assert bars[["embedder", "value"]].values.tolist() == [["local", 80.0], ["fake:text", 60.0]]
    assert bars["ci_low"].tolist()[0] == pytest.approx(70.0)


def test_compare_page_shows_the_table_with_dashes_greyed(app, comparison_runs: Path) -> None:
    from dashboard.views.compare import KIND_STYLES, _kind_styler

    at = goto(app(comparison_runs), "compare")
    assert at.selectbox(key="comparison-run").value == CID
    data = json.loads((comparison_runs / CID / "comparison.json").read_text())
    table = next(d.value for d in at.dataframe if "fake:text" in d.value.columns)
    by_label = table.set_index("check")
    image = "emoji text->image: Avg (R@1, R@5, R@10), %"
    assert by_label.loc[image, "local"] == "50.0"
    assert by_label.loc[image, "fake:text"] == "-"  # text-only: no image retrieval
    assert by_label.loc["passages text->text: Avg (R@1, R@5, R@10), %", "local"] == (
        "80.0 [70.0, 90.0]"
    )
    assert by_label.loc["weat/weat6: effect size d", "fake:text"] == "-0.20 p=0.600"
    assert by_label.loc["requests sent", "fake:text"] == "7"
    assert by_label.loc["requests sent", "local"] == "n/a"
    assert len(table) == len(data["rows"])
    # "-" cells are greyed, values are not.
    frame = comparison_frame(discover_comparisons(comparison_runs)[0].comparison)
    kinds = comparison_kinds(discover_comparisons(comparison_runs)[0].comparison)
    css = _kind_styler(frame, kinds)._compute().ctx
    dash_row = frame.index[frame["check"] == image][0]
    col = list(frame.columns).index("fake:text")
    assert ("background-color", "#f0f0f0") in css[(dash_row, col)]
    assert KIND_STYLES["value"] == "" and not css.get((dash_row, col - 1))
    # The broken comparison is named, the two-run comparison is still there.
    assert any("20260403T000000Z-compare-bias-000000" in plain(w.value) for w in at.warning)
    assert at.selectbox(key="compare-a").value != at.selectbox(key="compare-b").value
    links = [plain(p.proto.label) for p in at.get("page_link")]  # labels are escaped Markdown
    assert links == [f"Open local ({CID}/e1-local)", f"Open fake:text ({CID}/e2-fake-text)"]


def test_nested_runs_open_on_the_other_pages(app, comparison_runs: Path) -> None:
    at = app(comparison_runs, run=f"{CID}/e2-fake-text")
    assert at.sidebar.selectbox(key="run_select").value == f"{CID}/e2-fake-text"
    goto(at, "bias")
    assert not at.exception
    effect = next(d.value for d in at.dataframe if "effect size" in d.value.columns)
    assert effect["effect size"].tolist() == [-0.2]
