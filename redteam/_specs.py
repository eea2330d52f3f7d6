"""Typed registry entries of the red-team library: what an attack or a defense is for.

The registries hold these frozen dataclasses (not bare functions) so that a caller can ask
an entry what it attacks or defends -- the red-team suite derives its option choices and
defaults from them (``redteam.defenses.names(where=lambda d: d.role == "reranker")``)
instead of keeping its own lists. An entry is callable and forwards to its component, so
``defenses.get("csls")(k=10)`` builds a :class:`~redteam.defenses.CSLS` as before.
Standard library only: reading metadata needs neither torch nor numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

#: Who the attacker is: gradients through the model (``white-box``), scores only
#: (``black-box``), write access to the indexed data (``index``), or character edits of a
#: text query with no model access at all (``text``).
ThreatModel = Literal["white-box", "black-box", "index", "text"]
#: What bounds a perturbation: an L-inf or L2 ball in input units, character edits of a
#: string (``edits``), replaced tokens of a passage (``tokens``), or nothing (``unbounded``:
#: the size is reported, not limited).
Norm = Literal["Linf", "L2", "edits", "tokens", "unbounded"]
#: Where a defense acts: on text queries, on image inputs (query or item at ingestion), on
#: the query-index scores (re-ranking), or on the index itself (finding planted items).
AppliesTo = Literal["text-query", "image-input", "index-scores", "index"]
#: How a defense acts: it rewrites inputs (``sanitizer``, ``squeezer``), flags inputs or
#: items (``detector``), or re-scores a retrieval (``reranker``).
Role = Literal["sanitizer", "squeezer", "detector", "reranker"]


@dataclass(frozen=True)
class _CallableEntry:
    """A registry entry that forwards calls to its component ``target``.

    Every entry has ``name`` (its registry name), ``target`` (the class or function) and
    ``description`` (one line for docs and listings; default: the first paragraph of the
    target's docstring, so the text is kept once, on the component).
    """

    name: str
    target: Callable[..., Any]

    def __post_init__(self) -> None:
        # One description, on the component: its docstring's first paragraph, one line.
        if not getattr(self, "description", ""):
            doc = (self.target.__doc__ or "").strip().split("\n\n")[0]
            object.__setattr__(self, "description", " ".join(doc.split()))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.target(*args, **kwargs)


@dataclass(frozen=True)
class IndexAttackSpec(_CallableEntry):
    """One registered attack on indexed data (:data:`redteam.index.index_attacks`).

    ``target`` is the function that runs the attack. Attributes besides ``name``,
    ``target`` and ``description``:

    Attributes
    ----------
    modality : str
        What is planted in the index ("image", "text").
    norm : Norm
        What bounds the planted perturbation.
    gradients : bool
        Needs a differentiable path to the encoder (else model scores or nothing).
    threat_model : ThreatModel
        Always "index": the attacker writes indexed items.
    """

    modality: str
    norm: Norm
    gradients: bool
    description: str = ""
    threat_model: ThreatModel = "index"


@dataclass(frozen=True)
class DefenseSpec(_CallableEntry):
    """One registered defense (:data:`redteam.defenses.defenses`).

    ``target`` is the class or function implementing it; ``counters`` the threat models it
    is meant against, ``applies_to`` where it acts and ``role`` how.

    Attributes
    ----------
    applies_to : AppliesTo
        Where it acts.
    role : Role
        How it acts.
    counters : tuple of ThreatModel
        The threat models it is meant against.
    """

    applies_to: AppliesTo
    role: Role
    counters: tuple[ThreatModel, ...]
    description: str = ""
