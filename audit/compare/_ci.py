"""CI files of a comparison run: one merged JUnit file and one Markdown job summary."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from audit.compare._writers import comparison_markdown, merge_junit

if TYPE_CHECKING:
    from audit.compare._run import ComparisonOutcome

#: Per run: (JUnit test name, message) when nothing was judged, else None.
Errors = Mapping[Path, tuple[str, str] | None]


def write_comparison_ci(
    outcome: ComparisonOutcome,
    *,
    junit: Path | None = None,
    summary: Path | None = None,
    errors: Errors | None = None,
) -> None:
    """Write the JUnit file (each embedder's gates as its own testsuite) and the summary.

    Each run's own JUnit file goes next to its report (``<run>/junit.xml``); ``junit``
    receives all of them merged. ``summary`` holds the comparison table, then each
    run's Markdown summary.

    Parameters
    ----------
    outcome : ComparisonOutcome
        The finished (gated) comparison.
    junit, summary : Path, optional
        Where to write; nothing is written for None.
    errors : mapping, optional
        Report path -> (test name, message) for runs whose gates were not judged (the
        run failed, or the policy could not be applied).
    """
    from audit.gates import markdown_summary, write_atomic, write_junit, write_junit_error

    errors = errors or {}
    labels = [e.label for e in outcome.comparison.embedders]
    if junit is not None:
        parts: list[tuple[str, Path]] = []
        for i, (label, ref) in enumerate(zip(labels, outcome.runs, strict=True), start=1):
            if ref.report is None or ref.path is None:
                part = outcome.path.parent / f"junit-e{i}.xml"
                message = ref.error or "the run wrote no report"
                write_junit_error(part, name="run", message=f"{ref.spec}: {message}")
            else:
                part = ref.path.parent / "junit.xml"
                error = errors.get(ref.path)
                if error is None and ref.report.status == "error":
                    error = ("run", f"run {ref.report.run_id} failed")
                if error is None:
                    write_junit(ref.report, part)
                else:
                    write_junit_error(part, name=error[0], message=error[1], report=ref.report)
            parts.append((label, part))
        merge_junit(parts, junit)
    if summary is not None:
        text = [comparison_markdown(outcome.comparison)]
        for label, ref in zip(labels, outcome.runs, strict=True):
            text.append(f"\n---\n\n<!-- {label} -->\n")
            if ref.report is None:
                text.append(f"## {label}: no report\n\n{ref.error or ''}\n")
            else:
                text.append(markdown_summary(ref.report, path=str(ref.path)))
        write_atomic(summary, "".join(text))
