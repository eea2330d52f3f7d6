"""Derive the shipped abuse lexicon from better-profanity's word list (a maintainer script).

``python -m audit.safety._lexicon_build`` rewrites ``data/abuse_lexicon.tsv``; a test
rebuilds it and compares. Needs the dev extra (better-profanity, names, emoji).

The source is the word list that ships in the ``better-profanity`` 0.7.0 wheel (MIT;
916 entries: profanity, slurs, sexual terms and their common respellings). It is a
*moderation* list, so it also names ordinary words (``kill``, ``god``, ``breasts``,
``strip``) and identity words (``gay``, ``queer``). Each entry is hardened like text
(:func:`audit.safety._unicode.harden`, leetspeak folded) and then dropped, by data and
in this order, when it is

1. ``identity``: an identity word of the built-in identity-mention set, or its plural
   (naming a group is not abuse: Dixon et al. 2018);
2. ``benign-use``: used as a whole word in benign tuning text (CLDR emoji names and the
   standard library's docstrings: the profanity calibration data of
   :mod:`audit.safety._defaults`, disjoint from every evaluation source);
3. ``common-benign``: a very common English word (``wordfreq`` Zipf >= 3.5) that
   alt-profanity-check's classifier, trained on labelled comments, does not call
   offensive on its own (probability < 0.5): ``god``, ``murder``, ``organ``;
4. ``everyday-word``: one of the ~3,000 most frequent English words (Zipf >= 4.5) that
   the classifier does not call offensive with near certainty (probability < 0.96):
   ``kill``, ``fat``, ``sex``, ``sexual``, ``porn``. Alone such a word is ordinary text
   ("kill the process", "fat binary"); the list's sense is not its dominant one.

Kept entries carry ``name=1`` when they are also a US census first name or surname (the
``names`` package's 1990 census files: ``dick``, ``willy``, ``fanny``); such a term does
not hit inside a capitalised multi-word name (``Dick Van Dyke``, ``Moby Dick``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from audit.safety._unicode import harden, leet_fold

SOURCE_PACKAGE = "better_profanity"
SOURCE_FILE = "profanity_wordlist.txt"
SOURCE_VERSION = "0.7.0"
VERY_COMMON_ZIPF = 3.5
EVERYDAY_ZIPF = 4.5
EVERYDAY_MIN_P = 0.96
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Entry:
    """One source entry and what the derivation decided."""

    line: int
    term: str  # hardened, leet-folded, separators as single spaces
    status: str  # "kept" or the rule that dropped it
    name: bool


def source_text() -> str:
    """The word list as shipped in the better-profanity wheel."""
    return resources.files(SOURCE_PACKAGE).joinpath(SOURCE_FILE).read_text(encoding="utf-8")


def normalise_term(raw: str) -> str:
    """A list entry in the form matching reads: hardened, leetspeak folded, every run of
    separators (``-``, ``_``, ``.``, space) one space; ``*`` wildcards dropped."""
    t = leet_fold(harden(raw.replace("*", "")))
    return " ".join(_WORD.findall(t))


def census_names() -> frozenset[str]:
    """Lower-case first names and surnames of the 1990 US census (``names`` package)."""
    out: set[str] = set()
    for f in ("dist.all.last", "dist.female.first", "dist.male.first"):
        text = resources.files("names").joinpath(f).read_text(encoding="utf-8")
        out.update(line.split()[0].lower() for line in text.splitlines() if line.strip())
    return frozenset(out)


def tuning_words() -> frozenset[str]:
    """Whole words of the benign tuning text (emoji names, stdlib docstrings), hardened."""
    from audit.safety._defaults import emoji_names, stdlib_docstrings

    words: set[str] = set()
    for it in emoji_names() + stdlib_docstrings(limit=100_000):
        words.update(_WORD.findall(harden(str(it.content))))
    return frozenset(words)


def identity_words() -> frozenset[str]:
    """Identity words of the built-in identity-mention set and their plurals."""
    from audit.safety._evalsets import IDENTITY_TERMS

    base = {harden(t) for terms in IDENTITY_TERMS.values() for t in terms}
    return frozenset(base | {t + "s" for t in base} | {"lesbians", "gays", "homosexual"})


def derive() -> list[Entry]:
    """Apply the rules of the module docstring to every source entry (first wins)."""
    from wordfreq import zipf_frequency

    from audit.safety._text import ProfanityChecker

    raw = [(n, line.strip()) for n, line in enumerate(source_text().splitlines(), 1)]
    raw = [(n, t) for n, t in raw if t]
    terms = [normalise_term(t) for _, t in raw]
    probs = ProfanityChecker(threshold=1.0).probabilities(terms)
    identity, benign, names = identity_words(), tuning_words(), census_names()
    out, seen = [], set()
    for (n, _), term, p in zip(raw, terms, probs, strict=True):
        if not term or term in seen:
            continue
        seen.add(term)
        words = term.split()
        if any(w in identity for w in words) and len(words) == 1:
            status = "identity"
        elif len(words) == 1 and term in benign:
            status = "benign-use"
        elif len(words) == 1 and zipf_frequency(term, "en") >= VERY_COMMON_ZIPF and p < 0.5:
            status = "common-benign"
        elif (
            len(words) == 1 and zipf_frequency(term, "en") >= EVERYDAY_ZIPF and (p < EVERYDAY_MIN_P)
        ):
            status = "everyday-word"
        else:
            status = "kept"
        out.append(Entry(n, term, status, len(words) == 1 and term in names))
    return out


def render(entries: list[Entry]) -> str:
    """The TSV text: a header naming the source and its sha256, one entry per line."""
    sha = hashlib.sha256(source_text().encode("utf-8")).hexdigest()
    head = [
        f"# derived from {SOURCE_PACKAGE} {SOURCE_VERSION} {SOURCE_FILE} (sha256 {sha})",
        "# by python -m audit.safety._lexicon_build; rules in its docstring",
        "# line\tterm\tstatus\tname",
    ]
    rows = [f"{e.line}\t{e.term}\t{e.status}\t{int(e.name)}" for e in entries]
    return "\n".join(head + rows) + "\n"


def lexicon_path() -> Path:
    """Where the derived lexicon ships (package data)."""
    return Path(__file__).resolve().parent / "data" / "abuse_lexicon.tsv"


def main() -> None:  # pragma: no cover - maintainer script
    """Rewrite ``data/abuse_lexicon.tsv`` and print what each rule dropped."""
    from collections import Counter

    entries = derive()
    lexicon_path().write_text(render(entries), encoding="utf-8")
    print(Counter(e.status for e in entries))
    for status in ("identity", "benign-use", "common-benign", "everyday-word"):
        print(status, [e.term for e in entries if e.status == status])


if __name__ == "__main__":  # pragma: no cover
    main()
