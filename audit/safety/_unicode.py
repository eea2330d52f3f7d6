"""Unicode hardening of text before any text check, so obfuscation does not evade it.

:func:`harden` gives one canonical form: NFKC (fullwidth, mathematical, circled letters),
invisible and control characters removed (zero-width, bidi controls, variation selectors,
fillers, tags), every kind of space made one ASCII space, diacritics and combining
overlays stripped (NFKD, marks dropped), look-alike letters folded to ASCII
(:mod:`._confusables`) and case folded.

:func:`text_views` gives every reading a check should see: the logical and the displayed
order (a right-to-left override shows reversed letters), letters spaced out joined back
(``f u c k``, ``f.u.c.k``), letter runs squeezed (``fuuuck``), and leetspeak folded
(``5h1t``; both ``1 -> i`` and ``1 -> l``). A check passes only if every view passes.
"""

from __future__ import annotations

import re
import unicodedata

from audit.safety._confusables import fold_table

# Bidi formatting characters (UAX #9). Embeddings/overrides close with PDF, isolates with PDI.
_EMBEDDINGS = {"\u202a": "LRE", "\u202b": "RLE", "\u202d": "LRO", "\u202e": "RLO"}
_ISOLATES = {"\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI"}
_PDF, _PDI = "\u202c", "\u2069"
BIDI_CONTROLS = frozenset({*_EMBEDDINGS, *_ISOLATES, _PDF, _PDI, "\u200e", "\u200f", "\u061c"})

# Default-ignorable characters outside category Cf that render as nothing: combining
# grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian variation selectors.
_EXTRA_INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0\u17b4\u17b5\u180b\u180c\u180d\u180f")
_SPACE_LIKE = frozenset("\u2800")  # BRAILLE PATTERN BLANK: renders as a space

#: Leetspeak digit/symbol -> letter, applied to tokens that also hold a letter.
LEET: dict[str, str] = {
    "0": "o", "1": "i", "!": "i", "|": "l", "3": "e", "4": "a", "@": "a",
    "5": "s", "$": "s", "7": "t", "+": "t", "8": "b", "9": "g", "€": "e",
}  # fmt: skip
_LEET_ALT = {"1": "l", "|": "i"}  # the other common reading of the ambiguous ones
_LETTER = re.compile(r"[^\W\d_]")
# Three or more single characters joined by the same kind of separator: f u c k, f.u.c.k
_SPACED = re.compile(r"(?<![^\W_])(?:[^\W_](?:[ .\-_*·•/\\|~]{1,3})){2,}[^\W_](?![^\W_])")
_SEPARATORS = re.compile(r"[ .\-_*·•/\\|~]+")
_WS = re.compile(r"\s+")
_RUN = re.compile(r"([^\W\d_])\1{2,}")  # a letter three or more times in a row


def display_order(text: str) -> str:
    """Approximate rendered order: the contents of right-to-left overrides reversed.

    Only RLO reorders Latin letters (UAX #9 treats them as strong right-to-left there);
    nested embeddings or isolates inside it move as one unit. Unclosed controls close at
    a newline or the end of the text.
    """
    if not any(c in BIDI_CONTROLS for c in text):
        return text
    stack: list[tuple[str, list[str]]] = [("root", [])]

    def close() -> None:
        kind, units = stack.pop()
        stack[-1][1].append("".join(reversed(units)) if kind == "RLO" else "".join(units))

    for ch in text:
        if ch in _EMBEDDINGS:
            stack.append((_EMBEDDINGS[ch], []))
        elif ch in _ISOLATES:
            stack.append((_ISOLATES[ch], []))
        elif ch == _PDF:
            if len(stack) > 1 and stack[-1][0] in _EMBEDDINGS.values():
                close()
        elif ch == _PDI:
            while len(stack) > 1 and stack[-1][0] not in _ISOLATES.values():
                close()
            if len(stack) > 1:
                close()
        elif ch in "\n\u2029":
            while len(stack) > 1:
                close()
            stack[-1][1].append(ch)
        else:
            stack[-1][1].append(ch)
    while len(stack) > 1:
        close()
    return "".join(stack[0][1])


