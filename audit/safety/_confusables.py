"""Look-alike letters folded to the ASCII letter they imitate, for text hardening.

Two sources, both applied after NFKC (which already folds fullwidth, mathematical,
circled and superscript letters) and after diacritics are stripped:

1. ``TABLE``: single-code-point entries of Unicode's UTS #39 ``confusables.txt``
   (https://www.unicode.org/Public/security/latest/confusables.txt, type MA) whose
   prototype is one ASCII letter, for the Cyrillic, Greek, Armenian, Cherokee and Latin
   IPA letters most used to spoof Latin text. Capital Greek/Cyrillic I (prototype ``l``
   in the file) fold to ``i``, the letter they are used to imitate; matching is
   case-folded, so capitals and small letters fold alike.
2. Derived from Unicode character names (:func:`derived_folds`): every
   ``LATIN LETTER SMALL CAPITAL X`` and every ``LATIN SMALL/CAPITAL LETTER X WITH ...``
   that has no canonical decomposition (stroke, bar, hook: ``ø``, ``ł``, ``ɨ``) folds to
   ``x``; these are the Latin letter by definition, whatever the exact glyph.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: look-alike -> ASCII letter (UTS #39 confusables.txt, single-letter prototypes).
TABLE: dict[str, str] = {
    # Cyrillic
    "\u0430": "a", "\u0410": "a", "\u0412": "b", "\u042c": "b",
    "\u0441": "c", "\u0421": "c", "\u0501": "d", "\u0435": "e", "\u0415": "e",
    "\u04bd": "e", "\u050c": "g", "\u04bb": "h", "\u041d": "h", "\u0456": "i",
    "\u0406": "i", "\u04cf": "i", "\u04c0": "l", "\u0458": "j", "\u0408": "j",
    "\u041a": "k", "\u041c": "m", "\u043e": "o", "\u041e": "o", "\u0440": "p",
    "\u0420": "p", "\u051b": "q", "\u0433": "r", "\u0455": "s", "\u0405": "s",
    "\u0422": "t", "\u0443": "y", "\u0423": "y", "\u04af": "y", "\u04ae": "y",
    "\u0475": "v", "\u0474": "v", "\u051d": "w", "\u051c": "w", "\u0461": "w",
    "\u0445": "x", "\u0425": "x",
    # Greek
    "\u03b1": "a", "\u0391": "a", "\u0392": "b", "\u03f2": "c", "\u03f9": "c",
    "\u0395": "e", "\u0396": "z", "\u0397": "h", "\u03b9": "i", "\u0399": "i",
    "\u03f3": "j", "\u037f": "j", "\u039a": "k", "\u039c": "m", "\u039d": "n",
    "\u03bf": "o", "\u039f": "o", "\u03c3": "o", "\u03c1": "p", "\u03a1": "p",
    "\u03f1": "p", "\u03a4": "t", "\u03c5": "u", "\u03a5": "y", "\u03b3": "y",
    "\u03bd": "v", "\u03a7": "x", "\u03dc": "f", "\u03fa": "m",
    # Armenian
    "\u054d": "u", "\u054f": "s", "\u0555": "o", "\u0561": "w", "\u0563": "q",
    "\u0566": "q", "\u0570": "h", "\u0578": "n", "\u057c": "n", "\u057d": "u",
    "\u0581": "g", "\u0584": "f", "\u0585": "o",
    # Cherokee capitals
    "\u13aa": "a", "\u13f4": "b", "\u13df": "c", "\u13a0": "d", "\u13ac": "e",
    "\u13c0": "g", "\u13bb": "h", "\u13ab": "j", "\u13e6": "k", "\u13de": "l",
    "\u13b7": "m", "\u13e2": "p", "\u13a1": "r", "\u13da": "s", "\u13a2": "t",
    "\u13d9": "v", "\u13b3": "w", "\u13bd": "y", "\u13c3": "z",
    # Latin IPA and other Latin letters shaped like another letter
    "\u0251": "a", "\u0261": "g", "\u0131": "i", "\u0269": "i", "\u026a": "i",
    "\u0237": "j", "\u026f": "w", "\u028b": "u", "\u028f": "y", "\u0263": "y",
    "\u01c0": "l", "\u0185": "b",
}  # fmt: skip

_LATIN_NAME = re.compile(r"^LATIN (?:SMALL|CAPITAL) LETTER ([A-Z])(?: WITH .*)?$")
_SMALL_CAPITAL = re.compile(r"^LATIN LETTER SMALL CAPITAL ([A-Z])$")
# Blocks holding Latin letter variants: Latin-1 Supplement to Latin Extended-B, IPA,
# Phonetic Extensions (+ Supplement), Latin Extended Additional, -C, -D and -E.
_LATIN_BLOCKS = (
    (0x00C0, 0x024F),
    (0x0250, 0x02AF),
    (0x1D00, 0x1DBF),
    (0x1E00, 0x1EFF),
    (0x2C60, 0x2C7F),
    (0xA720, 0xA7FF),
    (0xAB30, 0xAB6F),
)


@lru_cache(maxsize=1)
def derived_folds() -> dict[str, str]:
    """Latin letter variants folded to their base letter, derived from character names."""
    out: dict[str, str] = {}
    for lo, hi in _LATIN_BLOCKS:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if unicodedata.decomposition(ch) and not unicodedata.decomposition(ch).startswith("<"):
                continue  # canonically decomposable: NFKD + mark stripping handles it
            name = unicodedata.name(ch, "")
            m = _LATIN_NAME.match(name) or _SMALL_CAPITAL.match(name)
            if m:
                out[ch] = m.group(1).lower()
    return out


@lru_cache(maxsize=1)
def fold_table() -> dict[int, str]:
    """``str.translate`` table of every fold (derived names first, the curated table wins)."""
    table = {ord(k): v for k, v in derived_folds().items()}
    table.update({ord(k): v for k, v in TABLE.items()})
    return table
