"""A comparison run: the same suites on several embedders, one after another.

``out/<comparison-id>/`` holds one normal run folder per embedder (``e1-<name>/report.json``,
...), then ``comparison.json`` and ``comparison.md``. Every run has the same configuration
but its embedder; they share the embedding cache safely, since cache keys carry each
embedder's fingerprint. A failing embedder does not stop the others.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from audit.compare._schema import Comparison
from audit.compare._table import RunRef, build_comparison, short_label
from audit.compare._writers import write_comparison
from audit.config import RunConfig
from audit.report import Report

log = logging.getLogger(__name__)

#: Called with each finished run's report and path; returns the report to show (e.g.
#: gated by a policy and saved again).
GateHook = Callable[[Report, Path], Report]


@dataclass
class ComparisonOutcome:
    """What a comparison run produced.

    Attributes
    ----------
    comparison : Comparison
        The table.
    path : Path
        Where comparison.json lies (comparison.md beside it).
    runs : list of RunRef
        Each embedder's run, in column order.
    """

    comparison: Comparison
    path: Path
    runs: list[RunRef]

    @property
    def failed(self) -> bool:
        """Whether any embedder's run failed."""
        return any(r.report is None or r.report.status == "error" for r in self.runs)


def run_folder(index: int, spec: str) -> str:
    """The folder of the ``index``-th (1-based) embedder's run: ``e1-local``, ``e2-hf-clip``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", short_label(spec)).strip("-.")[:48] or "embedder"
    return f"e{index}-{slug}"


def run_comparison(
    config: RunConfig,
    embedders: Sequence[str],
    *,
    gate: GateHook | None = None,
    label: str | None = None,
) -> ComparisonOutcome:
    """Run ``config.suites`` once per embedder and write the comparison table.

    Parameters
    ----------
    config : RunConfig
        The shared configuration (its ``embedder`` is replaced per run).
    embedders : sequence of str
        At least two distinct embedder specs, in column order.
    gate : callable, optional
        Applied to each finished report (e.g. judge a policy and save); its return value
        is what the table shows. Its exceptions propagate.
    label : str, optional
        The suites part of the ids (default: from ``config.suites``).

    Returns
    -------
    ComparisonOutcome

    Raises
    ------
    ValueError
        For fewer than two embedders, or one given twice.
    """
    from audit.runner import new_run_id, run_suites, suite_label

    specs = list(embedders)
    if len(specs) < 2:
        raise ValueError(f"a comparison needs at least two embedders, got {specs}")
    twice = sorted({s for s in specs if specs.count(s) > 1})
    if twice:
        raise ValueError(f"embedder(s) given more than once: {', '.join(twice)}")
    label = label or suite_label(config.suites)
    comparison_id = new_run_id(f"compare-{label}")
    root = Path(config.out) / comparison_id
    root.mkdir(parents=True, exist_ok=False)
    refs: list[RunRef] = []
    for i, spec in enumerate(specs, start=1):
        folder = run_folder(i, spec)
        one = replace(config, embedder=spec, out=root, comparison=comparison_id, dry_run=False)
        log.info("comparison %s: embedder %d of %d: %s", comparison_id, i, len(specs), spec)
        try:
            outcome = run_suites(
                one, label=label, run_id=f"{comparison_id}.{folder}", folder=folder
            )
        except Exception as exc:  # run_suites keeps its own failures; this is the rest
            log.debug("comparison run of %s failed", spec, exc_info=True)
            text = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
            refs.append(RunRef(spec, None, None, error=text))
            continue
        report = outcome.report
        if gate is not None:
            report = gate(report, outcome.path)
        refs.append(RunRef(spec, report, outcome.path))
    comparison = build_comparison(
        refs, comparison_id=comparison_id, suites=config.suites, root=root
    )
    path = write_comparison(comparison, root)
    return ComparisonOutcome(comparison=comparison, path=path, runs=refs)


def rebuild_comparison(folder: str | Path) -> Comparison:
    """Build the table again from the reports a comparison folder holds (e.g. re-gated).

    The columns are the runs listed in the folder's comparison.json, in its order.
    """
    from audit.compare._schema import load_comparison
    from audit.report import load_report

    root = Path(folder)
    old = load_comparison(root)
    refs = []
    for e in old.embedders:
        path = root / e.path if e.path else None
        if path is not None and path.is_file():
            refs.append(RunRef(e.spec, load_report(path), path))
        else:
            refs.append(RunRef(e.spec, None, path, error=e.error or "no report.json"))
    return build_comparison(
        refs,
        comparison_id=old.comparison_id,
        suites=old.suites,
        root=root,
        created_at=old.created_at,
    )
