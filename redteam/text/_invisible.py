"""Invisible characters: zero-width joiners and spaces (Boucher et al., S&P 2022)."""

from __future__ import annotations

import numpy as np

from redteam.text._base import TextAttack, pick, text_attacks

#: ZERO WIDTH SPACE, ZERO WIDTH NON-JOINER, ZERO WIDTH JOINER.
INVISIBLE_CHARS: tuple[str, ...] = ("\u200b", "\u200c", "\u200d")


@text_attacks.decorator("invisible")
class Invisible(TextAttack):
    """Insert ``budget`` zero-width characters (ZWSP/ZWNJ/ZWJ), each at a distinct gap
    between two characters (one insertion each; renders the same).

    Parameters
    ----------
    budget, seed
        See :class:`TextAttack`.
    chars : tuple of str
        The invisible characters drawn from (default :data:`INVISIBLE_CHARS`).
    """

    name = "invisible"

    def __init__(
        self, *, budget: int = 1, seed: int = 0, chars: tuple[str, ...] = INVISIBLE_CHARS
    ) -> None:
        super().__init__(budget=budget, seed=seed)
        if not chars or any(len(c) != 1 for c in chars):
            raise ValueError(f"invisible: chars must be single characters, got {chars!r}")
        self.chars = tuple(chars)

    def _perturb(self, text: str, budget: int, rng: np.random.Generator) -> str:
        gaps = set(pick(rng, list(range(1, len(text))), budget, self.name))
        out = []
        for i, c in enumerate(text):
            if i in gaps:
                out.append(self.chars[int(rng.integers(len(self.chars)))])
            out.append(c)
        return "".join(out)
