"""Typo: replace a letter by a QWERTY neighbour (one substitution per edit)."""

from __future__ import annotations

import numpy as np

from redteam.text._base import TextAttack, pick, text_attacks

#: Physically adjacent keys on a US QWERTY keyboard (letters only).
QWERTY_NEIGHBOURS: dict[str, str] = {
    "q": "wa", "w": "qeas", "e": "wrsd", "r": "etdf", "t": "ryfg", "y": "tugh",
    "u": "yihj", "i": "uojk", "o": "ipkl", "p": "ol",
    "a": "qwsz", "s": "weadzx", "d": "erfsxc", "f": "rtdgcv", "g": "tyfhvb",
    "h": "yugjbn", "j": "uihknm", "k": "iojlm", "l": "opk",
    "z": "asx", "x": "zsdc", "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm",
    "m": "njk",
}  # fmt: skip


@text_attacks.decorator("typo-keyboard")
class TypoKeyboard(TextAttack):
    """Replace ``budget`` distinct ASCII letters by a QWERTY neighbour, keeping case
    (Hamming 1 each)."""

    name = "typo-keyboard"

    def _perturb(self, text: str, budget: int, rng: np.random.Generator) -> str:
        eligible = [i for i, c in enumerate(text) if c.lower() in QWERTY_NEIGHBOURS]
        chars = list(text)
        for i in pick(rng, eligible, budget, self.name):
            options = QWERTY_NEIGHBOURS[chars[i].lower()]
            new = options[int(rng.integers(len(options)))]
            chars[i] = new.upper() if chars[i].isupper() else new
        return "".join(chars)
