"""Run registered attacks on query batches and report what they did to retrieval."""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike

from redteam._torch import eval_mode
from redteam.metrics import AttackReport, evaluate_attack, perturbation_norms
from redteam.tensor._head import RetrievalHead, ScoreHead
from redteam.tensor._specs import build_attack, tensor_attacks

log = logging.getLogger(__name__)

Head = RetrievalHead | ScoreHead


@dataclass(frozen=True)
class QueryAttackResult:
    """Adversarial queries and their report.

    Attributes
    ----------
    adversarial : torch.Tensor
        Attacked inputs, same shape and device as the clean ones.
    report : AttackReport
        Success, Recall@k, drift, Linf/L2 size, queries used.
    """

    adversarial: torch.Tensor
    report: AttackReport


def _check_inputs(head: Head, x: torch.Tensor, labels: ArrayLike) -> torch.Tensor:
    if not isinstance(head, RetrievalHead | ScoreHead):
        raise TypeError(f"head must be a RetrievalHead or ScoreHead, got {type(head).__name__}")
    if not torch.is_tensor(x) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    if x.ndim < 2:
        raise ValueError(f"x must be batched (N, ...), got shape {tuple(x.shape)}")
    if float(x.min()) < 0 or float(x.max()) > 1:
        raise ValueError("x must lie in [0, 1] (map audio with WaveformAdapter.to_unit)")
    y = torch.as_tensor(np.asarray(labels)).long().reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"{x.shape[0]} inputs but {y.shape[0]} labels")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= head.n_classes):
        raise ValueError(f"labels must be gallery indices in [0, {head.n_classes})")
    return y


