"""Unicode sanitisation of text queries: the defense against Bad-Characters attacks.

Steps, in order (each can be switched off): NFKC normalisation; resolving explicit bidi
overrides (LRO/RLO ... PDF) into display order; stripping default-ignorable code points
(zero-width characters, bidi controls, variation selectors, tags, ...); folding Latin
homoglyphs from :data:`redteam.text.FOLD`; collapsing whitespace runs; optional casefold.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Literal

from redteam.text._confusables import FOLD

#: Default_Ignorable_Code_Point ranges from Unicode's DerivedCoreProperties.txt (15.1).
DEFAULT_IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)  # fmt: skip

_LRO, _RLO, _PDF = "\u202d", "\u202e", "\u202c"
_PARAGRAPH_ENDS = frozenset("\n\r\u2029\x1c\x1d\x1e\x85")

ConfusableMode = Literal["auto", "all", "none"]


def is_default_ignorable(ch: str) -> bool:
    """Whether ``ch`` has the Unicode property Default_Ignorable_Code_Point."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in DEFAULT_IGNORABLE_RANGES)


def resolve_bidi_overrides(text: str) -> str:
    """Rewrite LRO/RLO ... PDF spans in display order and drop the three controls.

    Under RIGHT-TO-LEFT OVERRIDE every character is shown right-to-left, so a span's
    display order is its reversed logical order (nested spans are reordered as units).
    A paragraph separator closes all open spans, as in the Unicode bidi algorithm. Other
    bidi controls are left for :func:`is_default_ignorable` stripping.
    """
    stack: list[tuple[str, list[str]]] = [("", [])]

    def close() -> None:
        kind, parts = stack.pop()
        span = "".join(parts)
        stack[-1][1].append(span[::-1] if kind == _RLO else span)

    for ch in text:
        if ch in (_LRO, _RLO):
            stack.append((ch, []))
        elif ch == _PDF:
            if len(stack) > 1:
                close()
        else:
            if ch in _PARAGRAPH_ENDS:
                while len(stack) > 1:
                    close()
            stack[-1][1].append(ch)
    while len(stack) > 1:
        close()
    return "".join(stack[0][1])


def fold_confusables(text: str, mode: ConfusableMode = "auto") -> str:
    """Replace Latin homoglyphs by the Latin letter they imitate.

    ``"all"`` folds every look-alike. ``"auto"`` spares genuine Cyrillic/Greek words: a
    look-alike is folded when its word also holds a Latin letter, or when the text holds
    no letter that is neither Latin nor a look-alike (so it reads as Latin-script text).
    ``"none"`` returns ``text`` unchanged.
    """
    if mode == "none":
        return text
    if mode not in ("auto", "all"):
        raise ValueError(f"confusables must be 'auto', 'all' or 'none', got {mode!r}")
    if mode == "all":
        return "".join(FOLD.get(c, c) for c in text)
    latin_text = not any(c.isalpha() and c not in FOLD and not _is_latin(c) for c in text)
    words = []
    for word in _split_keep_spaces(text):
        if latin_text or any(_is_latin(c) for c in word):
            word = "".join(FOLD.get(c, c) for c in word)
        words.append(word)
    return "".join(words)


class UnicodeSanitizer:
    """Unicode sanitisation of text queries: NFKC, bidi overrides resolved, invisible
    characters stripped, Latin homoglyphs folded.

    Callable: ``sanitizer(list_of_texts) -> list_of_texts``.

    Parameters
    ----------
    nfkc : bool
        Apply NFKC (fullwidth, ligatures, compatibility spaces -> plain forms).
    resolve_bidi : bool
        Put LRO/RLO override spans into display order (undoes bidi reordering).
    strip_ignorable : bool
        Remove default-ignorable code points (ZWSP/ZWJ/ZWNJ, bidi controls, BOM, ...).
        Note: this also removes ZWJ inside emoji sequences and ZWNJ in Persian text.
    confusables : {"auto", "all", "none"}
        Homoglyph folding, see :func:`fold_confusables`.
    collapse_whitespace : bool
        Collapse whitespace runs to one space and trim the ends.
    casefold : bool
        Casefold the result (undoes case noise; changes case-sensitive queries).
    """

    name = "unicode-sanitize"

    def __init__(
        self,
        *,
        nfkc: bool = True,
        resolve_bidi: bool = True,
        strip_ignorable: bool = True,
        confusables: ConfusableMode = "auto",
        collapse_whitespace: bool = True,
        casefold: bool = False,
    ) -> None:
        if confusables not in ("auto", "all", "none"):
            raise ValueError(f"confusables must be 'auto', 'all' or 'none', got {confusables!r}")
        self.nfkc = nfkc
        self.resolve_bidi = resolve_bidi
        self.strip_ignorable = strip_ignorable
        self.confusables: ConfusableMode = confusables
        self.collapse_whitespace = collapse_whitespace
        self.casefold = casefold

    def params(self) -> dict[str, object]:
        """Parameters to record in a report."""
        return dict(vars(self))

    def sanitize(self, text: str) -> str:
        """Sanitise one text."""
        if not isinstance(text, str):
            raise TypeError(f"unicode-sanitize: expected str, got {type(text).__name__}")
        if self.nfkc:
            text = unicodedata.normalize("NFKC", text)
        if self.resolve_bidi:
            text = resolve_bidi_overrides(text)
        if self.strip_ignorable:
            text = "".join(c for c in text if not is_default_ignorable(c))
        text = fold_confusables(text, self.confusables)
        if self.collapse_whitespace:
            text = " ".join(text.split())
        if self.casefold:
            text = text.casefold()
        return text

    def __call__(self, texts: Sequence[str]) -> list[str]:
        if isinstance(texts, str):
            raise TypeError("unicode-sanitize takes a list of texts, not one str")
        return [self.sanitize(t) for t in texts]


def _is_latin(ch: str) -> bool:
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN")


def _split_keep_spaces(text: str) -> list[str]:
    parts: list[str] = []
    word = ""
    for c in text:
        if c.isspace():
            if word:
                parts.append(word)
                word = ""
            parts.append(c)
        else:
            word += c
    if word:
        parts.append(word)
    return parts
