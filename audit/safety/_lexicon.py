"""The abuse lexicon checker: a maintained word list matched on normalised readings.

The terms are ``data/abuse_lexicon.tsv``, derived by code from the word list that ships
in the better-profanity wheel (rules and sources: :mod:`audit.safety._lexicon_build`).
Matching is by whole words, so a term inside another word never hits (``Scunthorpe``,
``cockpit``, ``assassin``, ``Sussex``). Every hardened reading of the text
(:func:`~audit.safety._unicode.text_views`: NFKC, invisible characters removed,
look-alikes folded, spaced letters joined, runs squeezed, leetspeak folded) is split
into words, and a word hits when it is

- ``exact``: a listed term (multi-word terms match as word sequences);
- ``masked``: symbols stand in for letters (``f*ck``, ``f**k``, ``b#tch``): each of
  ``* # % ? _`` matches one letter of a listed term of the same length;
- ``inflected``: a listed term plus ``s/es/ed/er/ers/in/ing/y/z`` (``fuckz``);
- ``phonetic``: the same sound-alike spelling as a listed term (:func:`sound_fold`:
  ``ph``/``f``, ``ck``/``c``/``q``/``kk``/``k``, ``z``/``s``, ``y``/``i``, ``ee``/``i``,
  final ``-er``/``-a``/``-ah``/``-uh``), alone, inflected or as a word of a multi-word
  term (``phuck``, ``shyt``, ``sheeit``, ``azzhole``, ``nigguh``, ``jakk ophph``).

The last two apply only to words that are not common English words (outside wordfreq's
50,000 most frequent), nor, in text that is not mostly English, common words of any of
:data:`GATE_LANGUAGES`, nor capitalised words that do not open a sentence (names:
:func:`proper_nouns`). So no dictionary word is read as another (``tutte`` and
``possa`` in an Italian licence, ``repr`` and ``Joerg`` once read as respellings under
Metaphone, which collapses vowels; the fold keeps vowels apart), while ``kunt`` in an
English sentence still is. A listed term that is
also a census name does not hit inside a capitalised multi-word name (``Dick Van Dyke``,
``Moby Dick``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from audit.safety._checker import TextChecker
from audit.safety._decision import Finding
from audit.safety._unicode import harden, text_views

COMMON_WORDS_N = 50_000
#: Languages whose common words are not read as respellings in text that is not mostly
#: English (wordfreq's lists).
GATE_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl")
_WORD = re.compile(r"[^\W_]+")
_MASK = frozenset("*#%?_")
_PUNCT = ".,;:!?\"'()[]{}<>"
# Sound-alike spellings folded to one form, in order (both sides are folded, so a rule
# only has to be consistent): ph -> f, tch -> ch, ck/hard c/q -> k, z -> s, y as a vowel
# -> i, final ie -> i, ee/ea -> i, oo -> u, oa -> o, silent final e dropped, doubled
# letters single, and an unstressed final -er/-a/-ah/-uh (plural too) -> a.
_FOLD = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"ph", "f"),
        (r"tch", "ch"),
        (r"ck", "k"),
        (r"c(?=[aouklrt]|$)", "k"),
        (r"q", "k"),
        (r"z", "s"),
        (r"(?<=.)y(?![aeiou])", "i"),
        (r"ie(?=s?$)", "i"),
        (r"ee|ea", "i"),
        (r"oo", "u"),
        (r"oa", "o"),
        (r"(?<=[^aeiou])e$", ""),
        (r"(.)\1+", r"\1"),
        (r"(?:er|a|ah|uh)(?=s?$)", "a"),
    )
)
_FOLD_SUFFIXES = ("ing", "ers", "es", "ed", "er", "in", "s", "i", "a")
_SUFFIXES = ("ing", "ers", "es", "ed", "er", "in", "s", "y", "z")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")
_OPENS = re.compile(r"(?:^|[.!?:]\s+|[\n\"“(])\s*$")  # what precedes a sentence's first word
_NAME_RUN = re.compile(r"\b[A-Z][a-z]+(?:[ \-](?:(?:van|von|de|der|du|la|le) )?[A-Z][a-z]+)+")


def lexicon_path() -> Path:
    """The shipped lexicon (package data)."""
    return Path(__file__).resolve().parent / "data" / "abuse_lexicon.tsv"


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """wordfreq's most frequent English words (the dictionary the evaluation uses)."""
    from wordfreq import top_n_list

    return frozenset(top_n_list("en", COMMON_WORDS_N))


