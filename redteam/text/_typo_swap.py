"""Typo: swap two adjacent, different letters (one transposition per edit)."""

from __future__ import annotations

import numpy as np

from redteam.text._base import TextAttack, disjoint_pairs, text_attacks


@text_attacks.decorator("typo-swap")
class TypoSwap(TextAttack):
    """Swap ``budget`` disjoint pairs of adjacent, different alphanumeric characters.

    One edit is one adjacent transposition: Hamming distance 2, optimal string alignment
    distance 1 (Levenshtein 2).
    """

    name = "typo-swap"
    edit_unit = "transposition"

    def _perturb(self, text: str, budget: int, rng: np.random.Generator) -> str:
        starts = [
            i
            for i in range(len(text) - 1)
            if text[i].isalnum() and text[i + 1].isalnum() and text[i] != text[i + 1]
        ]
        chars = list(text)
        for i in disjoint_pairs(rng, starts, budget):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        return "".join(chars)
