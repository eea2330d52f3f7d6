"""Obfuscations of one offensive term, for measuring evasion of the text checks.

Each function rewrites a term so that it still reads as the term to a person but not
to a naive string match. Homoglyphs come from ``redteam.text.HOMOGLYPHS`` (curated there
independently of the filter's fold table, so the test does not grade its own answers).
"""

from __future__ import annotations

from collections.abc import Callable

_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_VOWELS = set("aeiou")
ZWSP = "\u200b"
RLO, PDF = "\u202e", "\u202c"


def leet(term: str) -> str:
    """``shit`` -> ``5h17``."""
    return "".join(_LEET.get(c, c) for c in term)


def homoglyph(term: str) -> str:
    """Every letter that has a Cyrillic/Greek look-alike replaced by it."""
    from redteam.text import HOMOGLYPHS

    return "".join(HOMOGLYPHS[c][0] if c in HOMOGLYPHS else c for c in term)


def zero_width(term: str) -> str:
    """A zero-width space between every two letters."""
    return ZWSP.join(term)


def spaced(term: str) -> str:
    """``f u c k``."""
    return " ".join(term)


def dotted(term: str) -> str:
    """``f.u.c.k``."""
    return ".".join(term)


def masked(term: str) -> str:
    """Inner vowels masked: ``f*ck``, ``b*llsh*t``."""
    return term[0] + "".join("*" if c in _VOWELS else c for c in term[1:-1]) + term[-1]


def repeated(term: str) -> str:
    """Vowels tripled: ``fuuuck``."""
    return "".join(c * 3 if c in _VOWELS else c for c in term)


def diacritics(term: str) -> str:
    """A combining diaeresis on every vowel: ``fück``."""
    return "".join(c + "\u0308" if c in _VOWELS else c for c in term)


def fullwidth(term: str) -> str:
    """Fullwidth forms: ``ｆｕｃｋ``."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in term)


def bidi(term: str) -> str:
    """Stored reversed inside a right-to-left override, so it displays as the term."""
    return RLO + term[::-1] + PDF


def case_mix(term: str) -> str:
    """Alternating case: ``FuCk``."""
    return "".join(c.upper() if i % 2 == 0 else c for i, c in enumerate(term))


_SYMBOLS = {"a": "@", "s": "$", "i": "!", "o": "0"}
# Respelling rules by sound, applied in order where they match (f -> ph as in "phuck",
# hard c/ck -> k/kk, final s -> z, final er -> a, i -> y as in "shyt").
_PHONETIC = (
    (r"ck", "kk"),
    (r"c(?=[aou])", "k"),
    (r"f", "ph"),
    (r"(?<=\w)s$", "z"),
    (r"er$", "a"),
    (r"i(?=[^aeiou])", "y"),
)


def symbols(term: str) -> str:
    """Letters masked by the symbols that look like them: ``@ss``, ``$hit``, ``b!tch``."""
    return "".join(_SYMBOLS.get(c, c) for c in term)


def phonetic(term: str) -> str:
    """Respelt by sound: ``phuck``, ``shyt``, ``kokk``, ``bytchez``."""
    import re

    for pattern, repl in _PHONETIC:
        term = re.sub(pattern, repl, term)
    return term


def mixed(term: str) -> str:
    """Leet on the first half, homoglyphs on the second, zero-width spaces between."""
    mid = len(term) // 2
    return zero_width(leet(term[:mid]) + homoglyph(term[mid:]))


#: name -> obfuscation, in report order.
OBFUSCATIONS: dict[str, Callable[[str], str]] = {
    "plain": lambda t: t,
    "leet": leet,
    "homoglyph": homoglyph,
    "zero-width": zero_width,
    "spaced": spaced,
    "dotted": dotted,
    "masked": masked,
    "repeated": repeated,
    "diacritics": diacritics,
    "fullwidth": fullwidth,
    "bidi": bidi,
    "case": case_mix,
    "mixed": mixed,
    "symbols": symbols,
    "phonetic": phonetic,
}
