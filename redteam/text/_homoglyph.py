"""Homoglyphs: replace Latin letters by Unicode confusables (Boucher et al., S&P 2022)."""

from __future__ import annotations

import numpy as np

from redteam.text._base import TextAttack, pick, text_attacks
from redteam.text._confusables import HOMOGLYPHS


@text_attacks.decorator("homoglyph")
class Homoglyph(TextAttack):
    """Replace ``budget`` distinct Latin letters by a look-alike from
    :data:`~redteam.text.HOMOGLYPHS` (one substitution each; renders the same)."""

    name = "homoglyph"

    def _perturb(self, text: str, budget: int, rng: np.random.Generator) -> str:
        chars = list(text)
        for i in pick(rng, [i for i, c in enumerate(text) if c in HOMOGLYPHS], budget, self.name):
            glyphs = HOMOGLYPHS[chars[i]]
            chars[i] = glyphs[int(rng.integers(len(glyphs)))]
        return "".join(chars)
