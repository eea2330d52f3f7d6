"""Membership inference against a retrieval index with top-k query access.

Threat model: the attacker can send a query vector to the index and read back the top-k
similarity scores (no stored vectors, no ids). They hold a candidate item -- the exact
vector, a near-duplicate (a re-encoded copy of an image) or a paraphrase -- and guess
"member" when the best score is high: an item that is in the index finds itself (cosine 1
for an exact copy) or a close neighbour, an item that is not finds only neighbours. The
attack score is the top-1 similarity, maximised over the probe variants of an item.

Leakage is summarised by the ROC of that score over members vs non-members: the AUC
(0.5 = the index gives nothing away) and the true-positive rate at a low false-positive
rate (1 %), the measure Carlini et al. ("Membership inference attacks from first
principles", IEEE S&P 2022) argue matters, since an attack that is sure of a few members
is a real leak even when its AUC is modest. Both come with a percentile bootstrap interval
that resamples members and non-members separately, and the AUC with a one-sided
Mann-Whitney p-value against chance (AUC = 0.5; AUC is U / (n1 n0)).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.metrics import auc as _trapezoid_auc
from sklearn.metrics import roc_curve

from redteam.metrics import as_matrix, unit_rows

#: A search endpoint: (n, d) query vectors -> (n, k) similarity scores, best first.
SearchFn = Callable[[np.ndarray], ArrayLike]


@dataclass(frozen=True)
class MembershipResult:
    """How well the attack score separates members from non-members.

    Attributes
    ----------
    auc : float
        ROC AUC of the attack score (members positive); 0.5 is chance, 1 a perfect attack.
    auc_ci : tuple of float
        Percentile bootstrap interval of ``auc`` at ``confidence``.
    tpr_at_fpr : float
        True-positive rate at false-positive rate ``target_fpr``, read off the ROC curve by
        linear interpolation between the two operating points around ``target_fpr`` (an
        attacker reaches it by randomising between their two thresholds). With fewer than
        ``1 / target_fpr`` non-members the target lies below the first false positive and
        the value is an interpolation towards the ``(0, TPR at zero FPR)`` point.
    tpr_at_fpr_ci : tuple of float
        Percentile bootstrap interval of ``tpr_at_fpr``.
    target_fpr : float
        The false-positive rate the TPR is read at (0.01 by default).
    p_value : float
        One-sided Mann-Whitney U test that members score higher than non-members (null:
        AUC = 0.5). Unadjusted; a suite running several attacks adjusts it.
    n_members, n_nonmembers : int
        Items on each side (each a row, whatever its number of probe variants).
    mean_score_members, mean_score_nonmembers : float
        Mean attack score per side (top-1 cosine for :func:`index_membership`).
    confidence : float
        Level of both intervals.
    n_bootstrap : int
        Bootstrap resamples behind the intervals.
    """

    auc: float
    auc_ci: tuple[float, float]
    tpr_at_fpr: float
    tpr_at_fpr_ci: tuple[float, float]
    target_fpr: float
    p_value: float
    n_members: int
    n_nonmembers: int
    mean_score_members: float
    mean_score_nonmembers: float
    confidence: float
    n_bootstrap: int

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        out = asdict(self)
        out["auc_ci"] = list(self.auc_ci)
        out["tpr_at_fpr_ci"] = list(self.tpr_at_fpr_ci)
        return out


def tpr_at_fpr(scores: ArrayLike, is_member: ArrayLike, target_fpr: float = 0.01) -> float:
    """True-positive rate at ``target_fpr`` on the ROC curve, linearly interpolated.

    The ROC points come from :func:`sklearn.metrics.roc_curve` (all thresholds kept). The
    last point with FPR <= ``target_fpr`` (the highest TPR reached there) and the first
    point beyond it are joined by a straight line: the rates of an attacker who uses the
    stricter threshold with probability ``w`` and the looser one otherwise.

    Parameters
    ----------
    scores : array_like of float, shape (n,)
        Attack scores, higher = more likely a member.
    is_member : array_like of bool, shape (n,)
        Ground truth; both classes must be present.
    target_fpr : float
        False-positive rate in ``[0, 1]``.

    Returns
    -------
    float
        The interpolated TPR.
    """
    _check_fpr(target_fpr)
    truth = np.asarray(is_member, dtype=bool)
    fpr, tpr, _ = roc_curve(truth, np.asarray(scores, dtype=float), drop_intermediate=False)
    return _interp_tpr(fpr, tpr, target_fpr)


def membership_attack(
    member_scores: ArrayLike,
    nonmember_scores: ArrayLike,
    *,
    target_fpr: float = 0.01,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int | np.random.Generator = 0,
) -> MembershipResult:
    """Summarise attack scores of members and non-members (AUC, TPR at low FPR, CIs, p).

    Parameters
    ----------
    member_scores, nonmember_scores : array_like of float, shape (n1,), (n0,)
        Attack scores (higher = "member") of items that are / are not in the index; each
        side needs at least two finite values.
    target_fpr : float
        False-positive rate for :attr:`MembershipResult.tpr_at_fpr`.
    n_bootstrap : int
        Resamples for the percentile intervals (members and non-members resampled apart).
    confidence : float
        Interval level in ``(0, 1)``.
    random_state : int or numpy.random.Generator
        Seed of the bootstrap.

    Returns
    -------
    MembershipResult
    """
    pos = _scores(member_scores, "member_scores")
    neg = _scores(nonmember_scores, "nonmember_scores")
    _check_fpr(target_fpr)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_bootstrap < 2:
        raise ValueError(f"n_bootstrap must be >= 2, got {n_bootstrap}")

    def statistic(p: np.ndarray, n: np.ndarray) -> np.ndarray:
        return _auc_and_tpr(p, n, target_fpr)

    point = statistic(pos, neg)
    boot = stats.bootstrap(
        (pos, neg),
        statistic,
        vectorized=False,
        paired=False,  # members and non-members resampled separately: fixed n1, n0
        n_resamples=n_bootstrap,
        confidence_level=confidence,
        method="percentile",
        random_state=np.random.default_rng(random_state),
    )
    low, high = boot.confidence_interval
    test = stats.mannwhitneyu(pos, neg, alternative="greater")
    return MembershipResult(
        auc=float(point[0]),
        auc_ci=(float(low[0]), float(high[0])),
        tpr_at_fpr=float(point[1]),
        tpr_at_fpr_ci=(float(low[1]), float(high[1])),
        target_fpr=float(target_fpr),
        p_value=float(test.pvalue),
        n_members=int(pos.size),
        n_nonmembers=int(neg.size),
        mean_score_members=float(pos.mean()),
        mean_score_nonmembers=float(neg.mean()),
        confidence=float(confidence),
        n_bootstrap=int(n_bootstrap),
    )


def top1_scores(
    probes: ArrayLike,
    *,
    index: ArrayLike | None = None,
    search: SearchFn | None = None,
) -> np.ndarray:
    """The attacker's score per item: the best top-1 similarity over its probe variants.

    Parameters
    ----------
    probes : array_like, shape (n, d) or (n, m, d)
        One probe vector per item, or ``m`` variants per item (the exact vector, a
        near-duplicate, paraphrases; rows of all-NaN pad items with fewer variants).
    index : array_like, shape (N, d), optional
        The indexed vectors, searched by exact cosine similarity.
    search : callable, optional
        Instead of ``index``: a query endpoint ``search(queries) -> (n, k) scores`` (best
        first), e.g. a vector store's top-k call. Exactly one of ``index`` and ``search``.

    Returns
    -------
    numpy.ndarray, shape (n,)
        Top-1 similarity, maximised over each item's variants.
    """
    if (index is None) == (search is None):
        raise ValueError("give exactly one of index= and search=")
    arr = np.asarray(probes, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, None, :]
    if arr.ndim != 3 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"probes must be (n, d) or (n, m, d) with n, m >= 1, got {arr.shape}")
    n, m, d = arr.shape
    flat = arr.reshape(n * m, d)
    pad = np.isnan(flat).all(axis=1)  # padding rows of items with fewer variants
    if pad.reshape(n, m).all(axis=1).any():
        bad = int(np.flatnonzero(pad.reshape(n, m).all(axis=1))[0])
        raise ValueError(f"probe item {bad} has no variant (all rows NaN)")
    live = as_matrix(flat[~pad], "probes")
    if search is None:
        gallery = unit_rows(index, "index")
        if gallery.shape[1] != d:
            raise ValueError(f"probes have dim {d} but the index has dim {gallery.shape[1]}")
        best = (unit_rows(live, "probes") @ gallery.T).max(axis=1)
    else:
        got = as_matrix(search(live), "search() scores", allow_inf=True)
        if got.shape[0] != live.shape[0]:
            raise ValueError(f"search() returned {got.shape[0]} rows for {live.shape[0]} probes")
        best = got[:, 0]
    out = np.full(n * m, -np.inf)
    out[~pad] = best
    return out.reshape(n, m).max(axis=1)


def index_membership(
    members: ArrayLike,
    nonmembers: ArrayLike,
    *,
    index: ArrayLike | None = None,
    search: SearchFn | None = None,
    target_fpr: float = 0.01,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int | np.random.Generator = 0,
) -> MembershipResult:
    """Membership inference by top-1 similarity: probes of members vs of non-members.

    ``members`` are probes (exact, near-duplicate or paraphrase vectors) of items that are
    in the index, ``nonmembers`` probes of comparable items that are not; see
    :func:`top1_scores` for the shapes and for ``index`` / ``search``, and
    :func:`membership_attack` for the rest.

    Returns
    -------
    MembershipResult
    """
    pos = top1_scores(members, index=index, search=search)
    neg = top1_scores(nonmembers, index=index, search=search)
    return membership_attack(
        pos,
        neg,
        target_fpr=target_fpr,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        random_state=random_state,
    )


def _auc_and_tpr(pos: np.ndarray, neg: np.ndarray, target_fpr: float) -> np.ndarray:
    """[AUC, TPR at target_fpr] from one ROC curve (the point estimate and each resample)."""
    truth = np.concatenate([np.ones(pos.size, bool), np.zeros(neg.size, bool)])
    fpr, tpr, _ = roc_curve(truth, np.concatenate([pos, neg]), drop_intermediate=False)
    return np.array([_trapezoid_auc(fpr, tpr), _interp_tpr(fpr, tpr, target_fpr)])


def _interp_tpr(fpr: np.ndarray, tpr: np.ndarray, target: float) -> float:
    # fpr is non-decreasing with vertical runs (same FPR, rising TPR); np.interp is
    # undefined on repeated x, so take the top of the run at or below the target and the
    # start of the first run beyond it.
    i = int(np.searchsorted(fpr, target, side="right")) - 1
    if i >= fpr.size - 1 or fpr[i] == target:
        return float(tpr[i])
    j = i + 1
    w = (target - fpr[i]) / (fpr[j] - fpr[i])
    return float(tpr[i] + w * (tpr[j] - tpr[i]))


def _scores(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"{name} must be a 1-D array of at least 2 scores, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite scores")
    return arr


def _check_fpr(target_fpr: float) -> None:
    if not (0.0 <= target_fpr <= 1.0) or math.isnan(target_fpr):
        raise ValueError(f"target_fpr must be in [0, 1], got {target_fpr}")
