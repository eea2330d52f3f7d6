"""PGD that pulls item embeddings toward directions in embedding space.

Item-side attacks are regressions, not classifications: the attacker wants f(x') close to
a query embedding (hijack) or to many queries at once (hub), whatever the other items
score. torchattacks needs class logits, so this is a compact PGD with the same update as
torchattacks' PGD (signed gradient for Linf, normalised gradient for L2, projection onto
the eps ball and [0, 1]) on the objective sum_i <f(x_i), d_i>, keeping each item's best
iterate.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from redteam._torch import eval_mode

ItemNorm = Literal["Linf", "L2"]


def check_items(x: torch.Tensor, name: str = "items") -> None:
    """Raise if ``x`` is not a batched float tensor in [0, 1]."""
    if not torch.is_tensor(x) or not x.is_floating_point() or x.ndim < 2:
        raise TypeError(f"{name} must be a batched floating-point torch.Tensor (N, ...)")
    if float(x.min()) < 0 or float(x.max()) > 1:
        raise ValueError(f"{name} must lie in [0, 1] (map audio with WaveformAdapter.to_unit)")


def pgd_toward(
    module: nn.Module,
    x: torch.Tensor,
    directions: torch.Tensor,
    *,
    eps: float,
    steps: int = 50,
    alpha: float | None = None,
    norm: ItemNorm = "Linf",
    random_start: bool = False,
    seed: int = 0,
) -> torch.Tensor:
    """Maximise ``<normalize(module(x'_i)), directions_i>`` over ``||x'_i - x_i|| <= eps``.

    Parameters
    ----------
    module : nn.Module
        Differentiable embedder over inputs in [0, 1].
    x : Tensor, shape (N, ...)
        Items to perturb, in [0, 1].
    directions : Tensor, shape (N, dim)
        Per-item target direction (a query embedding, or a mean of query embeddings).
    eps : float
        Budget (Linf or L2, per item).
    steps : int
        Iterations.
    alpha : float, optional
        Step size; default ``2.5 * eps / steps``.
    norm : {"Linf", "L2"}
        Threat model.
    random_start : bool
        Start from a uniform point in the Linf ball (seeded; global RNG untouched).
    seed : int
        Seed of the random start.

    Returns
    -------
    Tensor
        The best iterate per item (highest objective), detached, same device as ``x``.
    """
    check_items(x)
    if norm not in ("Linf", "L2"):
        raise ValueError(f"norm must be 'Linf' or 'L2', got {norm!r}")
    if eps < 0 or steps < 1:
        raise ValueError(f"need eps >= 0 and steps >= 1, got eps={eps}, steps={steps}")
    device = next((p.device for p in module.parameters()), x.device)
    x0 = x.detach().to(device)
    d = directions.detach().to(device=device, dtype=torch.float32)
    if d.shape != (x0.shape[0], d.shape[-1]):
        raise ValueError(f"directions must be (N={x0.shape[0]}, dim), got {tuple(d.shape)}")
    alpha = 2.5 * eps / steps if alpha is None else alpha
    adv = x0.clone()
    if random_start and eps > 0:
        g = torch.Generator(device="cpu").manual_seed(seed)
        noise = (torch.rand(x0.shape, generator=g) * 2 - 1).to(device) * eps
        adv = (x0 + noise).clamp(0, 1) if norm == "Linf" else x0.clone()
    with eval_mode(module):
        best, best_obj = adv.clone(), _objective(module, adv, d).detach()
        for _ in range(steps):
            adv.requires_grad_(True)
            obj = _objective(module, adv, d)
            (grad,) = torch.autograd.grad(obj.sum(), adv)
            with torch.no_grad():
                if norm == "Linf":
                    adv = adv + alpha * grad.sign()
                    adv = torch.min(torch.max(adv, x0 - eps), x0 + eps).clamp(0, 1)
                else:
                    flat = grad.reshape(grad.shape[0], -1).norm(dim=1).clamp_min(1e-12)
                    adv = adv + alpha * grad / flat.view(-1, *[1] * (grad.ndim - 1))
                    delta = adv - x0
                    dn = delta.reshape(delta.shape[0], -1).norm(dim=1).clamp_min(1e-12)
                    factor = (eps / dn).clamp(max=1.0).view(-1, *[1] * (delta.ndim - 1))
                    adv = (x0 + delta * factor).clamp(0, 1)
                obj = _objective(module, adv, d)
                better = obj > best_obj
                best[better] = adv[better]
                best_obj = torch.where(better, obj, best_obj)
            adv = adv.detach()
    return best.to(x.device)


def _objective(module: nn.Module, x: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    return (F.normalize(module(x), dim=-1) * d).sum(dim=-1)