def craft(
    head: Head,
    x: torch.Tensor,
    labels: ArrayLike,
    *,
    attack: str = "pgd",
    targeted: bool = False,
    eps: float = 8 / 255,
    steps: int = 10,
    alpha: float | None = None,
    query_budget: int | None = None,
    seed: int = 0,
    batch_size: int = 32,
    **extra: Any,
) -> torch.Tensor:
    """Adversarial versions of ``x`` (no evaluation); see :func:`run_query_attack`."""
    y = _check_inputs(head, x, labels)
    if tensor_attacks.get(attack).score_based is False and isinstance(head, ScoreHead):
        raise ValueError(f"{attack} needs gradients; a ScoreHead only gives scores")
    device = head.gallery.device
    out = []
    for b, start in enumerate(range(0, x.shape[0], batch_size)):
        xb = x[start : start + batch_size].detach().to(device)
        yb = y[start : start + batch_size].to(device)
        atk = build_attack(
            attack,
            head,
            eps=eps,
            steps=steps,
            alpha=alpha,
            targeted=targeted,
            query_budget=query_budget,
            seed=seed + b,
            **extra,
        )
        # fork_rng keeps the caller's global RNG untouched while seeding random starts;
        # eval_mode keeps torchattacks from switching an embedder's BatchNorm to training
        # mode when it "recovers" the head's own (default) training flag
        with (
            eval_mode(head),
            torch.random.fork_rng(devices=[]),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            torch.manual_seed(seed + b)
            out.append(atk(xb, yb).detach())
    return torch.cat(out).to(x.device)


def run_query_attack(
    head: Head,
    x: torch.Tensor,
    labels: ArrayLike,
    *,
    attack: str = "pgd",
    targeted: bool = False,
    relevant: ArrayLike | None = None,
    k: int = 1,
    eps: float = 8 / 255,
    steps: int = 10,
    alpha: float | None = None,
    query_budget: int | None = None,
    seed: int = 0,
    batch_size: int = 32,
    **extra: Any,
) -> QueryAttackResult:
    """Attack image/audio queries through a retrieval head and evaluate on its gallery.

    Parameters
    ----------
    head : RetrievalHead or ScoreHead
        White-box head (gradient attacks) or score head (square; counts queries).
    x : Tensor, shape (N, ...)
        Clean queries in [0, 1] (images NCHW; audio via :class:`WaveformAdapter`).
    labels : array-like of int, shape (N,)
        Untargeted: each query's relevant gallery index (it should leave the top-k).
        Targeted: the gallery index that should become top-1.
    attack : str
        Registered name in :data:`tensor_attacks` (fgsm, pgd, pgdl2, mifgsm, apgd, cw,
        square).
    targeted : bool
        Targeted mode.
    relevant : array-like of int, optional
        Relevant items for Recall@k in targeted mode (untargeted uses ``labels``).
    k : int
        Untargeted success cut-off and Recall@k cut-off.
    eps, steps, alpha, query_budget, seed, **extra
        See :func:`build_attack`. Batches are seeded ``seed, seed + 1, ...``.
    batch_size : int
        Inputs per attack call.

    Returns
    -------
    QueryAttackResult
        ``report.queries_used`` is the number of rows the attack sent through a
        ScoreHead (None for white-box heads).
    """
    used_before = head.queries_used if isinstance(head, ScoreHead) else None
    adv = craft(
        head,
        x,
        labels,
        attack=attack,
        targeted=targeted,
        eps=eps,
        steps=steps,
        alpha=alpha,
        query_budget=query_budget,
        seed=seed,
        batch_size=batch_size,
        **extra,
    )
    queries = head.queries_used - used_before if isinstance(head, ScoreHead) else None
    report = _evaluate(
        head,
        x,
        adv,
        labels,
        targeted=targeted,
        relevant=relevant,
        k=k,
        name=attack,
        params={"eps": eps, "steps": steps, "alpha": alpha, "seed": seed, **extra}
        | ({"query_budget": query_budget} if query_budget is not None else {}),
        queries=queries,
    )
    return QueryAttackResult(adversarial=adv, report=report)


def transfer_attack(
    surrogate: RetrievalHead,
    target: Head,
    x: torch.Tensor,
    labels: ArrayLike,
    *,
    attack: str = "pgd",
    targeted: bool = False,
    relevant: ArrayLike | None = None,
    k: int = 1,
    eps: float = 8 / 255,
    steps: int = 10,
    alpha: float | None = None,
    seed: int = 0,
    batch_size: int = 32,
    **extra: Any,
) -> QueryAttackResult:
    """Craft on a local surrogate, replay on another embedder, report on the target.

    ``labels`` index the same items in both galleries (the surrogate's gallery holds the
    target's indexed items embedded by the surrogate). The target is only queried to
    evaluate, never during crafting, so ``report.queries_used`` is 0.
    """
    if not isinstance(surrogate, RetrievalHead):
        raise TypeError("the surrogate must be a white-box RetrievalHead")
    if surrogate.n_classes != target.n_classes:
        raise ValueError(
            f"surrogate gallery has {surrogate.n_classes} items, target has {target.n_classes}"
        )
    adv = craft(
        surrogate,
        x,
        labels,
        attack=attack,
        targeted=targeted,
        eps=eps,
        steps=steps,
        alpha=alpha,
        seed=seed,
        batch_size=batch_size,
        **extra,
    )
    report = _evaluate(
        target,
        x,
        adv,
        labels,
        targeted=targeted,
        relevant=relevant,
        k=k,
        name=f"transfer/{attack}",
        params={"eps": eps, "steps": steps, "alpha": alpha, "seed": seed, **extra},
        queries=0,
    )
    return QueryAttackResult(adversarial=adv, report=report)


def _evaluate(
    head: Head,
    x: torch.Tensor,
    adv: torch.Tensor,
    labels: ArrayLike,
    *,
    targeted: bool,
    relevant: ArrayLike | None,
    k: int,
    name: str,
    params: dict[str, Any],
    queries: int | None,
) -> AttackReport:
    y = np.asarray(labels).astype(np.int64).reshape(-1)
    gallery = head.gallery.double().cpu().numpy()
    return evaluate_attack(
        head.embed_batch(x),
        head.embed_batch(adv),
        gallery,
        relevant=None if targeted and relevant is None else (relevant if targeted else y),
        target=y if targeted else None,
        k=k,
        attack=name,
        params={**params, "targeted": targeted},
        perturbation=perturbation_norms(x, adv),
        queries_used=queries,
    )
