"""Typo: drop a character (one deletion per edit)."""

from __future__ import annotations

import numpy as np

from redteam.text._base import TextAttack, pick, text_attacks


@text_attacks.decorator("typo-drop")
class TypoDrop(TextAttack):
    """Delete ``budget`` distinct alphanumeric characters (Levenshtein 1 each)."""

    name = "typo-drop"

    def _perturb(self, text: str, budget: int, rng: np.random.Generator) -> str:
        drop = set(pick(rng, [i for i, c in enumerate(text) if c.isalnum()], budget, self.name))
        return "".join(c for i, c in enumerate(text) if i not in drop)
