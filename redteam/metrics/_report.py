"""One summary of an attack run: success, retrieval under attack, drift, size, cost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from redteam.metrics._distance import cosine_drift
from redteam.metrics._retrieval import cosine_scores, ranks_of


@dataclass(frozen=True)
class AttackReport:
    """What an attack did to retrieval, ready for JSON.

    Attributes
    ----------
    attack : str
        Registered attack name (or a free label).
    params : dict
        Parameters the attack ran with (eps, steps, budget, seed, ...).
    n : int
        Number of attacked queries (or items).
    k : int
        Cut-off of the untargeted criterion and of Recall@k.
    targeted : bool
        Whether success means "target becomes top-1" (True) or "relevant leaves top-k".
    success_rate : float
        Successes over eligible rows (NaN when none is eligible). Untargeted: eligible rows
        have the relevant item in the clean top-k. Targeted: the target is not top-1 clean.
    n_eligible, n_success : int
        The counts behind ``success_rate``.
    recall_clean, recall_attacked : float or None
        Recall@k of the relevant item before and under attack (None without ``relevant``).
    cosine_drift : float
        Mean ``1 - cos`` between clean and attacked query embeddings.
    perturbation : dict of str to float
        Size summaries, e.g. ``linf_max``, ``l2_mean``, ``edit_mean``.
    queries_used : int or None
        Model queries the attack spent (score-based and text attacks).
    per_query : dict of str to list
        Row-wise ranks and success flags (for artifacts and the dashboard); with destroyed
        rows, also a ``destroyed`` flag per row.
    n_destroyed : int
        Attacked queries that never reached the model (see ``destroyed`` in
        :func:`evaluate_attack`); they are in ``n`` and scored as retrieving nothing.
    """

    attack: str
    params: dict[str, Any]
    n: int
    k: int
    targeted: bool
    success_rate: float
    n_eligible: int
    n_success: int
    recall_clean: float | None
    recall_attacked: float | None
    cosine_drift: float
    perturbation: dict[str, float] = field(default_factory=dict)
    queries_used: int | None = None
    per_query: dict[str, list[Any]] = field(default_factory=dict)
    n_destroyed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN kept as float NaN; the report writer decides)."""
        return asdict(self)


def evaluate_attack(
    clean: ArrayLike,
    attacked: ArrayLike,
    gallery: ArrayLike,
    *,
    relevant: ArrayLike | None = None,
    target: ArrayLike | None = None,
    k: int = 1,
    attack: str = "",
    params: Mapping[str, Any] | None = None,
    perturbation: Mapping[str, ArrayLike] | None = None,
    queries_used: int | None = None,
    destroyed: ArrayLike | None = None,
) -> AttackReport:
    """Compare clean and attacked query embeddings against one gallery.

    Parameters
    ----------
    clean, attacked : array-like, shape (n, dim)
        Query embeddings before and after the attack (row i is the same query).
    gallery : array-like, shape (m, dim)
        Indexed embeddings; cosine scores rank them.
    relevant : array-like of int, shape (n,), optional
        Gallery index of each query's relevant item (untargeted success and Recall@k).
    target : array-like of int, shape (n,), optional
        Gallery index each query should be pushed to (targeted success: top-1).
    k : int
        Untargeted cut-off and Recall@k cut-off.
    attack : str
        Name recorded in the report.
    params : mapping, optional
        Parameters recorded in the report.
    perturbation : mapping of str to array-like, optional
        Per-example sizes (e.g. from ``perturbation_norms`` or ``edit_distances``); each is
        summarised as ``<name>_mean`` and ``<name>_max``.
    queries_used : int, optional
        Model queries spent by the attack.
    destroyed : array-like of bool, shape (n,), optional
        Rows whose attacked query never reached the model: the attack made it invalid
        (e.g. a text left empty, which the deployment refuses). Such a query retrieves
        nothing, so it stays in every denominator and is scored as a deployment would see
        it: its relevant item and its target get rank ``m`` under attack (after all ``m``
        gallery items), i.e. a miss in Recall@k, an untargeted success when eligible and a
        targeted failure. Its attacked row in ``attacked`` is ignored (pass anything finite,
        e.g. zeros), and ``cosine_drift`` averages over the other rows (NaN when none).

    Returns
    -------
    AttackReport
    """
    if relevant is None and target is None:
        raise ValueError("evaluate_attack needs relevant= (untargeted) or target= (targeted)")
    s_clean = cosine_scores(clean, gallery)
    s_adv = cosine_scores(attacked, gallery)
    if s_clean.shape != s_adv.shape:
        raise ValueError(f"clean {s_clean.shape} and attacked {s_adv.shape} queries differ")
    n, m = s_clean.shape
    if not 1 <= k <= m:
        raise ValueError(f"k must be in [1, {m}], got {k}")
    gone = _destroyed_mask(destroyed, n)
    per_query: dict[str, list[Any]] = {}
    recall_clean = recall_adv = None
    if relevant is not None:
        r_clean = ranks_of(s_clean, relevant)
        r_adv = np.where(gone, m, ranks_of(s_adv, relevant))
        recall_clean, recall_adv = float(np.mean(r_clean < k)), float(np.mean(r_adv < k))
        per_query.update(rank_clean=r_clean.tolist(), rank_attacked=r_adv.tolist())
    if target is not None:
        t_clean = ranks_of(s_clean, target)
        t_adv = np.where(gone, m, ranks_of(s_adv, target))
        eligible = t_clean > 0
        success = eligible & (t_adv == 0)
        per_query.update(target_rank_clean=t_clean.tolist(), target_rank_attacked=t_adv.tolist())
    else:
        eligible = r_clean < k
        success = eligible & (r_adv >= k)
    per_query["success"] = success.tolist()
    if gone.any():
        per_query["destroyed"] = gone.tolist()
    drift = cosine_drift(clean, attacked)[~gone]
    n_eligible, n_success = int(eligible.sum()), int(success.sum())
    sizes: dict[str, float] = {}
    for key, values in (perturbation or {}).items():
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        sizes[f"{key}_mean"] = float(v.mean()) if v.size else float("nan")
        sizes[f"{key}_max"] = float(v.max()) if v.size else float("nan")
    return AttackReport(
        attack=attack,
        params=dict(params or {}),
        n=n,
        k=k,
        targeted=target is not None,
        success_rate=n_success / n_eligible if n_eligible else float("nan"),
        n_eligible=n_eligible,
        n_success=n_success,
        recall_clean=recall_clean,
        recall_attacked=recall_adv,
        cosine_drift=float(drift.mean()) if drift.size else float("nan"),
        perturbation=sizes,
        queries_used=queries_used,
        per_query=per_query,
        n_destroyed=int(gone.sum()),
    )


def _destroyed_mask(destroyed: ArrayLike | None, n: int) -> np.ndarray:
    """``destroyed`` as an (n,) bool array (all False when None)."""
    if destroyed is None:
        return np.zeros(n, dtype=bool)
    mask = np.asarray(destroyed)
    if mask.shape != (n,) or mask.dtype != np.bool_:
        raise ValueError(
            f"destroyed must be a bool array of shape ({n},), got {mask.dtype} {mask.shape}"
        )
    return mask