@lru_cache(maxsize=1)
def gate_words() -> frozenset[str]:
    """Common words of every gate language: never read as a respelling."""
    from wordfreq import top_n_list

    return frozenset(w for lang in GATE_LANGUAGES for w in top_n_list(lang, COMMON_WORDS_N))


def sound_fold(word: str) -> str:
    """One spelling for words that sound alike (``phuck`` and ``fuck`` -> ``fuk``)."""
    for rx, repl in _FOLD:
        word = rx.sub(repl, word)
    return word


@dataclass(frozen=True, eq=False)  # hashed by identity: the indexes are cached per object
class Lexicon:
    """Kept terms of the lexicon file and the indexes matching needs.

    Attributes
    ----------
    terms : dict
        Term -> source line in better-profanity's word list (what reasons name).
    names : frozenset
        Kept one-word terms that are also census names.
    source : str
        The file's first header line (source package, version and sha256).
    """

    terms: dict[str, int]
    names: frozenset[str]
    source: str

    @classmethod
    def load(cls, path: Path | None = None) -> Lexicon:
        """Read the TSV (``line<TAB>term<TAB>status<TAB>name``; ``#`` comments)."""
        path = path or lexicon_path()
        terms, names, source = {}, set(), ""
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.startswith("#"):
                source = source or raw.lstrip("# ")
                continue
            line, term, status, name = raw.split("\t")
            if status == "kept":
                terms[term] = int(line)
                if name == "1":
                    names.add(term)
        if not terms:
            raise ValueError(f"abuse lexicon {path} holds no kept term")
        return cls(terms, frozenset(names), source)

    @property
    def longest(self) -> int:
        """Most words in one term."""
        return max(len(t.split()) for t in self.terms)

    def by_length(self) -> dict[int, list[str]]:
        """One-word terms by letter count (for masked words)."""
        return _by_length(self)

    def phonetic(self) -> dict[str, str]:
        """Sound-folded spelling -> term (folds of three letters or more; multi-word terms
        folded word by word)."""
        return _phonetic(self)


@lru_cache(maxsize=4)
def _by_length(lex: Lexicon) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for t in lex.terms:
        if " " not in t:
            out.setdefault(len(t), []).append(t)
    return out


@lru_cache(maxsize=4)
def _phonetic(lex: Lexicon) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in sorted(lex.terms, key=lambda t: (lex.terms[t], t)):
        key = " ".join(sound_fold(w) for w in t.split())
        if len(key) >= 3 and t.replace(" ", "").isalpha():
            out.setdefault(key, t)
    return out


def name_words(text: str) -> frozenset[str]:
    """Lower-case words of capitalised multi-word names in ``text`` (``Dick Van Dyke``)."""
    s = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    return frozenset(w.lower() for m in _NAME_RUN.finditer(s) for w in _WORD.findall(m.group(0)))


def proper_nouns(text: str) -> frozenset[str]:
    """Lower-cased capitalised words not opening a sentence (``Clytie``, ``Joerg``): names,
    never read as respellings."""
    s = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    return frozenset(
        m.group(0).lower()
        for m in _CAPITALISED.finditer(s)
        if m.start() and not _OPENS.search(s, 0, m.start())
    )


