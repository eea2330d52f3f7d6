"""Comparison runs: several embedders, the same suites, one Table-2-shaped table.

:func:`run_comparison` runs the suites once per embedder under one comparison folder
and writes ``comparison.json`` (:class:`Comparison`, its own schema_version) and
``comparison.md``. :func:`build_comparison` makes the table from reports: rows = checks
(headline metric per check, grouped like the seed report's Table 2), columns =
embedders, "-" where an embedder does not take a modality the check needs. The rules
that pick each row's headline are in :mod:`audit.compare._headline` and docs/compare.md.

Importing this package loads only the schema (:mod:`audit.compare._schema`: pydantic and
the standard library): the dashboard reads comparison.json through it. Every other name
is loaded on first use (PEP 562), so the comparison runner (:mod:`audit.compare._run`,
which reaches the suites and the backends) is imported only by those who run comparisons.
The import contracts in pyproject.toml (``[tool.importlinter]``) and tests/test_layers.py
keep it that way.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from audit.compare._schema import (
    CELL_TEXT,
    COMPARISON_MD,
    COMPARISON_NAME,
    COMPARISON_SCHEMA_VERSION,
    Cell,
    Comparison,
    ComparisonEmbedder,
    ComparisonRow,
    load_comparison,
)

if TYPE_CHECKING:  # for type checkers and IDEs only; at run time see __getattr__
    from audit.compare._ci import write_comparison_ci
    from audit.compare._headline import GROUP_ORDER, Headline, headlines, needed_modalities
    from audit.compare._run import (
        ComparisonOutcome,
        rebuild_comparison,
        run_comparison,
        run_folder,
    )
    from audit.compare._table import (
        LEGEND,
        USAGE_ROWS,
        RunRef,
        build_comparison,
        column_labels,
        format_value,
        short_label,
    )
    from audit.compare._writers import (
        comparison_markdown,
        comparison_text,
        merge_junit,
        table_rows,
        write_comparison,
    )

#: Lazily loaded public name -> the module that defines it.
_LAZY = {
    "write_comparison_ci": "audit.compare._ci",
    "GROUP_ORDER": "audit.compare._headline",
    "Headline": "audit.compare._headline",
    "headlines": "audit.compare._headline",
    "needed_modalities": "audit.compare._headline",
    "ComparisonOutcome": "audit.compare._run",
    "rebuild_comparison": "audit.compare._run",
    "run_comparison": "audit.compare._run",
    "run_folder": "audit.compare._run",
    "LEGEND": "audit.compare._table",
    "USAGE_ROWS": "audit.compare._table",
    "RunRef": "audit.compare._table",
    "build_comparison": "audit.compare._table",
    "column_labels": "audit.compare._table",
    "format_value": "audit.compare._table",
    "short_label": "audit.compare._table",
    "comparison_markdown": "audit.compare._writers",
    "comparison_text": "audit.compare._writers",
    "merge_junit": "audit.compare._writers",
    "table_rows": "audit.compare._writers",
    "write_comparison": "audit.compare._writers",
}

__all__ = [
    "CELL_TEXT",
    "COMPARISON_MD",
    "COMPARISON_NAME",
    "COMPARISON_SCHEMA_VERSION",
    "GROUP_ORDER",
    "LEGEND",
    "USAGE_ROWS",
    "Cell",
    "Comparison",
    "ComparisonEmbedder",
    "ComparisonOutcome",
    "ComparisonRow",
    "Headline",
    "RunRef",
    "build_comparison",
    "column_labels",
    "comparison_markdown",
    "comparison_text",
    "format_value",
    "headlines",
    "load_comparison",
    "merge_junit",
    "needed_modalities",
    "rebuild_comparison",
    "run_comparison",
    "run_folder",
    "short_label",
    "table_rows",
    "write_comparison",
    "write_comparison_ci",
]


def __getattr__(name: str) -> Any:
    """Import the module behind a lazily loaded name on first access (PEP 562) and cache it."""
    source = _LAZY.get(name)
    if source is None:
        raise AttributeError(f"module 'audit.compare' has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value  # later reads skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
