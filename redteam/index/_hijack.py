"""Targeted hijack: perturb an indexed item so it becomes top-1 for a chosen query."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn
from torch.nn import functional as F

from redteam._torch import eval_mode
from redteam.index._embedding_pgd import ItemNorm, pgd_toward
from redteam.metrics import perturbation_norms, ranks_of, unit_rows


@dataclass(frozen=True)
class HijackResult:
    """Outcome of :func:`hijack`, one row per hijacked item.

    Attributes
    ----------
    adversarial : Tensor
        Perturbed items.
    rank_before, rank_after : ndarray of int
        0-based rank of the item for its target query before and after the attack.
    cosine_before, cosine_after : ndarray of float
        Cosine between the item and its target query.
    perturbation : dict of str to ndarray
        Per-item ``linf`` and ``l2`` sizes.
    """

    adversarial: torch.Tensor
    rank_before: np.ndarray
    rank_after: np.ndarray
    cosine_before: np.ndarray
    cosine_after: np.ndarray
    perturbation: dict[str, np.ndarray]

    @property
    def success(self) -> np.ndarray:
        """Whether each item is top-1 for its target query after the attack."""
        return self.rank_after == 0

    @property
    def success_rate(self) -> float:
        """Share of items that became top-1 for their target query."""
        return float(np.mean(self.success))


def hijack(
    module: nn.Module,
    items: torch.Tensor,
    target_queries: ArrayLike,
    gallery: ArrayLike,
    *,
    item_index: ArrayLike | None = None,
    eps: float = 8 / 255,
    steps: int = 50,
    alpha: float | None = None,
    norm: ItemNorm = "Linf",
    seed: int = 0,
) -> HijackResult:
    """Perturb each item toward its target query's embedding (white-box, item side).

    Parameters
    ----------
    module : nn.Module
        The embedder that indexes items (inputs in [0, 1]).
    items : Tensor, shape (N, ...)
        Items to hijack.
    target_queries : array-like, shape (N, dim)
        Embedding of the query each item should win.
    gallery : array-like, shape (M, dim)
        The index the item competes in.
    item_index : array-like of int, shape (N,), optional
        Row of each item in ``gallery`` (its clean embedding is replaced by the attacked
        one when ranking). Without it the item is injected as an extra row.
    eps, steps, alpha, norm, seed
        See :func:`pgd_toward`.

    Returns
    -------
    HijackResult
    """
    q = unit_rows(target_queries, "target_queries")
    g = unit_rows(gallery, "gallery")
    if q.shape[0] != items.shape[0]:
        raise ValueError(f"{items.shape[0]} items but {q.shape[0]} target queries")
    idx = None if item_index is None else np.asarray(item_index, dtype=np.int64).reshape(-1)
    if idx is not None and (idx.shape[0] != q.shape[0] or idx.min() < 0 or idx.max() >= len(g)):
        raise ValueError(f"item_index must be {q.shape[0]} rows of the {len(g)}-item gallery")
    directions = torch.from_numpy(q).float()
    adv = pgd_toward(
        module, items, directions, eps=eps, steps=steps, alpha=alpha, norm=norm, seed=seed
    )
    e_clean, e_adv = _embed(module, items), _embed(module, adv)
    r_before, c_before = _rank_as(e_clean, q, g, idx)
    r_after, c_after = _rank_as(e_adv, q, g, idx)
    return HijackResult(
        adversarial=adv,
        rank_before=r_before,
        rank_after=r_after,
        cosine_before=c_before,
        cosine_after=c_after,
        perturbation=perturbation_norms(items, adv),
    )


def _embed(module: nn.Module, x: torch.Tensor) -> np.ndarray:
    device = next((p.device for p in module.parameters()), x.device)
    with torch.no_grad(), eval_mode(module):
        return F.normalize(module(x.to(device)), dim=-1).double().cpu().numpy()


def _rank_as(
    emb: np.ndarray, q: np.ndarray, g: np.ndarray, idx: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    ranks, cosines = [], []
    for i in range(len(emb)):
        if idx is None:
            gal, pos = np.vstack([g, emb[i]]), len(g)
        else:
            gal, pos = g.copy(), int(idx[i])
            gal[pos] = emb[i]
        s = q[i : i + 1] @ gal.T
        ranks.append(int(ranks_of(s, [pos])[0]))
        cosines.append(float(s[0, pos]))
    return np.array(ranks), np.array(cosines)
