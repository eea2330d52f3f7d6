"""Adversarial hub (Zhang et al. 2024, arXiv 2412.14113): one item near many queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from redteam.index._embedding_pgd import ItemNorm, pgd_toward
from redteam.index._hijack import _embed
from redteam.metrics import perturbation_norms, topk_indices, unit_rows


@dataclass(frozen=True)
class HubResult:
    """Outcome of :func:`adversarial_hub`.

    Attributes
    ----------
    adversarial : Tensor, shape (1, ...)
        The hub item.
    embedding : ndarray, shape (dim,)
        Its normalised embedding.
    hit_rate : dict of int to float
        ASR@k: share of held-out queries whose top-k holds the hub (added to the gallery).
    clean_hit_rate : dict of int to float
        The same share for the unperturbed seed item (the baseline).
    perturbation : dict of str to float
        ``linf`` and ``l2`` size of the hub's perturbation.
    """

    adversarial: torch.Tensor
    embedding: np.ndarray
    hit_rate: dict[int, float]
    clean_hit_rate: dict[int, float]
    perturbation: dict[str, float]


def hub_hit_rate(
    item_embedding: ArrayLike, gallery: ArrayLike, queries: ArrayLike, k: int
) -> float:
    """Share of ``queries`` whose top-k holds ``item_embedding`` when appended to the gallery.

    The item is appended last, so score ties go to the gallery's own items.
    """
    g = unit_rows(gallery, "gallery")
    h = unit_rows(item_embedding, "item_embedding")
    if h.shape[0] != 1:
        raise ValueError(f"item_embedding must be one row, got {h.shape[0]}")
    scores = unit_rows(queries, "queries") @ np.vstack([g, h]).T
    return float(np.mean((topk_indices(scores, k) == len(g)).any(axis=1)))


def adversarial_hub(
    module: nn.Module,
    item: torch.Tensor,
    train_queries: ArrayLike,
    heldout_queries: ArrayLike,
    gallery: ArrayLike,
    *,
    ks: Sequence[int] = (1, 10),
    eps: float = 16 / 255,
    steps: int = 100,
    alpha: float | None = None,
    norm: ItemNorm = "Linf",
    seed: int = 0,
) -> HubResult:
    """Perturb one item toward the centroid of ``train_queries``; score on held-out ones.

    Maximising the mean cosine to the training queries equals maximising the cosine to
    their (unnormalised) centroid, which is the direction used.

    Parameters
    ----------
    module : nn.Module
        Differentiable embedder of the item's modality (inputs in [0, 1]).
    item : Tensor, shape (1, ...)
        The seed item.
    train_queries, heldout_queries : array-like, shape (Q, dim)
        Query embeddings the hub is fitted on, and the disjoint ones it is scored on.
    gallery : array-like, shape (M, dim)
        The index the hub is injected into.
    ks : sequence of int
        Cut-offs of ASR@k.
    eps, steps, alpha, norm, seed
        See :func:`~redteam.index.pgd_toward`.

    Returns
    -------
    HubResult
    """
    if item.ndim < 2 or item.shape[0] != 1:
        raise ValueError(f"item must be one batched input (1, ...), got {tuple(item.shape)}")
    centroid = unit_rows(train_queries, "train_queries").mean(axis=0, keepdims=True)
    adv = pgd_toward(
        module,
        item,
        torch.from_numpy(centroid).float(),
        eps=eps,
        steps=steps,
        alpha=alpha,
        norm=norm,
        seed=seed,
    )
    e_adv, e_clean = _embed(module, adv), _embed(module, item)
    sizes = perturbation_norms(item, adv)
    return HubResult(
        adversarial=adv,
        embedding=e_adv[0],
        hit_rate={k: hub_hit_rate(e_adv, gallery, heldout_queries, k) for k in ks},
        clean_hit_rate={k: hub_hit_rate(e_clean, gallery, heldout_queries, k) for k in ks},
        perturbation={key: float(v[0]) for key, v in sizes.items()},
    )
