"""Case noise: flip the case of letters."""

from __future__ import annotations

import numpy as np

from redteam.text._base import TextAttack, pick, text_attacks


@text_attacks.decorator("case-noise")
class CaseNoise(TextAttack):
    """Flip the case of ``budget`` distinct cased letters (one substitution each)."""

    name = "case-noise"

    def _perturb(self, text: str, budget: int, rng: np.random.Generator) -> str:
        # only letters whose swapped case is one character and swaps back (not 'ß')
        eligible = [
            i
            for i, c in enumerate(text)
            if c.isalpha()
            and c.swapcase() != c
            and len(c.swapcase()) == 1
            and c.swapcase().swapcase() == c
        ]
        chars = list(text)
        for i in pick(rng, eligible, budget, self.name):
            chars[i] = chars[i].swapcase()
        return "".join(chars)
