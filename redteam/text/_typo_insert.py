"""Typo: insert a random lower-case letter (one insertion per edit)."""

from __future__ import annotations

import string

import numpy as np

from redteam.text._base import TextAttack, pick, text_attacks

_LETTERS = string.ascii_lowercase


@text_attacks.decorator("typo-insert")
class TypoInsert(TextAttack):
    """Insert ``budget`` random ASCII letters, each right after a distinct alphanumeric
    character (inside or at the end of a word; Levenshtein 1 each)."""

    name = "typo-insert"

    def _perturb(self, text: str, budget: int, rng: np.random.Generator) -> str:
        after = set(pick(rng, [i for i, c in enumerate(text) if c.isalnum()], budget, self.name))
        out = []
        for i, c in enumerate(text):
            out.append(c)
            if i in after:
                out.append(_LETTERS[int(rng.integers(len(_LETTERS)))])
        return "".join(out)
