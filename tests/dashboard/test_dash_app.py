"""Every dashboard page driven by Streamlit's AppTest on fixture run directories.

Expected numbers are read back from the fixture report.json files with the json module
(or derived by hand in the comments), never from the dashboard's own helpers.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from dash_helpers import goto, plain, raw_results

from dashboard._demo import BASELINE_ID, CANDIDATE_ID, PARTIAL_ID, RUNNING_ID

PAGES = ["overview", "bias", "retrieval", "safety", "redteam", "compare"]
SUITE_PAGES = ["bias", "retrieval", "safety", "redteam"]


def texts(at, kind: str) -> list[str]:
    return [plain(str(e.value)) for e in getattr(at, kind)]


def frame_with(at, column: str):
    """The first rendered table that has ``column``."""
    for df in (d.value for d in at.dataframe):
        if column in df.columns:
            return df
    raise AssertionError(
        f"no table with column {column!r}: {[list(d.value) for d in at.dataframe]}"
    )


# --- Overview -------------------------------------------------------------------------


def test_overview_lists_runs_with_status_and_gate_counts(app, complete_runs: Path) -> None:
    at = app(complete_runs)
    assert texts(at, "title") == ["Overview"]
    runs = frame_with(at, "gates failed").set_index("run")
    for run_id in (BASELINE_ID, CANDIDATE_ID):
        data = json.loads((complete_runs / run_id / "report.json").read_text())
        row = runs.loc[run_id]
        assert row["status"] == data["status"]
        assert row["results"] == len(data["results"])
        assert row["gates failed"] == sum(not g["passed"] for g in data["gates"])
        assert row["gates passed"] == sum(g["passed"] for g in data["gates"])
    # The newest run (the candidate) is selected: its metrics are shown.
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Status": "failed",
        "Gates passed": "2",
        "Gates failed": "2",
        "Results": "85",
    }
    # Every table has its CSV button.
    assert len(at.get("download_button")) >= 2


def test_overview_failed_gate_links_to_its_evidence(app, complete_runs: Path) -> None:
    at = app(complete_runs)
    errors = texts(at, "error")
    assert any(e.startswith("Gate asr-defended failed") and "0.41" in e for e in errors)
    assert any(e.startswith("Gate weat-effect failed") for e in errors)
    links = {plain(p.proto.label): p.proto for p in at.page_link}
    assert "Evidence for asr-defended: 1 result(s) on the redteam page" in links
    assert "Evidence for weat-effect: 8 result(s) on the bias page" in links  # 4 tests x 2
    link = links["Evidence for asr-defended: 1 result(s) on the redteam page"]
    assert link.page == "redteam"
    query = {k: v[0] for k, v in parse_qs(link.query_string).items()}
    assert query == {
        "run": CANDIDATE_ID,
        "gate": "asr-defended",
        "check": "pgd-image",
        "metric": "attack_success_rate",
    }
    # Follow the link: the red-team page narrows to the defended result at eps 8/255
    # that the gate's evidence names.
    at.query_params.update(query)
    goto(at, "redteam")
    assert "Gate evidence" in texts(at, "subheader")
    evidence = at.dataframe[0].value
    assert len(evidence) == 1
    assert evidence.iloc[0]["variant"] == "defended"
    assert evidence.iloc[0]["value"] == pytest.approx(0.41)


def test_overview_selects_the_run_named_in_the_url(app, complete_runs: Path) -> None:
    at = app(complete_runs, run=BASELINE_ID)
    assert {m.label: m.value for m in at.metric}["Status"] == "passed"
    assert at.sidebar.selectbox[0].value == BASELINE_ID


def test_partial_runs_say_what_is_missing(app, partial_runs: Path) -> None:
    at = app(partial_runs)
    runs = frame_with(at, "gates failed").set_index("run")
    assert runs.loc[RUNNING_ID, "status"] == "missing"
    assert runs.loc[PARTIAL_ID, "suites"] == "bias"
    assert any(t.startswith(f"Run {RUNNING_ID}: no report.json yet") for t in texts(at, "info"))
    assert any("not run: retrieval, safety, redteam" in t for t in texts(at, "caption"))
    for page in ("retrieval", "safety", "redteam"):
        goto(at, page)
        assert texts(at, "info") == [
            f"Run {PARTIAL_ID} has no {page} results (it holds: bias). Pick another run in "
            f"the sidebar, or run `audit run --suite {page}`."
        ]
        assert not at.dataframe
    goto(at, "bias")
    table = frame_with(at, "effect size")
    expected = {
        r["check"]: r["value"]
        for r in raw_results(partial_runs / PARTIAL_ID)
        if r["metric"] == "effect_size"
    }
    assert dict(zip(table["check"], table["effect size"], strict=True)) == expected
    goto(at, "compare")
    assert texts(at, "info")[0].startswith("Comparing needs two readable runs")


@pytest.mark.parametrize("page", PAGES)
def test_empty_runs_dir_gives_a_helpful_message(app, empty_runs: Path, page: str) -> None:
    at = app(empty_runs)
    if page != "overview":
        goto(at, page)
    info = texts(at, "info")
    assert len(info) == 1
    if page == "compare":
        assert info[0].startswith("Comparing needs two readable runs")
    else:
        assert info[0].startswith(f"No runs found in {empty_runs}.")
        assert "audit run --suite bias" in info[0]
    assert not at.dataframe


def test_missing_runs_dir_is_named(app, tmp_path: Path) -> None:
    at = app(tmp_path / "nowhere")
    assert texts(at, "info")[0].startswith(f"The runs directory {tmp_path / 'nowhere'} does not")


def test_corrupt_json_is_reported_and_good_runs_still_show(app, corrupt_runs: Path) -> None:
    at = app(corrupt_runs)
    errors = texts(at, "error")
    assert "Run broken: report.json is not valid JSON" in errors
    alien = next(e for e in errors if e.startswith("Run alien:"))
    assert "does not match the report schema" in alien
    runs = frame_with(at, "gates failed").set_index("run")
    assert runs.loc["broken", "status"] == "corrupt"
    assert runs.loc["alien", "status"] == "invalid"
    assert runs.loc["good", "status"] == "no-gates"
    goto(at, "bias")
    assert frame_with(at, "effect size")["effect size"].tolist() == [0.5]


def test_newer_schema_is_a_clear_warning_not_a_crash(app, newer_runs: Path) -> None:
    at = app(newer_runs)
    assert texts(at, "warning") == [
        # schema_version 2 is current since issue 18, so the future run is version 3.
        "Run future: report schema_version 3 is newer than this dashboard reads (2); "
        "upgrade mme-audit to view it"
    ]
    assert at.sidebar.selectbox[0].options == ["good · bias · no-gates"]  # not "future"
    for page in SUITE_PAGES:
        goto(at, page)  # no exception on any page


def test_only_unreadable_runs(app, tmp_path: Path) -> None:
    (tmp_path / "r" / "x").mkdir(parents=True)
    (tmp_path / "r" / "x" / "report.json").write_text("[]")
    at = app(tmp_path / "r")
    assert "No run has a readable report yet." in texts(at, "warning")
    goto(at, "bias")
    assert texts(at, "warning")[0].startswith("None of the 1 run(s)")


def test_failed_run_shows_its_error_and_escapes_report_text(app, failed_run: Path) -> None:
    at = app(failed_run)
    errors = [e.value for e in at.error]
    assert plain(errors[0]) == "The run itself failed: RuntimeError: boom in retrieval"
    gate = next(e for e in errors if "Gate weat failed" in plain(e))
    # The hostile message is shown as text: escaped, so no image, HTML or colour markup.
    assert "see ![x](http://tracker.invalid/p.png) <b>now</b> :red[alarm]" in plain(gate)
    assert "![" not in gate and "<b>" not in gate and ":red[" not in gate
    assert at.code[0].value.startswith("Traceback")
    evidence = at.dataframe[-1].value
    assert evidence.iloc[0]["nested"] == '{"k": [1, 2]}'


def test_incomplete_run_shows_errored_checks_and_skipped_items(app, incomplete_run: Path) -> None:
    at = app(incomplete_run)
    (err,) = [e.value for e in at.error]
    assert plain(err).startswith("1 requested check(s) errored: the run is incomplete")
    assert "1 bad item(s) were left out" in plain(at.warning[0].value)
    frames = [d.value for d in at.dataframe]
    errored = next(f for f in frames if "check" in f.columns and "error" in f.columns)
    assert errored.iloc[0].to_dict() == {
        "suite": "bias", "check": "skew/:red[x]", "error": "ValueError: bad"
    }  # fmt: skip
    skipped = next(f for f in frames if "reason" in f.columns)
    assert (skipped.iloc[0]["id"], skipped.iloc[0]["reason"]) == ("c7", "empty file")


# --- Suite pages ----------------------------------------------------------------------


def test_bias_page_effect_sizes_significance_and_debiasing(app, complete_runs: Path) -> None:
    at = goto(app(complete_runs), "bias")
    raw = [r for r in raw_results(complete_runs / CANDIDATE_ID) if r["metric"] == "effect_size"]
    table = frame_with(at, "effect size")
    assert len(table) == len(raw) == 8
    got = {
        (c, v): (d, lo, hi)
        for c, v, d, lo, hi in table[
            ["check", "variant", "effect size", "ci_low", "ci_high"]
        ].itertuples(index=False)
    }
    for r in raw:
        assert got[(r["check"], r["variant"])] == pytest.approx(
            (r["value"], r["ci_low"], r["ci_high"])
        )
    # Issue 18: the count reads the stored Holm-adjusted p-value (family: one variant's
    # WEAT tests, m = 4), no longer the raw p. By hand: raw p 0.0004, 0.003, 0.21, 0.64 ->
    # 4*0.0004, 3*0.003, 2*0.21, 0.64 = 0.0016, 0.009, 0.42, 0.64: 2 below 0.05 (as raw);
    # debiased p 0.066, 0.17, 1, 1 -> 0.264, 0.51, 1, 1: none below 0.1 (raw counted
    # 0.066 < 0.1 as a third).
    assert sorted(r["p_adjusted"] for r in raw if r["variant"] == "raw") == pytest.approx(
        [0.0016, 0.009, 0.42, 0.64]
    )
    caption = texts(at, "caption")[1]
    assert "2 of 8 tests significant at 0.05 by the stored adjusted p-value" in caption
    assert "holm:bias/raw/weat (m=4)" in caption and "holm:bias/debiased/weat (m=4)" in caption
    at.sidebar.selectbox(key="bias-alpha").set_value(0.1).run()
    assert "2 of 8 tests significant at 0.1" in texts(at, "caption")[1]
    both = frame_with(at, "|d| reduction (%)").set_index("check")
    assert both.loc["weat/weat1", "raw"] == pytest.approx(1.61)
    assert both.loc["weat/weat1", "debiased"] == pytest.approx(0.483)
    assert both.loc["weat/weat1", "|d| reduction (%)"] == pytest.approx(70.0)
    skew = frame_with(at, "group")
    assert set(skew["metric"]) >= {"max_skew@10", "min_skew@10", "ndkl"}
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert any('"ci_low"' in s and '"x2"' in s for s in specs)  # the forest plot's whiskers


def test_bias_filter_by_variant(app, complete_runs: Path) -> None:
    at = goto(app(complete_runs), "bias")
    at.sidebar.multiselect(key="bias-variant").set_value(["debiased"]).run()
    table = frame_with(at, "effect size")
    assert set(table["variant"]) == {"debiased"} and len(table) == 4
    assert "Raw vs debiased" not in texts(at, "subheader")


def test_retrieval_degradation_table_and_size_filter(app, complete_runs: Path) -> None:
    at = goto(app(complete_runs), "retrieval")
    raw = raw_results(complete_runs / CANDIDATE_ID)

    def value(check: str, metric: str, dim: int) -> float:
        return next(
            r["value"]
            for r in raw
            if r["check"] == check
            and r["metric"] == metric
            and r["dim"] == dim
            and r["group"] is None
        )

    metrics = frame_with(at, "recall@1")
    assert list(metrics.columns[4:]) == ["recall@1", "recall@5", "recall@10", "ndcg@10", "mrr@10"]
    assert len(metrics) == 8  # 2 datasets x 4 sizes
    degr = frame_with(at, "256 vs 3072 (%)").set_index("check")
    assert at.selectbox(key="retrieval-degr-metric").value == "recall@10"
    for check in ("emoji-professions", "speech"):
        full, small = value(check, "recall@10", 3072), value(check, "recall@10", 256)
        assert degr.loc[check, "3072"] == pytest.approx(full)
        assert degr.loc[check, "256"] == pytest.approx(small)
        assert degr.loc[check, "256 vs 3072 (%)"] == pytest.approx(100 * small / full)
    groups = frame_with(at, "gap (max-min)")
    assert groups.iloc[0]["gap (max-min)"] == pytest.approx(0.88 - 0.79)
    at.sidebar.multiselect(key="retrieval-dim").set_value([256]).run()
    metrics = frame_with(at, "recall@1")
    assert metrics["dim"].tolist() == [256, 256]
    assert "Degradation by embedding size" not in texts(at, "subheader")  # one size left


def test_safety_page_rates_evasion_and_group_false_positives(app, complete_runs: Path) -> None:
    at = goto(app(complete_runs), "safety")
    rates = frame_with(at, "block_rate").set_index("check")
    assert rates.loc["nsfw-image", "block_rate"] == pytest.approx(0.94)
    assert rates.loc["nsfw-image", "precision"] == pytest.approx(0.97)
    evasion = frame_with(at, "metric")
    assert set(evasion["check"]) == {"evasion/leetspeak", "evasion/homoglyph"}
    fp = frame_with(at, "dialect:en-IN")
    # 0.03 x 1.6 and 0.03 x 0.8 in the fixture: gap 0.024, ratio 0.5.
    assert fp.iloc[0]["gap (max-min)"] == pytest.approx(0.024)
    assert fp.iloc[0]["ratio (min/max)"] == pytest.approx(0.5)


def test_redteam_page_asr_by_budget_examples_and_hubs(app, complete_runs: Path) -> None:
    at = goto(app(complete_runs), "redteam")
    asr = frame_with(at, "raw - defended")
    pgd = asr[asr["check"] == "pgd-image"].sort_values("budget")
    raw = [r for r in raw_results(complete_runs / CANDIDATE_ID) if r["check"] == "pgd-image"]
    expect_raw = sorted((r["details"]["eps"], r["value"]) for r in raw if r["variant"] == "raw")
    assert pgd["budget"].tolist() == pytest.approx([eps for eps, _ in expect_raw])
    assert pgd["raw"].tolist() == pytest.approx([v for _, v in expect_raw])
    assert pgd["raw - defended"].iloc[-1] == pytest.approx(0.96 - 0.41)
    assert len(at.get("vega_lite_chart")) == 3  # one ASR-vs-budget chart per attack
    images = at.get("image")
    assert len(images) == 2
    assert len(at.get("audio")) == 2
    assert "Flagged hubs" in texts(at, "subheader")
    hubs = frame_with(at, "k_occurrence")
    assert hubs["id"].tolist() == ["doc-17", "doc-203", "doc-96"]


def test_redteam_filter_by_variant(app, complete_runs: Path) -> None:
    at = goto(app(complete_runs), "redteam")
    at.sidebar.multiselect(key="redteam-variant").set_value(["defended"]).run()
    asr = frame_with(at, "budget")
    assert "raw" not in asr.columns and len(asr) == 4


# --- Compare --------------------------------------------------------------------------


def test_compare_counts_and_highlights_regressions(app, complete_runs: Path) -> None:
    at = goto(app(complete_runs), "compare")
    assert at.selectbox(key="compare-a").value == BASELINE_ID
    assert at.selectbox(key="compare-b").value == CANDIDATE_ID
    metrics = {m.label: m.value for m in at.metric}
    # By hand from the fixture: WEAT-1 |d| grows (raw, debiased: 2); retrieval loses 2%
    # more per size step below 3072 (2 datasets x 3 sizes x 5 metrics: 30); the defended
    # PGD success rate rises at all 4 budgets (4). Nothing improves.
    assert metrics["Regressions"] == "36"
    assert metrics["Improvements"] == "0"
    assert metrics["In one run only"] == "0"
    gates = frame_with(at, "passed A").set_index("gate")
    assert gates.loc["asr-defended", "change"] == "regression"
    assert gates.loc["benign-fpr", "change"] == "unchanged"
    table = frame_with(at, "delta")
    assert table["change"].iloc[0] == "regression"  # regressions first
    weat = table[(table["check"] == "weat/weat1") & (table["variant"] == "raw")].iloc[0]
    assert (weat["A"], weat["B"], weat["delta"]) == pytest.approx((1.42, 1.61, 0.19))
    at.sidebar.multiselect(key="compare-suite").set_value(["redteam"]).run()
    assert {m.label: m.value for m in at.metric}["Regressions"] == "4"
    at.sidebar.number_input(key="compare-tol").set_value(0.2).run()
    assert {m.label: m.value for m in at.metric}["Regressions"] == "0"  # deltas <= 0.19


def test_compare_same_run_twice_is_refused(app, complete_runs: Path) -> None:
    at = goto(app(complete_runs), "compare")
    at.selectbox(key="compare-a").set_value(CANDIDATE_ID).run()
    assert texts(at, "warning") == ["Pick two different runs."]


# --- Binding --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "warning"),
    [
        ("127.0.0.1", None),
        ("::1", None),
        ("", "Streamlit is listening on all network interfaces"),
        ("0.0.0.0", "Listening on 0.0.0.0"),
    ],
)
def test_sidebar_warns_when_not_bound_to_loopback(
    app, complete_runs: Path, address: str, warning: str | None
) -> None:
    from streamlit import config

    config.set_option("server.address", address or None)
    at = app(complete_runs)
    side = [plain(w.value) for w in at.sidebar.warning]
    if warning is None:
        assert side == []
    else:
        assert len(side) == 1 and side[0].startswith(warning)
