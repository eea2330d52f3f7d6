"""Builders for the gate tests: results, reports and run folders made in the test itself.

A uniquely named module rather than a conftest.py (pytest registers every rootless
conftest.py under one module name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.gates import Gate, Policy
from audit.report import EmbedderInfo, Report, Result


def res(
    check: str,
    value: float | None,
    *,
    suite: str = "bias",
    metric: str = "effect_size",
    variant: str = "raw",
    dim: int | None = 384,
    modality: str | None = "text",
    group: str | None = None,
    p: float | None = None,
    ci: tuple[float, float] | None = None,
    n: int | None = None,
    adjusted: bool = True,
) -> Result:
    """One result with the bias suite's defaults.

    With ``p`` and ``adjusted`` the result is alone in its multiple-comparison family, so
    its stored ``p_adjusted`` is ``p`` itself (Holm over m = 1); ``adjusted=False`` leaves
    it unadjusted, like a result no suite adjusted.
    """
    alone = p is not None and adjusted
    return Result(
        suite=suite,
        check=check,
        metric=metric,
        value=value,
        variant=variant,
        dim=dim,
        modality=modality,
        group=group,
        p_value=p,
        ci_low=None if ci is None else ci[0],
        ci_high=None if ci is None else ci[1],
        n=n,
        p_adjusted=p if alone else None,
        p_family=f"holm:{suite}/{variant}/{check} (m=1)" if alone else None,
    )


def report(results: list[Result], *, run_id: str = "run-a", status: str = "no-gates") -> Report:
    """A report around ``results``."""
    return Report(
        run_id=run_id,
        tool_version="0.1.0",
        suite="bias",
        embedder=EmbedderInfo(spec="local", name="local", modalities=["text"], dim=384),
        results=results,
        status=status,
        errors=["RuntimeError: boom"] if status == "error" else [],
    )


def save_run(rep: Report, root: Path) -> Path:
    """Save ``rep`` as ``root/<run_id>/report.json``; returns the run folder."""
    rep.save(root / rep.run_id / "report.json")
    return root / rep.run_id


def one_gate(**kw: Any) -> Policy:
    """A policy with a single gate named "g" (``kw`` are its keys)."""
    return Policy(gate=[Gate(name=kw.pop("name", "g"), **kw)])


def weat_results() -> list[Result]:
    """The ten results today's bias suite files (values from a real local-model run)."""
    rows = [
        (1, 1.237, 1e-05, 0.930, 1.507, 50),
        (2, 1.510, 1e-05, 1.293, 1.702, 50),
        (3, 0.237, 0.1735, -0.253, 0.691, 64),
        (4, 0.935, 0.00285, 0.404, 1.395, 32),
        (5, 0.944, 0.00282, 0.381, 1.429, 32),
        (6, 1.021, 0.0161, 0.306, 1.534, 16),
        (7, 0.942, 0.0270, 0.211, 1.505, 16),
        (8, 0.476, 0.1819, -0.612, 1.206, 16),
        (9, 0.423, 0.2435, -0.715, 1.437, 12),
        (10, 1.007, 0.0195, 0.244, 1.606, 16),
    ]
    out = [res(f"weat/weat{i}", d, p=p, ci=(lo, hi), n=n) for i, d, p, lo, hi, n in rows]
    # As the suite stores them: Holm over their family (bias/raw/weat, m = 10), computed once
    # by the suite's rule; gates read p_adjusted (docs/bias-statistics.md).
    from audit.suites._summaries._holm import adjust_families

    adjust_families(out)
    return out
