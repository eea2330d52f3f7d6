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
    assert data["schema_version"] == SCHEMA_VERSION == 1
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
    data["schema_version"] = 2
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
