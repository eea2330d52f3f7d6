"""Base of the black-box text query attacks: the loop, seeding and budget live here once."""

from __future__ import annotations

import logging
import zlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from redteam._registry import Registry
from redteam._specs import Norm, ThreatModel

log = logging.getLogger(__name__)

#: Registered text attacks: name -> TextAttack subclass (its class attributes are the
#: entry's metadata: ``modality``, ``threat_model``, ``norm``, ``edit_unit``).
text_attacks: Registry[type[TextAttack]] = Registry("text attack")


class TextAttack(ABC):
    """A character-level perturbation of query strings at a fixed edit budget.

    Subclasses implement one hook, :meth:`_perturb`; :meth:`perturb` does validation,
    seeding and the loop. Each text gets its own generator seeded by ``(seed, crc32(text))``,
    so a query's perturbation does not depend on the other queries in the batch.

    Parameters
    ----------
    budget : int
        Number of edits per text (each attack documents what one edit is). Texts with fewer
        eligible positions get as many edits as they have positions.
    seed : int
        Seed of the random choices.
    """

    #: Registered name.
    name: ClassVar[str] = ""
    #: What one edit costs in edit distance: "levenshtein" (1 insert/delete/substitute),
    #: "transposition" (1 adjacent swap) or a free-text description.
    edit_unit: ClassVar[str] = "levenshtein"
    #: What is attacked: a text query.
    modality: ClassVar[str] = "text"
    #: No model access: the attacker only edits the query string.
    threat_model: ClassVar[ThreatModel] = "text"
    #: The budget counts character edits.
    norm: ClassVar[Norm] = "edits"

    def __init__(self, *, budget: int = 1, seed: int = 0) -> None:
        if not isinstance(budget, int | np.integer) or isinstance(budget, bool) or budget < 0:
            raise ValueError(f"{self.name}: budget must be a non-negative int, got {budget!r}")
        if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
            raise TypeError(f"{self.name}: seed must be an int, got {seed!r}")
        self.budget = int(budget)
        self.seed = int(seed)

    def params(self) -> dict[str, Any]:
        """Parameters to record in a report."""
        return {"budget": self.budget, "seed": self.seed, "edit_unit": self.edit_unit}

    def perturb(self, texts: Sequence[str]) -> list[str]:
        """Perturbed copy of each text (same order, same length).

        Raises
        ------
        TypeError
            If ``texts`` is a bare string or holds a non-string (the message names its index).
        """
        if isinstance(texts, str):
            raise TypeError(f"{self.name}: perturb takes a list of texts, not one str")
        out = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"{self.name}: text {i} is {type(text).__name__}, not str")
            rng = np.random.default_rng([self.seed, zlib.crc32(text.encode("utf-8"))])
            out.append(self._perturb(text, self.budget, rng) if self.budget else text)
        return out

    def __call__(self, texts: Sequence[str]) -> list[str]:
        return self.perturb(texts)

    @abstractmethod
    def _perturb(self, text: str, budget: int, rng: np.random.Generator) -> str:
        """Apply up to ``budget`` edits to ``text``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(budget={self.budget}, seed={self.seed})"


def pick(rng: np.random.Generator, candidates: Sequence[int], n: int, name: str) -> list[int]:
    """``n`` distinct candidates in increasing order (fewer, logged, if there are fewer)."""
    if len(candidates) < n:
        log.debug("%s: only %d eligible positions for budget %d", name, len(candidates), n)
        n = len(candidates)
    chosen = rng.choice(np.asarray(candidates, dtype=np.int64), size=n, replace=False)
    return sorted(int(c) for c in chosen)


def disjoint_pairs(rng: np.random.Generator, starts: Sequence[int], n: int) -> list[int]:
    """Up to ``n`` pair starts i (covering i, i+1) that share no position, in order."""
    order = rng.permutation(np.asarray(starts, dtype=np.int64))
    taken: set[int] = set()
    chosen: list[int] = []
    for i in (int(s) for s in order):
        if len(chosen) == n:
            break
        if i in taken or i + 1 in taken:
            continue
        taken.update((i, i + 1))
        chosen.append(i)
    return sorted(chosen)
