"""WEAT 1-10 word lists (Caliskan et al., Science 2017) and SEAT templates (May et al. 2019).

The data live in ``data/weat.json`` with their provenance, the names the paper excluded
and how the lists differ from peers' copies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

__all__ = [
    "WeatSpec",
    "WordSet",
    "load_seat_templates",
    "load_weat_tests",
    "seat_sentences",
]

_DATA_FILE = "weat.json"


class WordSet(NamedTuple):
    """A named list of stimuli (a target or attribute set)."""

    name: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class WeatSpec:
    """One WEAT test: two target sets and two attribute sets.

    Attributes
    ----------
    name : str
        Key of the test (``"weat1"`` ... ``"weat10"``).
    description : str
        Title and what the test measures.
    targets : tuple of WordSet
        ``(X, Y)``.
    attributes : tuple of WordSet
        ``(A, B)``.
    source : str
        Origin of the stimuli (the IAT study they come from).
    """

    name: str
    description: str
    targets: tuple[WordSet, WordSet]
    attributes: tuple[WordSet, WordSet]
    source: str


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    text = resources.files("fairness.probes.data").joinpath(_DATA_FILE).read_text("utf-8")
    return json.loads(text)


def _word_set(entry: dict[str, Any], include_excluded: bool) -> WordSet:
    dropped = set() if include_excluded else set(entry["excluded"])
    return WordSet(entry["name"], tuple(w for w in entry["words"] if w not in dropped))


def load_weat_tests(*, include_excluded: bool = False) -> dict[str, WeatSpec]:
    """Load the ten WEAT tests of Caliskan, Bryson and Narayanan (Science, 2017).

    Parameters
    ----------
    include_excluded : bool, default=False
        Keep the names the paper excluded in WEAT 3-5 (too rare in its corpus, or
        dropped to balance the sets). False gives the lists the paper reports on.

    Returns
    -------
    dict of str to WeatSpec
        ``{"weat1": ..., ..., "weat10": ...}`` in test order.
    """
    tests: dict[str, WeatSpec] = {}
    for key, entry in _raw()["tests"].items():
        x, y = (_word_set(e, include_excluded) for e in entry["targets"])
        a, b = (_word_set(e, include_excluded) for e in entry["attributes"])
        tests[key] = WeatSpec(
            name=key,
            description=f"{entry['title']}. {entry['description']}",
            targets=(x, y),
            attributes=(a, b),
            source=entry["source"],
        )
    return tests


def load_seat_templates() -> dict[str, tuple[str, ...]]:
    """Load the SEAT "semantically bleached" templates (May et al., NAACL 2019).

    Returns
    -------
    dict of str to tuple of str
        Template sets by word type: ``default`` (any word), ``name``,
        ``singular_noun``, ``plural_noun``, ``mass_noun``, ``adjective``, ``verb``.
        ``{w}`` marks the word and ``{article}`` the indefinite article.
    """
    return {k: tuple(v) for k, v in _raw()["seat"]["templates"].items()}


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def seat_sentences(words: Sequence[str], templates: str | Sequence[str] | None = None) -> list[str]:
    """Insert each word into bleached sentence templates (SEAT).

    Parameters
    ----------
    words : sequence of str
        Stimuli; their case is kept (cased encoders see "Paul", not "paul").
    templates : str, sequence of str or None, default=None
        None: the ``default`` set of :func:`load_seat_templates`; a str: the name of a
        set there; a sequence: templates holding ``{w}`` (and optionally ``{article}``).

    Returns
    -------
    list of str
        Word-major: every template for the first word, then for the second, ... The
        first letter of each sentence is upper-cased.

    Raises
    ------
    ValueError
        If ``words`` is empty or holds an empty word, the template set is unknown, or
        a template lacks ``{w}`` or uses another placeholder.
    TypeError
        If ``words`` is a single string or holds a non-string.
    """
    if isinstance(words, str):
        raise TypeError("words must be a sequence of strings, not a single string")
    words = list(words)
    if not words:
        raise ValueError("words is empty: give at least one word")
    for i, word in enumerate(words):
        if not isinstance(word, str):
            raise TypeError(f"words[{i}] must be a str; got {type(word).__name__}")
        if not word.strip():
            raise ValueError(f"words[{i}] is empty")
    sets = load_seat_templates()
    if templates is None:
        chosen: Sequence[str] = sets["default"]
    elif isinstance(templates, str):
        if templates not in sets:
            raise ValueError(f"unknown template set {templates!r}; known: {sorted(sets)}")
        chosen = sets[templates]
    else:
        chosen = list(templates)
        if not chosen:
            raise ValueError("templates is empty")
    for template in chosen:
        if "{w}" not in template:
            raise ValueError(f"template {template!r} has no '{{w}}' placeholder")
        try:
            template.format(w="x", article="a")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"template {template!r} is malformed: {exc!r}") from exc
    out = []
    for word in words:
        for template in chosen:
            sentence = template.format(w=word, article=_article(word))
            out.append(sentence[:1].upper() + sentence[1:])
    return out
