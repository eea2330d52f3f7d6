"""The dashboard points of issue 18 ("What was seen" 5), each driven by AppTest on runs
shaped like a real `audit run` of `local` (issue18_runs.py).

Expected values are worked out by hand from the fixture's formulas (issue18_runs.py) or
read back from report.json with the json module, never from the dashboard's helpers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from dash_helpers import goto, plain
from issue18_runs import (
    DEFENSES,
    EPS_255,
    GATE,
    LONG_GROUPS,
    OTHER_WEAT,
    POLICY,
    SELECTOR,
    SOCIAL,
    group_values,
    write_issue18_runs,
)

from dashboard._frames import matching_results, results_frame


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    return write_issue18_runs(tmp_path / "runs")


def _texts(at, kind: str) -> list[str]:
    return [plain(str(e.value)) for e in getattr(at, kind)]


def _frame_with(at, column: str):
    for df in (d.value for d in at.dataframe):
        if column in df.columns:
            return df
    raise AssertionError(f"no table with {column!r}: {[list(d.value) for d in at.dataframe]}")


def _charts(at) -> list[tuple[dict, object]]:
    """Every Altair chart on the page: (its Vega-Lite spec, its data as a DataFrame)."""
    out = []
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in el.proto.datasets]
        out.append((spec, frames[0] if len(frames) == 1 else frames))
    return out


def _selected_run(at) -> str:
    return at.sidebar.selectbox(key="run_select").value


# --- 1. each page opens on the newest run that has its suite ---------------------------


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("overview", "r5-safety"),  # no suite: the newest run
        ("bias", "r2-bias"),  # r5, r4, r3 hold no bias results
        ("redteam", "r3-redteam"),
        ("retrieval", "r4-retrieval"),
        ("safety", "r5-safety"),
    ],
)
def test_page_opens_on_newest_run_with_its_suite(app, runs: Path, page: str, expected) -> None:
    at = goto(app(runs), page)
    assert _selected_run(at) == expected
    assert not [t for t in _texts(at, "info") if "has no" in t]
    assert f"Run {expected}" in " ".join(_texts(at, "caption") + _texts(at, "subheader"))


def test_a_run_the_reader_picked_rules_on_every_page(app, runs: Path) -> None:
    at = goto(app(runs), "bias")
    at.sidebar.selectbox(key="run_select").set_value("r5-safety").run()
    goto(at, "bias")
    assert _selected_run(at) == "r5-safety"
    assert any("Run r5-safety has no bias results" in t for t in _texts(at, "info"))
    goto(at, "redteam")
    assert _selected_run(at) == "r5-safety"


# --- 3. the gate-to-evidence link with a list selector ----------------------------------


def test_list_selector_matches_what_the_gate_selected(runs: Path) -> None:
    from audit.gates import parse_policy, select
    from audit.report import load_report

    report = load_report(runs / "r2-bias" / "report.json")
    gate_result = report.gates[0]
    assert gate_result.check == SELECTOR  # the stored label joins the list with ","
    rows = matching_results(results_frame(report), gate_result.check, gate_result.metric)
    # By hand: weat3..weat10 (8 checks) x raw, debiased, delta; never weat1, weat2, weat11.
    assert sorted(set(rows["check"])) == sorted(SOCIAL) and len(rows) == 8 * 3
    assert not set(rows["check"]) & set(OTHER_WEAT)
    # The gates' own matcher, without its variant selector, picks the same rows.
    gate = parse_policy(POLICY).gate[0].model_copy(update={"variant": None})
    theirs = [(r.check, r.variant) for r in select(gate, report.results)]
    assert sorted(zip(rows["check"], rows["variant"], strict=True)) == sorted(theirs)


def test_failed_gate_with_list_selector_links_to_its_evidence(app, runs: Path) -> None:
    at = app(runs, run="r2-bias")
    stored = json.loads((runs / "r2-bias" / "report.json").read_text())["gates"][0]
    assert stored["passed"] is False and stored["selected"] == 8
    links = {plain(p.proto.label): p.proto for p in at.page_link}
    label = f"Evidence for {GATE}: 8 result(s) on the bias page"  # 8 raw effect sizes
    assert label in links, list(links)
    at = goto(app(runs, run="r2-bias", gate=GATE, check=SELECTOR, metric="effect_size"), "bias")
    assert f"Showing the 8 result(s) behind gate {GATE}: check {SELECTOR}" in " ".join(
        _texts(at, "info")
    )
    evidence = at.dataframe[0].value
    assert sorted(evidence["check"]) == sorted(SOCIAL)
    assert set(evidence["variant"]) == {"raw"}


# --- 4. Compare pairs runs of the same suite --------------------------------------------


def test_compare_pairs_runs_of_the_same_suite(app, runs: Path) -> None:
    at = app(runs)
    at.sidebar.selectbox(key="run_select").set_value("r3-redteam").run()
    goto(at, "compare")
    assert at.selectbox(key="compare-b").value == "r3-redteam"
    # The run just before r3-redteam is r2-bias; the older red-team run is r1-redteam.
    assert at.selectbox(key="compare-a").value == "r1-redteam"


# --- 5. retrieval per-group bars: one size, values / differences / ratios apart ---------


def _group_charts(at) -> dict[str, tuple[dict, object]]:
    return {
        spec["encoding"]["x"]["title"]: (spec, data)
        for spec, data in _charts(at)
        if spec.get("encoding", {}).get("y", {}).get("field") == "row"
    }


def test_retrieval_group_bars_one_size_and_kinds_apart(app, runs: Path) -> None:
    at = goto(app(runs), "retrieval")
    assert at.selectbox(key="retrieval-group-size").value == 384
    for size in (384, 128):
        at.selectbox(key="retrieval-group-size").set_value(size).run()
        charts = _group_charts(at)
        assert len(charts) == 3, list(charts)
        values = {t: d for t, (s, d) in charts.items() if t.startswith("value")}.popitem()[1]
        expect = group_values(size)
        assert dict(zip(values["row"], values["value"], strict=True)) == pytest.approx(expect)
        diff = next(d for t, (s, d) in charts.items() if t.startswith("difference"))
        by_attr = dict(zip(diff["row"], diff["value"], strict=True))
        # By hand: max - min within each attribute.
        scale = 1.0 if size == 384 else 0.5
        assert by_attr == pytest.approx({"gender": 0.4 * scale, "skin_tone": 0.3 * scale})
        ratio = next(d for t, (s, d) in charts.items() if t.startswith("ratio"))
        assert dict(zip(ratio["row"], ratio["value"], strict=True)) == pytest.approx(
            {"gender": 0.5, "skin_tone": 0.5}
        )
        for title, (_spec, data) in charts.items():
            assert set(data["metric"]) == {
                {"v": "recall@10", "d": "recall@10_difference", "r": "recall@10_ratio"}[title[0]]
            }
    value_spec = next(s for t, (s, _) in _group_charts(at).items() if t.startswith("value"))
    assert value_spec["encoding"]["x"]["scale"]["domain"] == [0.0, 1.0]


# --- 6/7. red team: one series per defense, /255 axis, each example once --------------


def test_redteam_one_series_per_defense_on_a_255_axis(app, runs: Path) -> None:
    at = goto(app(runs), "redteam")
    (spec, data), *_ = _charts(at)
    assert spec["encoding"]["x"]["field"] == "eps_255"
    assert spec["encoding"]["x"]["axis"]["values"] == [float(e) for e in EPS_255]
    assert "/255" in spec["encoding"]["x"]["axis"]["labelExpr"]
    series = {
        s: sorted(zip(g["eps_255"], g["value"], strict=True)) for s, g in data.groupby("series")
    }
    assert set(series) == {"raw", *(f"defended · {d}" for d in DEFENSES)}
    for name, points in series.items():  # one point per budget: no zig-zag
        assert [e for e, _ in points] == [float(e) for e in EPS_255], name
    raw = [min(1.0, 0.25 * e / 2) for e in EPS_255]
    for defense, factor in DEFENSES.items():
        got = [v for _, v in series[f"defended · {defense}"]]
        assert got == pytest.approx([r * factor for r in raw])
    table = _frame_with(at, "eps (/255)")
    assert table["eps (/255)"].tolist() == [f"{e}/255" for e in EPS_255]
    assert table["raw - defended · jpeg"].tolist() == pytest.approx([r * 0.5 for r in raw])


def test_redteam_same_example_pair_shown_once(app, runs: Path) -> None:
    at = goto(app(runs), "redteam")
    # Three metrics of the eps 8/255 attack point at one before/after pair: two images.
    assert len(at.get("image")) == 2
    titles = [t.strip("*") for t in _texts(at, "markdown") if "image/pgd" in t]
    assert titles == ["image/pgd · raw · eps 8/255"]


# --- 8. labels drawn in full ------------------------------------------------------------


def test_group_labels_are_not_cut(app, runs: Path) -> None:
    at = goto(app(runs), "retrieval")
    charts = _group_charts(at)
    spec, data = next(v for t, v in charts.items() if t.startswith("value"))
    assert set(LONG_GROUPS) <= set(data["row"])
    assert spec["encoding"]["y"]["axis"]["labelLimit"] == 0  # Vega: 0 = no limit
    assert spec["encoding"]["color"]["legend"]["labelLimit"] == 0


# --- 9. bias: raw vs debiased table and skew bars --------------------------------------


def test_bias_raw_vs_debiased_and_skew_bars(app, runs: Path) -> None:
    at = goto(app(runs), "bias")
    both = _frame_with(at, "|d| reduction (%)").set_index("check")
    assert len(both) == len(SOCIAL) + len(OTHER_WEAT)
    # The debiased embedder is one dimension smaller; both sizes are shown.
    assert set(both["raw dim"]) == {384} and set(both["debiased dim"]) == {383}
    raw = 0.2 + 0.1 * 0  # weat/weat3 is the first check in the fixture
    assert both.loc["weat/weat3", "raw"] == pytest.approx(raw)
    assert both.loc["weat/weat3", "debiased"] == pytest.approx(raw / 2)
    assert both["|d| reduction (%)"].tolist() == pytest.approx([50.0] * len(both))
    skew = [
        data
        for spec, data in _charts(at)
        if spec.get("encoding", {}).get("y", {}).get("field") == "group"
    ]
    assert len(skew) == 1  # one probe at one k
    got = {
        (g, v): x
        for g, v, x in zip(skew[0]["group"], skew[0]["variant"], skew[0]["value"], strict=True)
    }
    expect = {
        (g, v): s * scale
        for g, s in (("man", 0.4), ("woman", -0.6), ("person", 0.1))
        for v, scale in (("raw", 1.0), ("debiased", 0.5))
    }
    assert got == pytest.approx(expect)
