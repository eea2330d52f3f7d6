"""Curated Latin homoglyphs from Unicode's confusables table.

Provenance: every pair below is a single-code-point entry of the Unicode Technical
Standard #39 data file ``confusables.txt`` (https://www.unicode.org/Public/security/
latest/confusables.txt, type MA), restricted to Cyrillic and Greek letters whose
prototype is one ASCII letter. Each Latin letter lists its look-alikes; the fold map is the
inverse. Two deliberate departures from the file's skeletons, so folding restores the
letter the attacker imitated rather than the file's prototype: Cyrillic/Greek capital I
(whose skeleton in the file is ``l``) fold to ``I``, and CYRILLIC LETTER PALOCHKA U+04C0
folds to ``l`` as in the file. NFKC already folds the fullwidth and mathematical
alphanumerics, so they are left to the sanitiser's NFKC step.
"""

from __future__ import annotations

#: Latin letter -> look-alike code points (Cyrillic, Greek), from confusables.txt.
HOMOGLYPHS: dict[str, tuple[str, ...]] = {
    "a": ("\u0430", "\u03b1"),  # CYRILLIC SMALL A, GREEK SMALL ALPHA
    "c": ("\u0441",),  # CYRILLIC SMALL ES
    "d": ("\u0501",),  # CYRILLIC SMALL KOMI DE
    "e": ("\u0435",),  # CYRILLIC SMALL IE
    "h": ("\u04bb",),  # CYRILLIC SMALL SHHA
    "i": ("\u0456", "\u03b9"),  # CYRILLIC SMALL BYELORUSSIAN-UKRAINIAN I, GREEK SMALL IOTA
    "j": ("\u0458", "\u03f3"),  # CYRILLIC SMALL JE, GREEK LETTER YOT
    "l": ("\u04c0",),  # CYRILLIC LETTER PALOCHKA
    "o": ("\u043e", "\u03bf"),  # CYRILLIC SMALL O, GREEK SMALL OMICRON
    "p": ("\u0440", "\u03c1"),  # CYRILLIC SMALL ER, GREEK SMALL RHO
    "q": ("\u051b",),  # CYRILLIC SMALL QA
    "r": ("\u0433",),  # CYRILLIC SMALL GHE
    "s": ("\u0455",),  # CYRILLIC SMALL DZE
    "u": ("\u03c5",),  # GREEK SMALL UPSILON
    "v": ("\u0475", "\u03bd"),  # CYRILLIC SMALL IZHITSA, GREEK SMALL NU
    "w": ("\u051d",),  # CYRILLIC SMALL WE
    "x": ("\u0445",),  # CYRILLIC SMALL HA
    "y": ("\u0443", "\u04af", "\u03b3"),  # CYRILLIC SMALL U, STRAIGHT U, GREEK SMALL GAMMA
    "A": ("\u0410", "\u0391"),
    "B": ("\u0412", "\u0392"),
    "C": ("\u0421",),
    "E": ("\u0415", "\u0395"),
    "H": ("\u041d", "\u0397"),
    "I": ("\u0406", "\u0399"),
    "J": ("\u0408",),
    "K": ("\u041a", "\u039a"),
    "M": ("\u041c", "\u039c"),
    "N": ("\u039d",),
    "O": ("\u041e", "\u039f"),
    "P": ("\u0420", "\u03a1"),
    "S": ("\u0405",),
    "T": ("\u0422", "\u03a4"),
    "V": ("\u0474",),
    "W": ("\u051c",),
    "X": ("\u0425", "\u03a7"),
    "Y": ("\u0423", "\u04ae", "\u03a5"),
    "Z": ("\u0396",),
}

#: Look-alike code point -> the Latin letter it imitates.
FOLD: dict[str, str] = {g: latin for latin, glyphs in HOMOGLYPHS.items() for g in glyphs}
