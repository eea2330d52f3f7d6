"""A public English sentence corpus that ships offline with Python itself.

The bag-of-words inverter (:mod:`redteam.privacy._bow_inverter`) needs sentences to train
on that the attacker could plausibly have: any public English text. No dataset hub can be
reached here, so the corpus is CPython's own ``pydoc_data.topics`` -- the prose of the
Python Language Reference that ``help()`` shows (PSF licence), part of every CPython
install. It is technical English: an inverter trained on it recovers technical content
words best, which the docs state as a limit.

The loader is deterministic: topics in sorted key order, prose paragraphs only (indented
code/grammar blocks and headings dropped), sentences split at ``. ! ?`` followed by a
capital, kept if they have ``min_words``-``max_words`` words, at least 70 % of them plain
words, de-duplicated keeping the
first. The source file's sha256 is recorded and compared with the one documented for the
CPython release the project's CI runs (:data:`DOCUMENTED_SHA256`), so a report says which
text it trained on; another release's text differs and is reported as such, not refused.
"""

from __future__ import annotations

import hashlib
import platform
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DOCUMENTED_SHA256", "SentenceCorpus", "python_doc_sentences", "split_sentences"]

#: sha256 of ``pydoc_data/topics.py`` (the bytes read) per CPython release checked here.
DOCUMENTED_SHA256: dict[str, str] = {
    "3.11.7": "abaa56a64551d8eead1b19cbae3c6db443f99f0cab81df07bed3cb75c0db9346",
}

_HEADING_RULE = re.compile(r"^[*=\-~^]{3,}$")
_PLAIN_WORD = re.compile(r"[A-Za-z,;’'\-]+[.?!:]?")
#: Least share of plain words in a kept sentence (drops symbol-heavy lines of code).
_MIN_PLAIN_SHARE = 0.7
# A sentence ends at . ! ? (optionally after a closing quote/bracket) before a capital.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z\"“])")


@dataclass(frozen=True)
class SentenceCorpus:
    """Sentences read from a named source, with the provenance a report records.

    Attributes
    ----------
    sentences : tuple of str
        The sentences, in the loader's deterministic order.
    source : str
        What was read (module and file path).
    python_version : str
        The CPython release whose file was read.
    source_sha256 : str
        sha256 of the source file's bytes.
    documented : bool
        Whether ``source_sha256`` equals the one documented for ``python_version``.
    sentences_sha256 : str
        sha256 of the sentences joined by newlines (UTF-8): what the inverter trains on.
    """

    sentences: tuple[str, ...]
    source: str
    python_version: str
    source_sha256: str
    documented: bool
    sentences_sha256: str


def python_doc_sentences(min_words: int = 6, max_words: int = 30) -> SentenceCorpus:
    """Read the English sentences of CPython's ``pydoc_data.topics``.

    Parameters
    ----------
    min_words, max_words : int
        Keep sentences with this many whitespace-separated words (inclusive).

    Returns
    -------
    SentenceCorpus
        The sentences and their provenance (file sha256, documented or not).

    Raises
    ------
    ValueError
        If ``min_words`` is below 1 or above ``max_words``.
    """
    if not 1 <= min_words <= max_words:
        raise ValueError(f"min_words={min_words}, max_words={max_words}: need 1 <= min <= max")
    import pydoc_data.topics as topics_module  # part of CPython's standard library

    path = Path(topics_module.__file__)
    raw = path.read_bytes()
    out: list[str] = []
    seen: set[str] = set()
    for key in sorted(topics_module.topics):
        for paragraph in _prose_paragraphs(topics_module.topics[key]):
            for sentence in _SENTENCE_END.split(paragraph):
                sentence = " ".join(sentence.split())  # pydoc puts two spaces after a full stop
                if sentence in seen or not _keep(sentence, min_words, max_words):
                    continue
                seen.add(sentence)
                out.append(sentence)
    version = platform.python_version()
    digest = hashlib.sha256(raw).hexdigest()
    return SentenceCorpus(
        sentences=tuple(out),
        source=f"pydoc_data.topics ({path})",
        python_version=version,
        source_sha256=digest,
        documented=DOCUMENTED_SHA256.get(version) == digest,
        sentences_sha256=hashlib.sha256("\n".join(out).encode("utf-8")).hexdigest(),
    )


def split_sentences(
    sentences: list[str] | tuple[str, ...], test_fraction: float, seed: int
) -> tuple[list[str], list[str]]:
    """Split sentences into disjoint train and test lists by a seeded permutation.

    Sentences are de-duplicated first, so no test sentence also appears in training.

    Parameters
    ----------
    sentences : sequence of str
        The corpus.
    test_fraction : float
        Share of the (unique) sentences held out, in (0, 1).
    seed : int
        Seed of ``np.random.default_rng``.

    Returns
    -------
    (train, test) : tuple of lists of str
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction={test_fraction}: must be in (0, 1)")
    unique = list(dict.fromkeys(sentences))
    if len(unique) < 2:
        raise ValueError(f"need at least 2 distinct sentences to split, got {len(unique)}")
    order = np.random.default_rng(seed).permutation(len(unique))
    n_test = min(len(unique) - 1, max(1, round(test_fraction * len(unique))))
    test = [unique[i] for i in sorted(order[:n_test])]
    train = [unique[i] for i in sorted(order[n_test:])]
    return train, test


def _prose_paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks that are prose: evenly indented, not a heading."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        # Definitions (``object.__init__``'s text) are indented prose; a block whose lines
        # keep uneven indentation after dedenting is code, grammar or a table.
        lines = textwrap.dedent(block).split("\n")
        if not lines or any(line[:1].isspace() for line in lines):
            continue
        if len(lines) >= 2 and _HEADING_RULE.match(lines[1].strip()):
            continue
        paragraphs.append(" ".join(line.strip() for line in lines))
    return paragraphs


def _keep(sentence: str, min_words: int, max_words: int) -> bool:
    words = sentence.split()
    return (
        min_words <= len(words) <= max_words
        and sentence[:1].isupper()
        and sentence.endswith((".", "?", "!"))
        and "::" not in sentence
        and ">>>" not in sentence
        and sum(bool(_PLAIN_WORD.fullmatch(w)) for w in words) >= _MIN_PLAIN_SHARE * len(words)
    )
