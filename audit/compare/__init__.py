"""Comparison runs: several embedders, the same suites, one Table-2-shaped table.

:func:`run_comparison` runs the suites once per embedder under one comparison folder
and writes ``comparison.json`` (:class:`Comparison`, its own schema_version) and
``comparison.md``. :func:`build_comparison` makes the table from reports: rows = checks
(headline metric per check, grouped like the seed report's Table 2), columns =
embedders, "-" where an embedder does not take a modality the check needs. The rules
that pick each row's headline are in :mod:`audit.compare._headline` and docs/compare.md.

Importing this package is light (pydantic and the report schema): the dashboard reads
comparison.json through it.
"""

from audit.compare._ci import write_comparison_ci
from audit.compare._headline import GROUP_ORDER, Headline, headlines, needed_modalities
from audit.compare._run import ComparisonOutcome, rebuild_comparison, run_comparison, run_folder
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
