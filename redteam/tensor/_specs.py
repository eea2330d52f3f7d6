"""Registered torchattacks attacks on retrieval heads, with one parameter vocabulary.

torchattacks is pinned to 3.3.0: it declares no dependencies, while 3.4-3.5.1 declare
``requests~=2.25.1`` and torchvision (their code imports neither), which conflict with the
rest of the stack. 3.3.0 lacks ``set_mode_targeted_by_label`` (the same thing is
``set_mode_targeted_by_function(lambda x, y: y)``, used below), prints on mode changes
(silenced here), and its CW keeps the wrong iterates in targeted mode, so ``cw`` is
registered untargeted only. Attacks are built lazily so ``import redteam`` works without it.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from torch import nn

from redteam._registry import Registry
from redteam._specs import ThreatModel

Norm = Literal["Linf", "L2", "unbounded"]


@dataclass(frozen=True)
class AttackSettings:
    """The shared parameter vocabulary; each factory uses the fields it needs."""

    eps: float
    steps: int
    alpha: float
    seed: int
    query_budget: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TensorAttackSpec:
    """One registered image/audio query attack.

    Attributes
    ----------
    name : str
        Registry name.
    norm : {"Linf", "L2", "unbounded"}
        The threat model's norm (``eps`` bounds it unless "unbounded").
    targeted : bool
        Whether targeted mode is supported.
    score_based : bool
        Needs only scores (works through :class:`ScoreHead`); else needs gradients.
    factory : callable
        ``(model, AttackSettings) -> torchattacks.Attack``.
    description : str
        One line for docs and reports.
    """

    name: str
    norm: Norm
    targeted: bool
    score_based: bool
    factory: Callable[[nn.Module, AttackSettings], Any]
    description: str

    @property
    def threat_model(self) -> ThreatModel:
        """``black-box`` for a score-based attack, else ``white-box`` (needs gradients)."""
        return "black-box" if self.score_based else "white-box"

    @property
    def modalities(self) -> tuple[str, ...]:
        """What it perturbs: tensors in [0, 1], images or waveforms (via WaveformAdapter)."""
        return ("image", "audio")


#: Registered image/audio query attacks: name -> TensorAttackSpec.
tensor_attacks: Registry[TensorAttackSpec] = Registry("tensor attack")


def _ta() -> Any:
    try:
        import torchattacks
    except ImportError as exc:  # pragma: no cover - exercised only without the package
        raise ImportError(
            "image/audio attacks need torchattacks (pip install --no-deps torchattacks==3.3.0)"
        ) from exc
    return torchattacks


def _register(
    name: str, norm: Norm, targeted: bool, score_based: bool, description: str
) -> Callable[[Callable[[nn.Module, AttackSettings], Any]], Any]:
    def wrap(factory: Callable[[nn.Module, AttackSettings], Any]) -> Any:
        tensor_attacks.register(
            name, TensorAttackSpec(name, norm, targeted, score_based, factory, description)
        )
        return factory

    return wrap


@_register("fgsm", "Linf", True, False, "FGSM, one signed-gradient step (Goodfellow 2015)")
def _fgsm(model: nn.Module, s: AttackSettings) -> Any:
    return _ta().FGSM(model, eps=s.eps)


@_register("pgd", "Linf", True, False, "PGD with random start (Madry 2018)")
def _pgd(model: nn.Module, s: AttackSettings) -> Any:
    return _ta().PGD(model, eps=s.eps, alpha=s.alpha, steps=s.steps, random_start=True)


@_register("pgdl2", "L2", True, False, "PGD in an L2 ball with random start")
def _pgdl2(model: nn.Module, s: AttackSettings) -> Any:
    return _ta().PGDL2(model, eps=s.eps, alpha=s.alpha, steps=s.steps, random_start=True)


@_register("mifgsm", "Linf", True, False, "momentum iterative FGSM (Dong 2018), transfers well")
def _mifgsm(model: nn.Module, s: AttackSettings) -> Any:
    decay = float(s.extra.get("decay", 1.0))
    return _ta().MIFGSM(model, eps=s.eps, alpha=s.alpha, steps=s.steps, decay=decay)


@_register("apgd", "Linf", False, False, "Auto-PGD with cross-entropy (Croce & Hein 2020)")
def _apgd(model: nn.Module, s: AttackSettings) -> Any:
    return _ta().APGD(model, norm="Linf", eps=s.eps, steps=s.steps, seed=s.seed, loss="ce")


@_register("cw", "unbounded", False, False, "Carlini-Wagner L2 (size reported, not bounded)")
def _cw(model: nn.Module, s: AttackSettings) -> Any:
    c = float(s.extra.get("c", 1.0))
    lr = float(s.extra.get("lr", 0.01))
    return _ta().CW(model, c=c, kappa=float(s.extra.get("kappa", 0.0)), steps=s.steps, lr=lr)


@_register("square", "Linf", True, True, "Square, score-based black-box (Andriushchenko 2020)")
def _square(model: nn.Module, s: AttackSettings) -> Any:
    if s.query_budget is None or s.query_budget < 4:
        raise ValueError("square needs query_budget >= 4 (queries per input)")
    # torchattacks spends 1 (clean check) + 1 (init) + n_queries + 1 (final check) per input
    return _ta().Square(
        model,
        norm="Linf",
        eps=s.eps,
        n_queries=s.query_budget - 3,
        n_restarts=1,
        seed=s.seed,
        loss="margin",
    )


def build_attack(
    name: str,
    model: nn.Module,
    *,
    eps: float = 8 / 255,
    steps: int = 10,
    alpha: float | None = None,
    targeted: bool = False,
    query_budget: int | None = None,
    seed: int = 0,
    **extra: Any,
) -> Any:
    """Build a configured torchattacks attack on ``model`` (a retrieval head).

    Parameters
    ----------
    name : str
        Registered name (:data:`tensor_attacks`); unknown names get close suggestions.
    model : nn.Module
        Returns (N, C) logits for inputs in [0, 1] (:class:`RetrievalHead`, :class:`ScoreHead`).
    eps : float
        Budget in input units ([0, 1] scale), Linf or L2 as the spec says.
    steps : int
        Iterations (ignored by fgsm and square).
    alpha : float, optional
        Step size; default ``2.5 * eps / steps`` (Madry et al.).
    targeted : bool
        Labels are targets (the chosen item should become top-1).
    query_budget : int, optional
        Per-input model queries for score-based attacks (square).
    seed : int
        Seed for attacks that take one (apgd, square); the runner also seeds torch.
    **extra
        Attack-specific options (mifgsm: decay; cw: c, kappa, lr).

    Returns
    -------
    torchattacks.Attack
    """
    spec = tensor_attacks.get(name)
    if eps < 0 or steps < 1:
        raise ValueError(f"{name}: need eps >= 0 and steps >= 1, got eps={eps}, steps={steps}")
    if targeted and not spec.targeted:
        raise ValueError(f"{name} has no targeted mode here (see redteam.tensor docs)")
    settings = AttackSettings(
        eps=float(eps),
        steps=int(steps),
        alpha=float(alpha) if alpha is not None else 2.5 * float(eps) / int(steps),
        seed=int(seed),
        query_budget=query_budget,
        extra=dict(extra),
    )
    atk = spec.factory(model, settings)
    if targeted:
        with contextlib.redirect_stdout(io.StringIO()):  # 3.3.0 prints the mode change
            if hasattr(atk, "set_mode_targeted_by_label"):
                atk.set_mode_targeted_by_label(quiet=True)
            else:
                atk.set_mode_targeted_by_function(lambda inputs, labels: labels)
    return atk
