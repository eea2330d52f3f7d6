"""report.json: the versioned result of a run (schema_version 1).

Pydantic models with ``extra="forbid"`` so a typo or a foreign field is an error, not a
silently dropped number. The dashboard imports only this module.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1
#: ``passed``/``failed``: every gate passed / a gate failed; ``no-gates``: no policy
#: applied; ``error``: the run itself failed (results are partial, nothing is judged);
#: ``incomplete``: the run finished but some requested checks errored (``check_errors``),
#: and errors were not allowed (``--allow-errors``). See docs/report-schema.md.
Status = Literal["passed", "failed", "no-gates", "error", "incomplete"]


class SchemaVersionError(ValueError):
    """A report written by a newer tool (higher schema_version) than this one reads."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmbedderInfo(_Strict):
    """Which model was audited."""

    spec: str
    name: str
    modalities: list[str]
    dim: int
    matryoshka_dims: list[int] = Field(default_factory=list)
    weights: dict[str, str] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    usage: dict[str, Any] = Field(default_factory=dict)  # requests, characters, media seconds


class Wrappers(_Strict):
    """The wrappers around the embedder (None when absent)."""

    safety: dict[str, Any] | None = None
    projection: dict[str, Any] | None = None
    cache: dict[str, Any] | None = None
    engine: dict[str, Any] | None = None  # --engine ray: shards computed/reused, actors


class Result(_Strict):
    """One measured number."""

    suite: str
    check: str
    metric: str
    value: float | None
    variant: str = "raw"
    dim: int | None = None
    modality: str | None = None
    group: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    n: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("value", "ci_low", "ci_high", "p_value")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        # JSON has no NaN; an undefined number is null, never a silent NaN.
        if v is not None and not math.isfinite(v):
            raise ValueError(f"non-finite number {v!r}; use null for undefined values")
        return v


class GateResult(_Strict):
    """One gate's verdict.

    ``check``, ``metric`` and ``suite`` are the gate's selectors (glob patterns, joined by
    ``,`` when a gate lists several); ``value`` is the deciding number (the worst failing
    one, else the worst overall); ``selected`` counts the results the gate looked at
    (0: an ``allow_empty`` gate that found nothing, reported as skipped); ``evidence``
    holds one entry per selected result.
    """

    name: str
    check: str
    metric: str
    op: str
    threshold: float
    value: float | None
    passed: bool
    message: str = ""
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    suite: str | None = None
    selected: int | None = None


class CheckError(_Strict):
    """A requested check that raised instead of producing results."""

    suite: str
    check: str
    error: str  # "ErrorType: message"


class SkippedItem(_Strict):
    """A dataset item a run left out (``--skip-bad-items``) because it failed the checks
    made before embedding (see :mod:`audit.preflight`)."""

    dataset: str  # the dataset spec (builtin:NAME, a path...)
    side: Literal["corpus", "queries"]
    id: str
    reason: str
    judgements_dropped: int = 0  # qrels rows naming the item, dropped with it


class PolicyInfo(_Strict):
    """Which policy (and baseline run) produced the report's gates."""

    name: str
    path: str | None = None
    sha256: str | None = None
    baseline_run_id: str | None = None
    baseline_path: str | None = None


class Report(_Strict):
    """A whole run's report."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    tool_version: str
    suite: str
    embedder: EmbedderInfo
    wrappers: Wrappers = Field(default_factory=Wrappers)
    config: dict[str, Any] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    results: list[Result] = Field(default_factory=list)
    gates: list[GateResult] = Field(default_factory=list)
    status: Status = "no-gates"
    policy: PolicyInfo | None = None
    errors: list[str] = Field(default_factory=list)
    # What reproducing the numbers needs: tool version, fingerprint, engine, seed, thread
    # settings, platform and numeric package versions (audit/_repro.py; additive, v1).
    reproducibility: dict[str, Any] = Field(default_factory=dict)
    skipped_items: list[SkippedItem] = Field(default_factory=list)
    check_errors: list[CheckError] = Field(default_factory=list)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"report schema_version {v} is newer than this tool reads ({SCHEMA_VERSION}); "
                "upgrade mme-audit"
            )
        if v < 1:
            raise ValueError(f"invalid schema_version {v}")
        return v

    def save(self, path: str | Path) -> Path:
        """Write the report atomically (temp file + rename), pretty-printed."""
        from audit._io import save_json_model

        return save_json_model(self, path)


def load_report(path: str | Path) -> Report:
    """Read and validate a report.json.

    Raises
    ------
    SchemaVersionError
        If the report is newer than this tool.
    ValueError
        If the file is not valid JSON or does not match the schema.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if isinstance(data, dict) and isinstance(data.get("schema_version"), int):
        if data["schema_version"] > SCHEMA_VERSION:  # say so before field errors
            raise SchemaVersionError(
                f"{path}: schema_version {data['schema_version']} is newer than this tool "
                f"reads ({SCHEMA_VERSION}); upgrade mme-audit"
            )
    return Report.model_validate(data)


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema of report.json (docs and external validators use it)."""
    return Report.model_json_schema()
