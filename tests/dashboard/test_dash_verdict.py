"""Overview shows the stored verdict and offers the audit report as a download (issue 18);
gate evidence is selected by the stored keys, with the selector match kept for version-1
reports.

The run is judged by the real gate code (``audit.gates.apply_policy``); expected values are
read back from report.json with the json module, and result keys are joined by hand.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dash_helpers import plain
from hostile_run import inert_problems
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from audit.gates import apply_policy, parse_policy
from audit.report import DIMENSIONS, EmbedderInfo, GateResult, Report, Result, load_report
from dashboard._frames import gate_evidence, results_frame

RUN = "r-verdict"
HOSTILE = "see ![x](http://tracker.invalid/p.png) <b>now</b> :red[alarm] $x$"
POLICY = """
[[gate]]
name = "weat-social"
suite = "bias"
check = ["weat/weat[3-4]", "weat/weat10"]
metric = "effect_size"
variant = "raw"
max_abs = 0.5
when = "significant"
dimension = "fairness"

[[gate]]
name = "ndcg-floor"
suite = "retrieval"
metric = "ndcg@10"
min = 0.3
dimension = "quality"
"""


def _weat(check: str, value: float, p: float) -> Result:
    return Result(
        suite="bias",
        check=check,
        metric="effect_size",
        value=value,
        variant="raw",
        dim=384,
        modality="text",
        p_value=p,
        p_adjusted=p,
        p_family=f"holm:bias/raw/{check} (m=1)",
    )


def judged_report(run_id: str = RUN) -> Report:
    results = [
        _weat("weat/weat3", 0.9, 0.001),  # fails: |0.9| > 0.5 and significant
        _weat("weat/weat10", 0.7, 0.4),  # breach, not significant: excused
        _weat("weat/weat4", 0.1, 0.5),
        _weat("weat/weat1", 1.5, 0.001),  # not selected by the gate
        Result(suite="retrieval", check="passages", metric="ndcg@10", value=0.6, dim=384),
        Result(suite="retrieval", check="passages", metric="ndcg@10", value=0.5, dim=64),
    ]
    rep = Report(
        run_id=run_id,
        created_at="2026-04-09T00:00:00+00:00",
        tool_version="0.1.0",
        suite="bias+retrieval",
        embedder=EmbedderInfo(spec="local", name="local", modalities=["text"], dim=384),
        results=results,
    )
    return apply_policy(rep, parse_policy(POLICY))


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    judged_report().save(root / RUN / "report.json")
    return root


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The bytes every download button of a run hands to Streamlit, by file name."""
    seen: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes) and filename is not None:
            seen[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return seen


def _key(r: dict) -> str:
    fields = ("suite", "check", "metric", "variant", "modality", "dim", "group")
    return ":".join("-" if r.get(f) is None else str(r[f]) for f in fields)


def _texts(at, kind: str) -> list[str]:
    return [plain(str(e.value)) for e in at.get(kind)]


def test_overview_shows_the_stored_verdict(app, runs: Path) -> None:
    stored = json.loads((runs / RUN / "report.json").read_text())
    verdict = stored["verdict"]
    assert verdict["overall"] == "fail"  # fairness fails, quality passes (by hand above)
    at = app(runs)
    assert f"Overall: fail. {verdict['reason']}" in _texts(at, "error")
    table = next(d.value for d in at.dataframe if "dimension" in d.value.columns)
    assert table["dimension"].tolist() == [d["dimension"] for d in verdict["dimensions"]]
    labels = {"pass": "pass", "fail": "fail", "not_assessed": "not assessed"}
    assert table["status"].tolist() == [labels[d["status"]] for d in verdict["dimensions"]]
    assert table["reason"].tolist() == [d["reason"] for d in verdict["dimensions"]]
    assert table["evidence"].tolist() == [len(d["evidence"]) for d in verdict["dimensions"]]
    dims = {d["dimension"]: d for d in verdict["dimensions"]}
    assert dims["fairness"]["status"] == "fail" and dims["quality"]["status"] == "pass"
    # Each dimension with gates has an expander: its reason as plain text, then the rows
    # behind its evidence keys (keys joined by hand from report.json's results).
    expanders = {plain(str(e.label)): e for e in at.get("expander")}
    fair = expanders["fairness: fail, 1 result(s) of evidence"]
    assert [t.value for t in fair.get("text")] == [dims["fairness"]["reason"]]
    (rows,) = [d.value for d in fair.dataframe]
    wanted = [r for r in stored["results"] if _key(r) in dims["fairness"]["evidence"]]
    assert [(r["check"], r["value"]) for r in wanted] == [("weat/weat3", 0.9)]
    assert rows["check"].tolist() == ["weat/weat3"] and rows["value"].tolist() == [0.9]
    quality = expanders["quality: pass, 2 result(s) of evidence"]
    (qrows,) = [d.value for d in quality.dataframe]
    assert sorted(qrows["value"]) == sorted(
        r["value"] for r in stored["results"] if r["suite"] == "retrieval"
    )
    # ... and links to each of its gates' evidence on the suite page.
    links = [plain(p.proto.label) for p in fair.get("page_link")]
    assert links == ["Evidence for weat-social: 3 result(s) on the bias page"]


def test_no_policy_reads_not_assessed(app, tmp_path: Path) -> None:
    rep = judged_report().model_copy(update={"verdict": None, "gates": [], "policy": None})
    rep.save(tmp_path / "runs" / RUN / "report.json")
    at = app(tmp_path / "runs")
    assert any(t.startswith("Not assessed: no policy was applied") for t in _texts(at, "info"))
    assert not [d for d in at.dataframe if "dimension" in d.value.columns]


def test_hostile_verdict_strings_stay_text(app, tmp_path: Path) -> None:
    rep = judged_report()
    verdict = rep.verdict
    assert verdict is not None
    dims = [d.model_copy(update={"reason": HOSTILE}) for d in verdict.dimensions]
    hostile = verdict.model_copy(update={"reason": HOSTILE, "dimensions": dims})
    rep.model_copy(update={"verdict": hostile}).save(tmp_path / "runs" / RUN / "report.json")
    at = app(tmp_path / "runs")
    boxes = [str(e.value) for e in at.get("error")]
    overall = [b for b in boxes if plain(b).startswith("Overall: fail.")]
    assert overall and plain(overall[0]) == f"Overall: fail. {HOSTILE}"
    assert inert_problems(overall[0]) == []
    mine = [e for e in at.get("expander") if plain(str(e.label)).split(":")[0] in DIMENSIONS]
    assert len(mine) == 2  # fairness and quality have gates
    for e in mine:
        assert inert_problems(str(e.label)) == []
        assert [t.value for t in e.get("text")] == [HOSTILE]  # st.text: never Markdown


def test_download_serves_the_runs_report_html(app, runs: Path, downloads) -> None:
    html = runs / RUN / "report.html"
    html.write_bytes(b"<!doctype html><html><body>the run's own report</body></html>")
    at = app(runs)
    buttons = [b for b in at.get("download_button") if b.label.startswith("Download the audit")]
    assert len(buttons) == 1
    assert downloads[f"{RUN}-report.html"] == html.read_bytes()
    assert any("From the run's report.html" in t for t in _texts(at, "caption"))


def test_download_renders_the_report_when_the_run_has_none(app, runs: Path, downloads) -> None:
    from audit.reporting import render_report

    at = app(runs)
    assert [b for b in at.get("download_button") if b.label.startswith("Download the audit")]
    expected = render_report(load_report(runs / RUN / "report.json"), runs / RUN)
    assert downloads[f"{RUN}-report.html"] == expected.encode("utf-8")
    assert any("From rendered now from report.json" in t for t in _texts(at, "caption"))


def test_a_report_html_older_than_report_json_is_rendered_again(app, runs: Path, downloads) -> None:
    from audit.reporting import render_report

    html = runs / RUN / "report.html"
    html.write_bytes(b"<html>stale: written before the run was re-gated</html>")
    past = (runs / RUN / "report.json").stat().st_mtime_ns - 10**9
    os.utime(html, ns=(past, past))
    app(runs)
    expected = render_report(load_report(runs / RUN / "report.json"), runs / RUN)
    assert downloads[f"{RUN}-report.html"] == expected.encode("utf-8")


# --- evidence by key, and the version-1 path ------------------------------------------------


def test_gate_evidence_is_the_stored_keys() -> None:
    rep = judged_report()
    gate = rep.gates[0]
    keys = [ev["key"] for ev in gate.evidence]
    rows = gate_evidence(results_frame(rep), rep, gate)
    # By hand: weat3, weat10, weat4 raw (the list selector), never weat1.
    assert sorted(rows["check"]) == ["weat/weat10", "weat/weat3", "weat/weat4"]
    assert sorted(keys) == sorted(
        f"bias:{c}:effect_size:raw:text:384:-" for c in ("weat/weat3", "weat/weat10", "weat/weat4")
    )
    # The key alone decides: a gate whose selectors would match everything but whose
    # evidence names one result selects that result only.
    one = gate.model_copy(update={"check": "*", "metric": "*", "evidence": gate.evidence[:1]})
    assert gate_evidence(results_frame(rep), rep, one)["check"].tolist() == ["weat/weat3"]


def test_version_1_gate_without_keys_falls_back_to_the_selectors() -> None:
    rep = judged_report()
    v1_gate = GateResult(
        name="old",
        check="weat/weat[3-4],weat/weat10",
        metric="effect_size",
        op="abs<=",
        threshold=0.5,
        value=0.9,
        passed=False,
        evidence=[{"check": "weat/weat3", "metric": "effect_size", "value": 0.9}],
    )
    rows = gate_evidence(results_frame(rep), rep, v1_gate)
    assert rows["check"].tolist() == ["weat/weat3"]  # the selectors, narrowed by the evidence
    empty = v1_gate.model_copy(update={"evidence": []})
    assert gate_evidence(results_frame(rep), rep, empty).empty  # judged nothing: no rows
