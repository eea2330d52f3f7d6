"""Builders for the comparison tests (a uniquely named module, not a conftest.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from audit.report import EmbedderInfo, Report, Result

TESTS = Path(__file__).resolve().parents[1]
for _sub in ("usage", "embedders", "dashboard"):  # hosted_fake, bedrock_standin, dash_helpers
    if str(TESTS / _sub) not in sys.path:
        sys.path.insert(0, str(TESTS / _sub))


def res(suite: str, check: str, metric: str, value: float | None, **kw: Any) -> Result:
    """A result with the defaults the suites use (variant raw, no group)."""
    return Result(suite=suite, check=check, metric=metric, value=value, **kw)


def report(
    run_id: str,
    results: list[Result],
    *,
    modalities: tuple[str, ...] = ("text", "image"),
    dim: int = 8,
    suites: tuple[str, ...] = ("retrieval", "bias"),
    status: str = "no-gates",
    errors: list[str] | None = None,
    timings: dict[str, float] | None = None,
    usage: dict[str, Any] | None = None,
) -> Report:
    """A report of one embedder; every suite counts as finished unless ``timings`` says."""
    return Report(
        run_id=run_id,
        tool_version="0",
        suite="+".join(suites),
        embedder=EmbedderInfo(
            spec=run_id, name=run_id, modalities=list(modalities), dim=dim, usage=usage or {}
        ),
        config={"suites": list(suites)},
        timings=timings if timings is not None else {f"suite/{s}": 1.0 for s in suites},
        results=results,
        status=status,  # type: ignore[arg-type]
        errors=errors or [],
    )


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