def _visible(ch: str) -> str:
    """The character, ``" "`` for any space, or ``""`` for invisible/control ones."""
    if ch in _SPACE_LIKE or ch.isspace():
        return " "
    cp = ord(ch)
    if ch in _EXTRA_INVISIBLE or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:
        return ""
    # Cf: format (zero-width, bidi, tags, soft hyphen); Cc: controls; Cn/Co/Cs: unassigned,
    # private use and lone surrogates, which carry no standard glyph.
    return "" if unicodedata.category(ch) in ("Cf", "Cc", "Cn", "Co", "Cs") else ch


def harden(text: str, *, bidi: str = "logical") -> str:
    """Canonical form of ``text`` for matching (see the module docstring).

    Parameters
    ----------
    text : str
        Any text.
    bidi : {"logical", "display"}
        Read in stored order, or in the order a right-to-left override displays.
    """
    if bidi not in ("logical", "display"):
        raise ValueError(f"bidi must be 'logical' or 'display', got {bidi!r}")
    s = unicodedata.normalize("NFKC", text)
    if bidi == "display":
        s = display_order(s)
    s = "".join(_visible(c) for c in s)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if unicodedata.category(c) not in ("Mn", "Me"))
    table = fold_table()
    # fold before and after case folding: casefold maps some look-alikes (e.g. Cherokee
    # small letters) onto others that the table knows
    s = s.translate(table).casefold().translate(table)
    s = unicodedata.normalize("NFKC", s)
    return _WS.sub(" ", s).strip()


def leet_fold(text: str, *, alternate: bool = False) -> str:
    """Fold leetspeak in tokens that hold at least one letter (``2024`` stays ``2024``).

    ``alternate`` reads the ambiguous ``1`` as ``l`` and ``|`` as ``i``.
    """
    table = dict(LEET)
    if alternate:
        table.update(_LEET_ALT)
    trans = str.maketrans(table)
    out = []
    for token in text.split(" "):
        if _LETTER.search(token) and any(c in table for c in token):
            # keep a leading/trailing '!' or '|' as punctuation ("hell!" is not "helli")
            core = token.rstrip("!|").lstrip("|")
            lead = token[: len(token) - len(token.lstrip("|"))]
            trail = token[len(lead) + len(core) :]
            token = lead + core.translate(trans) + trail
        out.append(token)
    return " ".join(out)


def join_spaced(text: str, *, keep_article: bool = False) -> str:
    """Join runs of three or more single characters spaced out: ``f u c k`` -> ``fuck``.

    With ``keep_article`` a run starting with the one-letter words ``a`` or ``i`` keeps
    that word apart (``such a f u c k`` -> ``such a fuck``, not ``such afuck``).
    """

    def join(m: re.Match[str]) -> str:
        run = m.group(0)
        if keep_article and run[0] in "ai" and len(_SEPARATORS.sub("", run)) > 3:
            head = _SEPARATORS.match(run, 1)
            if head is not None:
                return run[0] + " " + _SEPARATORS.sub("", run[head.end() :])
        return _SEPARATORS.sub("", run)

    return _SPACED.sub(join, text)


def squeeze(text: str, keep: int = 1) -> str:
    """Letters repeated three or more times cut to ``keep``: ``fuuuck`` -> ``fuck``."""
    return _RUN.sub(lambda m: m.group(1) * keep, text)


def text_views(text: str) -> tuple[str, ...]:
    """Every hardened reading of ``text`` a check must pass (distinct, stable order)."""
    bases = [harden(text)]
    if any(c in BIDI_CONTROLS for c in text):
        bases.append(harden(text, bidi="display"))
    views: dict[str, None] = {}
    for base in bases:
        for v in dict.fromkeys((base, join_spaced(base), join_spaced(base, keep_article=True))):
            # runs of a letter cut to one and to two ("fuuuck", "asssshole")
            for w in dict.fromkeys((v, squeeze(v, 1), squeeze(v, 2))):
                views[w] = None
                views[leet_fold(w)] = None
                views[leet_fold(w, alternate=True)] = None
            views[join_spaced(leet_fold(v))] = None  # "5 h 1 t": fold first, then join
    return tuple(v for v in views if v)
