"""report.json: the versioned result of a run (schema_version 2; version 1 is still read).

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

SCHEMA_VERSION = 2
#: The oldest schema_version this tool still reads (version 1 is upgraded on load).
MIN_SCHEMA_VERSION = 1
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


Sidedness = Literal["two-sided", "greater", "less"]


class TestInfo(_Strict):
    """The hypothesis test behind a result's ``p_value``.

    ``name`` says which test (``"permutation (exact)"``...), ``sidedness`` its alternative
    (``"greater"``: the statistic is larger than under the null), ``statistic`` the
    observed test statistic (None where the test has no single number).
    """

    __test__ = False  # not a pytest test class despite its name

    name: str
    sidedness: Sidedness
    statistic: float | None = None

    @field_validator("statistic")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError(f"non-finite statistic {v!r}; use null for undefined values")
        return v


class Result(_Strict):
    """One measured number.

    A result that is a hypothesis test carries ``test``, the raw ``p_value`` and
    ``p_adjusted``, the p-value adjusted for multiple comparisons within the family
    named by ``p_family`` (the rule: docs/bias-statistics.md, "Multiple comparisons").
    Readers judge significance by ``p_adjusted`` and never recompute it. ``too_few``
    says why the sample is too small to read the result (None: large enough).
    """

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
    # schema_version 2: one statistical reading, stored once (see the class docstring).
    test: TestInfo | None = None
    p_adjusted: float | None = None
    p_family: str | None = None
    too_few: str | None = None

    @field_validator("value", "ci_low", "ci_high", "p_value", "p_adjusted")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        # JSON has no NaN; an undefined number is null, never a silent NaN.
        if v is not None and not math.isfinite(v):
            raise ValueError(f"non-finite number {v!r}; use null for undefined values")
        return v


#: The level at which the run table, the summaries and the audit report word a stored
#: adjusted p-value as significant (gates use their policy's alpha).
SIGNIFICANCE_ALPHA = 0.05


def reading(r: Result, alpha: float = SIGNIFICANCE_ALPHA) -> str:
    """A result's significance as the readers word it, from its stored fields only:
    ``too few samples`` (a test whose sample is too small to read), ``significant`` /
    ``not significant`` by the stored ``p_adjusted``, ``""`` when it is not a test."""
    if r.too_few is not None and r.p_value is not None:
        return "too few samples"
    if r.p_adjusted is None:
        return ""
    return "significant" if r.p_adjusted < alpha else "not significant"


#: The fields of a result's key, in the order :func:`evidence_key` joins them.
EVIDENCE_KEY_FIELDS = ("suite", "check", "metric", "variant", "modality", "dim", "group")
#: ``details`` entries that tell apart results sharing every key field: the red-team suite
#: stores one result per defense and per budget (``eps`` for L-inf attacks, a query budget,
#: poisons per query) of a check; the run table shows the same settings (audit/summary.py).
SETTING_DETAILS = (
    "defense",
    "budget",
    "eps",
    "query_budget",
    "poisons_per_query",
    "size_label",
    "purpose",
    "k",
)


def result_setting(result: Result) -> str | None:
    """The part of a result's identity kept in ``details`` (``defense=csls,eps=0.0313...``),
    None when it has none. Two results of one report never share key fields and setting."""
    parts = [
        f"{k}={result.details[k]}" for k in SETTING_DETAILS if result.details.get(k) is not None
    ]
    return ",".join(parts) or None


def evidence_key(entry: dict[str, Any] | Result) -> str:
    """A result's key as one string: ``suite:check:metric:variant:modality:dim:group``
    (``-`` for a null field), then ``@setting`` where the result has one
    (:func:`result_setting`); the identity :func:`audit.gates.result_key` uses.

    Gate evidence (``GateResult.evidence[i]["key"]``, whose entries also store
    ``setting``) and the verdict (``evidence``) store it, so a reader finds the judged
    results by key instead of re-matching selectors.
    """
    if isinstance(entry, dict):
        get, setting = entry.get, entry.get("setting")
    else:
        get, setting = (lambda k: getattr(entry, k)), result_setting(entry)
    key = ":".join("-" if get(f) is None else str(get(f)) for f in EVIDENCE_KEY_FIELDS)
    return key if setting is None else f"{key}@{setting}"


#: The responsible-AI dimensions a gate may serve; the verdict has one entry for each.
Dimension = Literal["fairness", "safety", "robustness", "quality", "privacy", "provenance"]
DIMENSIONS: tuple[str, ...] = Dimension.__args__  # type: ignore[attr-defined]
VerdictStatus = Literal["pass", "fail", "not_assessed"]


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
    # schema_version 2: the responsible-AI dimension the gate serves (its policy names it);
    # None only in version-1 reports and gates built in Python without one.
    dimension: Dimension | None = None


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


class DimensionVerdict(_Strict):
    """The verdict of one responsible-AI dimension: its status, why (one sentence), the
    gates that decided it and the results they judged (``evidence``: result keys,
    ``suite:check:metric:variant:modality:dim:group``)."""

    dimension: Dimension
    status: VerdictStatus
    reason: str
    gates: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)


class Verdict(_Strict):
    """The deployment decision: one entry per dimension and the overall one, computed once
    where the gates are judged (:func:`audit.gates.apply_policy`) and read by every reader."""

    overall: VerdictStatus
    reason: str
    dimensions: list[DimensionVerdict]


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
    verdict: Verdict | None = None  # schema_version 2; None when no policy was applied
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
        if v < MIN_SCHEMA_VERSION:
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
    return Report.model_validate(upgrade_report_data(data))


#: ``p_family`` given to the Holm-adjusted p-values a version-1 report kept in
#: ``details.p_holm`` (the bias suite then adjusted over every p-value of one variant).
V1_FAMILY = "holm:{suite}/{variant} (schema 1: every p-value of the variant)"


def upgrade_report_data(data: Any) -> Any:
    """Bring a version-1 report (a parsed JSON object) to the current schema, in place.

    Version 1 kept the bias suite's Holm-adjusted p-value in ``details.p_holm``; it moves
    to ``p_adjusted`` with its family named, so readers read one field. Nothing is
    recomputed. Other versions (and non-objects) are returned unchanged.
    """
    if not isinstance(data, dict) or data.get("schema_version") != 1:
        return data
    for r in data.get("results") or []:
        if not isinstance(r, dict) or r.get("p_adjusted") is not None:
            continue
        details = r.get("details") or {}
        held = details.get("p_holm") if isinstance(details, dict) else None
        if isinstance(held, int | float) and not isinstance(held, bool):
            r["p_adjusted"] = float(held)
            r["p_family"] = V1_FAMILY.format(suite=r.get("suite"), variant=r.get("variant", "raw"))
    return data


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema of report.json (docs and external validators use it)."""
    return Report.model_json_schema()
