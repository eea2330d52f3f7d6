"""Whitespace noise: doubled spaces and exotic Unicode spaces."""

from __future__ import annotations

import numpy as np

from redteam.text._base import TextAttack, pick, text_attacks

#: Space separators (category Zs) that NFKC maps back to U+0020.
UNICODE_SPACES: tuple[str, ...] = (
    "\u00a0", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007",
    "\u2008", "\u2009", "\u200a", "\u202f", "\u205f", "\u3000",
)  # fmt: skip


@text_attacks.decorator("whitespace-noise")
class WhitespaceNoise(TextAttack):
    """At ``budget`` distinct ASCII spaces, either double the space (one insertion) or
    replace it by a Unicode space separator (one substitution), with equal probability."""

    name = "whitespace-noise"

    def _perturb(self, text: str, budget: int, rng: np.random.Generator) -> str:
        chosen = set(pick(rng, [i for i, c in enumerate(text) if c == " "], budget, self.name))
        out = []
        for i, c in enumerate(text):
            if i not in chosen:
                out.append(c)
            elif rng.random() < 0.5:
                out.append("  ")
            else:
                out.append(UNICODE_SPACES[int(rng.integers(len(UNICODE_SPACES)))])
        return "".join(out)
