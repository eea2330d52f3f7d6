"""Bidi reordering: encoded order differs, rendered order does not (Boucher et al.)."""

from __future__ import annotations

import numpy as np

from redteam.text._base import TextAttack, disjoint_pairs, text_attacks

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
LRO = "\u202d"  # LEFT-TO-RIGHT OVERRIDE
PDF = "\u202c"  # POP DIRECTIONAL FORMATTING


@text_attacks.decorator("bidi-reorder")
class BidiReorder(TextAttack):
    """Swap ``budget`` disjoint adjacent letter pairs ``ab`` and wrap each as
    ``RLO b a PDF``: the override displays ``ba`` right-to-left, i.e. as ``ab``, so the
    text renders unchanged while a model reads swapped letters and two control characters.

    One edit = one wrapped pair (two insertions and one transposition; length + 2).
    """

    name = "bidi-reorder"
    edit_unit = "wrapped pair: 2 insertions + 1 transposition"

    def _perturb(self, text: str, budget: int, rng: np.random.Generator) -> str:
        starts = [
            i
            for i in range(len(text) - 1)
            if text[i].isalpha() and text[i + 1].isalpha() and text[i] != text[i + 1]
        ]
        chosen = set(disjoint_pairs(rng, starts, budget))
        out, i = [], 0
        while i < len(text):
            if i in chosen:
                out.append(RLO + text[i + 1] + text[i] + PDF)
                i += 2
            else:
                out.append(text[i])
                i += 1
        return "".join(out)
