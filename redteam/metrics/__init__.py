"""Attack metrics: ranks, Recall@k, success rates, embedding drift, perturbation size."""

from redteam.metrics._distance import (
    cosine_drift,
    edit_distance,
    edit_distances,
    perturbation_norms,
)
from redteam.metrics._report import AttackReport, evaluate_attack
from redteam.metrics._retrieval import (
    as_matrix,
    cosine_scores,
    ranks_of,
    recall_at_k,
    topk_indices,
    unit_rows,
)

__all__ = [
    "AttackReport",
    "as_matrix",
    "cosine_drift",
    "cosine_scores",
    "edit_distance",
    "edit_distances",
    "evaluate_attack",
    "perturbation_norms",
    "ranks_of",
    "recall_at_k",
    "topk_indices",
    "unit_rows",
]
