"""Private parts of the retrieval suite: options, evaluation core, latency.

The terminal summary tables of a retrieval report are :mod:`audit.suites._summaries.retrieval`.
"""

from audit.suites._retrieval._eval import (
    GROUP_DEFINITIONS,
    Disparity,
    Estimate,
    GroupSplit,
    Ranking,
    bootstrap_counts,
    group_disparity,
    mean_estimate,
    per_query,
    rank_corpus,
    split_by_group,
)
from audit.suites._retrieval._latency import CallTimer, LatencySample, measure_latency, uncached
from audit.suites._retrieval._options import (
    DEFAULT_ENGINE,
    ENGINE_PARAMS,
    MIN_QUERIES,
    QUICK_DATASETS,
    RetrievalOptions,
    default_datasets,
    default_sizes,
    too_few_queries,
    truncation_kind,
)
from audit.suites._summaries.retrieval import (
    LATENCY_PREFIX,
    degradation_table,
    latency_table,
    search_table,
)

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_PARAMS",
    "GROUP_DEFINITIONS",
    "LATENCY_PREFIX",
    "MIN_QUERIES",
    "QUICK_DATASETS",
    "CallTimer",
    "Disparity",
    "Estimate",
    "GroupSplit",
    "LatencySample",
    "Ranking",
    "RetrievalOptions",
    "bootstrap_counts",
    "default_datasets",
    "default_sizes",
    "degradation_table",
    "group_disparity",
    "latency_table",
    "mean_estimate",
    "measure_latency",
    "per_query",
    "rank_corpus",
    "search_table",
    "split_by_group",
    "too_few_queries",
    "truncation_kind",
    "uncached",
]
