"""Black-box text query attacks (Boucher et al., "Bad Characters", S&P 2022, and typos).

Each attack is a :class:`TextAttack` subclass in its own module, registered in
:data:`text_attacks` under its name; ``text_attacks.get(name)(budget=b, seed=s)`` builds one.
"""

# Imported to register the attacks, in catalogue order: ``text_attacks.in_order()`` is the
# red-team suite's default order (typos, then Unicode tricks, then noise).
# isort: off
from redteam.text import _typo_swap, _typo_drop, _typo_insert, _typo_keyboard  # noqa: F401
from redteam.text import _homoglyph, _invisible, _bidi  # noqa: F401
from redteam.text import _case_noise, _whitespace_noise  # noqa: F401

# isort: on
from redteam.text._base import TextAttack, text_attacks
from redteam.text._bidi import LRO, PDF, RLO, BidiReorder
from redteam.text._case_noise import CaseNoise
from redteam.text._confusables import FOLD, HOMOGLYPHS
from redteam.text._evaluate import RefuseFn, TextEmbedFn, evaluate_text_attack, refuse_empty
from redteam.text._homoglyph import Homoglyph
from redteam.text._invisible import INVISIBLE_CHARS, Invisible
from redteam.text._typo_drop import TypoDrop
from redteam.text._typo_insert import TypoInsert
from redteam.text._typo_keyboard import QWERTY_NEIGHBOURS, TypoKeyboard
from redteam.text._typo_swap import TypoSwap
from redteam.text._whitespace_noise import UNICODE_SPACES, WhitespaceNoise

__all__ = [
    "FOLD",
    "HOMOGLYPHS",
    "INVISIBLE_CHARS",
    "LRO",
    "PDF",
    "QWERTY_NEIGHBOURS",
    "RLO",
    "UNICODE_SPACES",
    "BidiReorder",
    "CaseNoise",
    "Homoglyph",
    "Invisible",
    "RefuseFn",
    "TextAttack",
    "TextEmbedFn",
    "TypoDrop",
    "TypoInsert",
    "TypoKeyboard",
    "TypoSwap",
    "WhitespaceNoise",
    "evaluate_text_attack",
    "refuse_empty",
    "text_attacks",
]
