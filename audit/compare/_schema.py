"""comparison.json: one table of headline results, rows = checks, columns = embedders.

Its own ``schema_version`` (separate from report.json's). Pydantic models with
``extra="forbid"``, like the report, so the dashboard validates what it reads. This
module imports only pydantic and the standard library (the dashboard imports it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

COMPARISON_SCHEMA_VERSION = 1
COMPARISON_NAME = "comparison.json"
COMPARISON_MD = "comparison.md"

#: ``value``: a number; ``unsupported`` ("-"): the embedder does not take a modality the
#: check needs; ``error``: the run failed before the check; ``not-run`` ("n/a"): the check
#: was not run or not measured for this embedder.
CellKind = Literal["value", "unsupported", "error", "not-run"]
Scale = Literal["percent", "signed", "plain", "count"]
CELL_TEXT = {"unsupported": "-", "error": "error", "not-run": "n/a"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComparisonEmbedder(_Strict):
    """One column: the embedder and the run that measured it.

    ``path`` is the run's report.json relative to the comparison folder; ``status`` the
    run's status (``"missing"`` when no report was written at all).
    """

    label: str
    spec: str
    name: str
    modalities: list[str] = Field(default_factory=list)
    dim: int = 0
    dims: list[int] = Field(default_factory=list)
    usage: dict[str, Any] = Field(default_factory=dict)
    run_id: str | None = None
    path: str | None = None
    status: str = "missing"
    error: str | None = None


class ComparisonRow(_Strict):
    """One row: a check and the one metric shown for it.

    ``slot`` names what the row shows (``avg``, ``ndcg@10``, ``effect_size``, ...);
    ``metrics`` lists the result metrics the cell takes, first found wins (retrieval's
    "Avg" is ``avg_hit`` where queries have several relevant items, else ``avg_recall``);
    ``modalities`` are the ones the check needs (a column lacking one shows "-").
    """

    group: str
    suite: str
    check: str
    slot: str
    metrics: list[str]
    label: str
    modality: str | None = None
    modalities: list[str] = Field(default_factory=list)
    variant: str | None = None
    scale: Scale = "plain"


class Cell(_Strict):
    """One cell: the value (with CI and p where the result has them) or why there is none."""

    kind: CellKind
    text: str
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    n: int | None = None
    dim: int | None = None
    metric: str | None = None
    reason: str | None = None


class Comparison(_Strict):
    """A whole comparison run's table."""

    schema_version: int = COMPARISON_SCHEMA_VERSION
    comparison_id: str
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    tool_version: str
    suites: list[str] = Field(default_factory=list)
    embedders: list[ComparisonEmbedder]
    rows: list[ComparisonRow] = Field(default_factory=list)
    cells: list[list[Cell]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v > COMPARISON_SCHEMA_VERSION:
            raise ValueError(
                f"comparison schema_version {v} is newer than this tool reads "
                f"({COMPARISON_SCHEMA_VERSION}); upgrade mme-audit"
            )
        if v < 1:
            raise ValueError(f"invalid schema_version {v}")
        return v

    @model_validator(mode="after")
    def _shape(self) -> Comparison:
        if len(self.cells) != len(self.rows):
            raise ValueError(f"{len(self.rows)} rows but {len(self.cells)} rows of cells")
        width = len(self.embedders)
        for i, row in enumerate(self.cells):
            if len(row) != width:
                raise ValueError(f"row {i} has {len(row)} cells for {width} embedders")
        return self

    def cell(self, row: int, column: int | str) -> Cell:
        """The cell of row ``row`` in a column given by index or label."""
        if isinstance(column, str):
            labels = [e.label for e in self.embedders]
            if column not in labels:
                raise KeyError(f"no embedder column {column!r}; columns: {labels}")
            column = labels.index(column)
        return self.cells[row][column]

    def find_rows(self, *, suite: str | None = None, check: str | None = None) -> list[int]:
        """Indices of the rows of a suite and/or check."""
        return [
            i
            for i, r in enumerate(self.rows)
            if (suite is None or r.suite == suite) and (check is None or r.check == check)
        ]

    def save(self, path: str | Path) -> Path:
        """Write atomically (temp file + rename), pretty-printed."""
        from audit._io import save_json_model

        return save_json_model(self, path)


def load_comparison(path: str | Path) -> Comparison:
    """Read and validate a comparison.json (a folder holding one is accepted too).

    Raises
    ------
    ValueError
        If the file is not JSON, is newer than this tool, or does not match the schema
        (pydantic's ValidationError is a ValueError).
    """
    path = Path(path)
    if path.is_dir():
        path = path / COMPARISON_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > COMPARISON_SCHEMA_VERSION:
        raise ValueError(
            f"{path}: comparison schema_version {version} is newer than this tool reads "
            f"({COMPARISON_SCHEMA_VERSION}); upgrade mme-audit"
        )
    return Comparison.model_validate(data)
