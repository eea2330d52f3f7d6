"""Retrieval quality: exact and approximate top-k search and ranking metrics.

Standalone (numpy and faiss-cpu only; nothing else from ``audit``). See
docs/retrieval-metrics.md for the definitions, the tie-break and the engines.
"""

from audit.retrieval._metrics import (
    DEFAULT_METRICS,
    RetrievalScores,
    evaluate,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    parse_metric,
    recall_at_k,
)
from audit.retrieval._run import run_from_search
from audit.retrieval._search import ENGINES, SearchIndex, SearchResult, recall_vs_exact, search
from audit.retrieval._stream import StreamedEvaluation, evaluate_chunked

__all__ = [
    "DEFAULT_METRICS",
    "ENGINES",
    "RetrievalScores",
    "SearchIndex",
    "SearchResult",
    "StreamedEvaluation",
    "evaluate",
    "evaluate_chunked",
    "hit_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "parse_metric",
    "recall_at_k",
    "recall_vs_exact",
    "run_from_search",
    "search",
]
