"""The dashboard's tables, checked against values worked out by hand."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from audit.report import EmbedderInfo, GateResult, Report, Result
from dashboard import RunEntry, discover_runs, read_run
from dashboard._frames import (
    compare_frames,
    compare_gates,
    degradation_table,
    filter_frame,
    group_disparity,
    matching_results,
    metric_direction,
    narrow_to_evidence,
    pivot_metrics,
    results_frame,
    to_csv,
)


def report(results: list[Result], gates: list[GateResult] | None = None) -> Report:
    return Report(
        run_id="r",
        tool_version="0",
        suite="x",
        embedder=EmbedderInfo(spec="h", name="h", modalities=["text"], dim=8),
        results=results,
        gates=gates or [],
    )


def res(check: str, metric: str, value: float | None, **kw) -> Result:
    return Result(suite=kw.pop("suite", "retrieval"), check=check, metric=metric, value=value, **kw)


def test_results_frame_keeps_order_and_reads_budget() -> None:
    df = results_frame(
        report(
            [
                res("a", "recall@1", 0.5, dim=8, details={"eps": 0.03}),
                res("b", "attack_success_rate", 0.2, details={"budget": 4, "artifacts": ["x"]}),
                res("c", "ndcg@10", None, details={"eps": "8/255"}),  # not a number: no budget
            ]
        )
    )
    assert df.index.tolist() == [0, 1, 2]
    assert df["budget"].tolist()[:2] == [0.03, 4.0] and pd.isna(df["budget"].iloc[2])
    assert json.loads(df["details"].iloc[1]) == {"budget": 4, "artifacts": ["x"]}
    assert str(df["dim"].dtype) == "Int64"


def test_degradation_table_by_hand() -> None:
    rows = [
        res("ds", "recall@10", v, dim=d, modality="text->image")
        for d, v in [(1024, 0.80), (512, 0.76), (256, 0.60)]
    ]
    rows.append(res("ds", "recall@10", 0.9, dim=1024, modality="text->image", group="g1"))
    table = degradation_table(results_frame(report(rows)), "recall@10")
    assert list(table.columns) == [
        "check",
        "modality",
        "variant",
        "1024",
        "512",
        "256",
        "256 vs 1024 (%)",
    ]
    assert table.iloc[0][["1024", "512", "256"]].tolist() == [0.80, 0.76, 0.60]
    assert table.iloc[0]["256 vs 1024 (%)"] == pytest.approx(75.0)  # 0.60 / 0.80


def test_pivot_orders_metrics_like_the_papers_and_keeps_missing_keys() -> None:
    rows = [res("ds", m, 0.1, dim=8) for m in ["mrr@10", "ndcg@10", "recall@10", "recall@1"]]
    rows.append(res("ds", "recall@1", 0.3, dim=4, modality="text->audio"))
    wide = pivot_metrics(results_frame(report(rows)), ["check", "modality", "dim"])
    assert list(wide.columns) == [
        "check",
        "modality",
        "dim",
        "recall@1",
        "recall@10",
        "ndcg@10",
        "mrr@10",
    ]
    assert len(wide) == 2  # the row with no modality is kept


def test_group_disparity_gap_and_ratio() -> None:
    rows = [res("ds", "recall@10", v, group=g) for g, v in [("a", 0.9), ("b", 0.6), ("c", 0.75)]]
    table = group_disparity(results_frame(report(rows)), ["check", "metric"])
    assert table.iloc[0]["gap (max-min)"] == pytest.approx(0.3)
    assert table.iloc[0]["ratio (min/max)"] == pytest.approx(0.6 / 0.9)


def test_filter_frame_and_none_label() -> None:
    df = results_frame(report([res("a", "m", 1, modality="text"), res("b", "m", 2)]))
    assert filter_frame(df, modality=["text"])["check"].tolist() == ["a"]
    assert filter_frame(df, modality=["(none)"])["check"].tolist() == ["b"]
    assert len(filter_frame(df, modality=[])) == 2


@pytest.mark.parametrize(
    ("metric", "a", "b", "change"),
    [
        ("recall@10", 0.80, 0.70, "regression"),
        ("recall@10", 0.70, 0.80, "improvement"),
        ("recall@10", 0.80, 0.805, "unchanged"),  # within tolerance 0.01
        ("attack_success_rate", 0.2, 0.4, "regression"),
        ("false_positive_rate", 0.05, 0.01, "improvement"),
        ("effect_size", 0.5, -0.9, "regression"),  # |d| grew though d fell
        ("effect_size", -0.9, 0.5, "improvement"),
        ("max_skew@10", -0.1, 0.4, "regression"),
        ("block_rate", 0.9, 0.5, "changed"),  # good or bad depends on the category
    ],
)
def test_compare_direction(metric: str, a: float, b: float, change: str) -> None:
    fa = results_frame(report([res("c", metric, a)]))
    fb = results_frame(report([res("c", metric, b)]))
    row = compare_frames(fa, fb, tolerance=0.01).iloc[0]
    assert row["change"] == change
    assert row["delta"] == pytest.approx(b - a)


def test_compare_pairs_by_budget_and_flags_one_sided_rows() -> None:
    fa = results_frame(
        report(
            [
                res("pgd", "attack_success_rate", 0.1, details={"eps": 1 / 255}),
                res("pgd", "attack_success_rate", 0.3, details={"eps": 8 / 255}),
                res("old", "recall@1", 0.5),
            ]
        )
    )
    fb = results_frame(
        report(
            [
                res("pgd", "attack_success_rate", 0.3, details={"eps": 8 / 255}),
                res("pgd", "attack_success_rate", 0.1, details={"eps": 1 / 255}),
                res("new", "recall@1", 0.5),
            ]
        )
    )
    out = compare_frames(fa, fb).set_index("check")
    assert out.loc["pgd", "change"].tolist() == ["unchanged", "unchanged"]
    assert out.loc["old", "change"] == "only in A" and out.loc["new", "change"] == "only in B"
    with pytest.raises(ValueError, match="tolerance"):
        compare_frames(fa, fb, tolerance=-1)


def test_compare_gates() -> None:
    def gate(name: str, passed: bool) -> GateResult:
        return GateResult(
            name=name, check="c", metric="m", op="<=", threshold=1, value=0, passed=passed
        )

    a = report([], [gate("g1", True), gate("g2", False), gate("g3", True)])
    b = report([], [gate("g1", False), gate("g2", True), gate("g4", True)])
    out = compare_gates(a, b).set_index("gate")["change"].to_dict()
    assert out == {"g1": "regression", "g2": "improvement", "g3": "only in A", "g4": "only in B"}


def test_gate_evidence_matching() -> None:
    df = results_frame(
        report(
            [
                res("weat/a", "effect_size", 1.0, variant="raw"),
                res("weat/b", "effect_size", 0.2, variant="raw"),
                res("weat/b", "effect_size", 0.1, variant="debiased"),
                res("seat/a", "effect_size", 0.3),
                res("pgd", "asr", 0.3, variant="defended", details={"eps": 0.03}),
                res("pgd", "asr", 0.2, variant="defended", details={"eps": 0.01}),
            ]
        )
    )
    assert matching_results(df, "weat/*", "effect_size")["check"].tolist() == [
        "weat/a",
        "weat/b",
        "weat/b",
    ]
    assert matching_results(df, "seat/a")["value"].tolist() == [0.3]
    rows = matching_results(df, "weat/b")
    assert narrow_to_evidence(rows, [{"variant": "debiased"}])["value"].tolist() == [0.1]
    assert len(narrow_to_evidence(rows, [{"value": 0.1}])) == 2  # no key named: keep all
    assert len(narrow_to_evidence(rows, [{"variant": "nope"}])) == 2  # no match: keep all
    pgd = matching_results(df, "pgd")
    assert narrow_to_evidence(pgd, [{"eps": 0.03}])["value"].tolist() == [0.3]


def test_metric_direction_table() -> None:
    assert metric_direction("ndcg@10") == "higher"
    assert metric_direction("avg_recall") == "higher"
    assert metric_direction("ndkl") == "lower"
    assert metric_direction("min_skew@5") == "abs-lower"
    assert metric_direction("block_rate") is None


def test_csv_round_trips() -> None:
    df = results_frame(report([res("a,b", "recall@1", 0.25, details={"x": "y"})]))
    back = pd.read_csv(io.BytesIO(to_csv(df)))
    assert back.loc[0, "check"] == "a,b" and back.loc[0, "value"] == 0.25
    assert json.loads(back.loc[0, "details"]) == {"x": "y"}


# --- loader ---------------------------------------------------------------------------


def test_loader_states(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    report([res("a", "m", 1)]).model_copy(update={"created_at": "2026-01-02"}).save(
        root / "new" / "report.json"
    )
    report([]).model_copy(update={"created_at": "2026-01-01"}).save(root / "old" / "report.json")
    (root / "busy").mkdir()
    (root / "bad").mkdir()
    (root / "bad" / "report.json").write_bytes(b"\xff\xfe{")
    (root / ".cache").mkdir()
    (root / "stray.txt").write_text("not a run")
    entries = discover_runs(root)
    states = {e.name: e.state for e in entries}
    assert states == {"new": "ok", "old": "ok", "busy": "missing", "bad": "corrupt"}
    assert [e.name for e in entries[:2]] == ["new", "old"]  # newest first
    assert discover_runs(tmp_path / "absent") == []
    # A single run directory works as the runs directory too.
    single = discover_runs(root / "new")
    assert len(single) == 1 and single[0].ok


def test_loader_rereads_a_rewritten_report(tmp_path: Path) -> None:
    run = tmp_path / "r"
    report([res("a", "m", 1)]).save(run / "report.json")
    first = read_run(run)
    report([res("a", "m", 1), res("b", "m", 2)]).save(run / "report.json")
    second = read_run(run)
    assert isinstance(first, RunEntry) and first.report is not None
    assert second.report is not None
    assert (len(first.report.results), len(second.report.results)) == (1, 2)


def test_loader_refuses_huge_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dashboard._loader as loader

    run = tmp_path / "r"
    report([res("a", "m", 1)]).save(run / "report.json")
    monkeypatch.setattr(loader, "MAX_REPORT_BYTES", 10)
    entry = read_run(run)
    assert entry.state == "too-large" and entry.report is None
