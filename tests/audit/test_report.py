import json

import pytest

from audit.report import (
    SCHEMA_VERSION,
    EmbedderInfo,
    GateResult,
    Report,
    Result,
    SchemaVersionError,
    load_report,
    report_json_schema,
)


def _report() -> Report:
    return Report(
        run_id="r1",
        tool_version="0.1.0",
        suite="bias",
        embedder=EmbedderInfo(spec="local", name="local", modalities=["text"], dim=384),
        results=[
            Result(
                suite="bias",
                check="weat/6",
                metric="effect_size",
                value=1.25,
                p_value=0.01,
                ci_low=0.5,
                ci_high=1.7,
                n=16,
                details={"ddof": 1},
            )
        ],
        gates=[
            GateResult(
                name="g",
                check="weat/6",
                metric="effect_size",
                op="<=",
                threshold=0.5,
                value=1.25,
                passed=False,
            )
        ],
        status="failed",
    )


def test_round_trip(tmp_path):
    rep = _report()
    path = rep.save(tmp_path / "run" / "report.json")
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION == 2  # issue 18: test, p_adjusted, ...
    assert data["results"][0]["value"] == 1.25
    back = load_report(path)
    assert back == rep
    assert back.model_dump() == rep.model_dump()


def test_extra_fields_and_nan_rejected(tmp_path):
    data = _report().model_dump()
    data["results"][0]["vaule"] = 3
    with pytest.raises(ValueError, match="vaule"):
        Report.model_validate(data)
    with pytest.raises(ValueError, match="non-finite"):
        Result(suite="s", check="c", metric="m", value=float("nan"))


def test_newer_schema_and_corrupt_json(tmp_path):
    data = _report().model_dump()
    data["schema_version"] = SCHEMA_VERSION + 1
    data["new_field"] = "from the future"
    p = tmp_path / "report.json"
    p.write_text(json.dumps(data))
    with pytest.raises(SchemaVersionError, match="newer"):
        load_report(p)
    p.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_report(p)


def test_json_schema_lists_required_fields():
    schema = report_json_schema()
    assert {"run_id", "tool_version", "suite", "embedder"} <= set(schema["required"])


def test_schema_2_result_fields_round_trip(tmp_path):
    r = Result(
        suite="bias",
        check="seat/weat7",
        metric="effect_size",
        value=-1.35,
        variant="debiased",
        p_value=0.0004,
        p_adjusted=0.004,
        p_family="holm:bias/debiased/seat (m=10)",
        test={"name": "permutation (exact)", "sidedness": "two-sided", "statistic": -2.1},
        too_few=None,
    )
    rep = _report().model_copy(update={"results": [r]})
    back = load_report(rep.save(tmp_path / "report.json"))
    assert back.results[0] == r and back.results[0].test.sidedness == "two-sided"
    with pytest.raises(ValueError, match="sidedness"):
        Result(suite="s", check="c", metric="m", value=1.0, test={"name": "t", "sidedness": "one"})
    with pytest.raises(ValueError, match="non-finite"):
        Result(suite="s", check="c", metric="m", value=1.0, p_adjusted=float("inf"))


def test_version_1_report_is_read_and_its_holm_p_moves_to_p_adjusted(tmp_path):
    # A report as version 1 wrote it: the Holm-adjusted p in details.p_holm.
    data = _report().model_dump(mode="json")
    for k in ("test", "p_adjusted", "p_family", "too_few"):
        data["results"][0].pop(k)
    data.pop("verdict", None)
    for g in data["gates"]:
        g.pop("dimension", None)
    data["schema_version"] = 1
    data["results"][0]["details"] = {"ddof": 1, "p_holm": 0.03}
    data["results"].append({**data["results"][0], "check": "weat/7", "details": {}})
    p = tmp_path / "report.json"
    p.write_text(json.dumps(data))
    rep = load_report(p)
    assert rep.schema_version == 1
    first, second = rep.results
    assert first.p_value == 0.01 and first.p_adjusted == 0.03  # read, not recomputed
    assert first.p_family == "holm:bias/raw (schema 1: every p-value of the variant)"
    assert second.p_adjusted is None and second.p_family is None  # nothing stored: nothing