def match(lex: Lexicon, text: str, *, harden_text: bool = True) -> tuple[str, str] | None:
    """The first listed term ``text`` holds and how it was read, or ``None``.

    Returns ``(term, reading)`` with reading ``exact``, ``masked``, ``inflected`` or
    ``phonetic`` (see the module docstring).
    """
    views = text_views(text) if harden_text else (text.casefold(),)
    names = name_words(text) & lex.names
    proper = proper_nouns(text)
    # Other languages' common words are gated only in text that is not mostly English:
    # "kunt" (Dutch "can") in an English sentence is read, "tutte" in Italian is not.
    english = common_words()
    first = [w for w in _WORD.findall(views[0]) if w.isalpha()] if views else []
    gate = english if sum(w in english for w in first) * 2 >= len(first) else gate_words()
    longest = lex.longest
    keys = lex.phonetic()
    fuzzy: list[str] = []
    for view in views:
        words = _WORD.findall(view)
        folded = [None] * len(words)
        for i, w in enumerate(words):
            for k in range(1, longest + 1):
                if i + k > len(words):
                    break
                cand = w if k == 1 else " ".join(words[i : i + k])
                if cand in lex.terms and not (k == 1 and cand in names):
                    return cand, "exact"
            if len(w) >= 3 and w.isalpha() and w not in gate and w not in proper:
                fuzzy.append(w)
                folded[i] = sound_fold(w)
        # a multi-word term with a respelt word ("mo pho"): the other words may be common
        for i in range(len(words)):
            for k in range(2, longest + 1):
                part = folded[i : i + k]
                if i + k > len(words):
                    break
                if not any(part):
                    continue
                span = zip(part, words[i : i + k], strict=True)
                key = " ".join(f or sound_fold(w) for f, w in span)
                if key in keys:
                    return keys[key], "phonetic"
    for w in dict.fromkeys(fuzzy):
        for suf in _SUFFIXES:
            stem = w[: -len(suf)]
            if w.endswith(suf) and len(stem) >= 3 and stem in lex.terms:
                return stem, "inflected"
    for w in dict.fromkeys(fuzzy):
        f = sound_fold(w)
        if f in keys and " " not in keys[f]:
            return keys[f], "phonetic"
        for suf in _FOLD_SUFFIXES:
            stem = f[: -len(suf)]
            if f.endswith(suf) and len(stem) >= 4 and stem in keys and " " not in keys[stem]:
                return keys[stem], "phonetic"
    base = harden(text) if harden_text else text.casefold()
    for raw in base.split():
        tok = raw.strip(_PUNCT)
        if not (tok and tok[0].isalpha() and tok[-1].isalpha() and _MASK & set(tok)):
            continue
        letters = sum(c.isalpha() for c in tok)
        if letters < 2 or sum(c in _MASK for c in tok) > letters:
            continue
        rx = re.compile("".join("[a-z]" if c in _MASK else re.escape(c) for c in tok))
        for t in lex.by_length().get(len(tok), ()):
            if rx.fullmatch(t):
                return t, "masked"
    return None


class AbuseLexiconChecker(TextChecker):
    """Abuse terms of a maintained word list, read through every normalisation.

    Score is 1.0 on a match, else 0.0; the reason names the term's line in the source
    word list and how it was read, never the text.

    Parameters
    ----------
    category : str
        Policy category of a hit.
    harden : bool
        Read the hardened views (default) or only the case-folded raw text.
    """

    name = "abuse"

    def __init__(self, *, category: str = "abuse", harden: bool = True) -> None:
        self.category = category
        self.harden = harden
        self._lexicon: Lexicon | None = None

    @property
    def lexicon(self) -> Lexicon:
        """The lexicon, read on first use."""
        if self._lexicon is None:
            self._lexicon = Lexicon.load()
        return self._lexicon

    def describe(self) -> dict[str, Any]:
        return {"terms": len(self.lexicon.terms), "source": self.lexicon.source}

    def text_findings(self, text: str) -> list[Finding]:
        hit = match(self.lexicon, text, harden_text=self.harden)
        if hit is None:
            return [Finding(self.category, 0.0, False, "no listed term")]
        term, reading = hit
        line = self.lexicon.terms[term]
        return [
            Finding(
                self.category,
                1.0,
                True,
                f"better-profanity word list line {line} ({reading} reading)",
            )
        ]

    def matches(self, texts: Sequence[str]) -> list[tuple[str, str] | None]:
        """:func:`match` of each text (for evaluations that need the reading)."""
        return [match(self.lexicon, t, harden_text=self.harden) for t in texts]
