"""Attribute-free query sets for retrieval-skew probes (``data/neutral_queries.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["NeutralQuery", "load_neutral_queries", "neutral_query_sets"]

_DATA_FILE = "neutral_queries.json"


@dataclass(frozen=True)
class NeutralQuery:
    """One query of a neutral set.

    Attributes
    ----------
    id : str
        ``"<set>/<word>/<template index>"`` (spaces in the word become ``_``).
    text : str
        The query text.
    word : str
        The filled-in word: queries sharing it form one cluster for bootstrapping.
    template : str
        The template it came from.
    """

    id: str
    text: str
    word: str
    template: str


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    text = resources.files("fairness.probes.data").joinpath(_DATA_FILE).read_text("utf-8")
    return json.loads(text)


def neutral_query_sets() -> dict[str, dict[str, Any]]:
    """The neutral query sets with their words, templates and provenance, by name."""
    return {k: dict(v) for k, v in _raw()["sets"].items()}


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def load_neutral_queries(name: str = "professions") -> list[NeutralQuery]:
    """Fill a neutral set's templates with its words.

    Parameters
    ----------
    name : str, default="professions"
        Set name (see :func:`neutral_query_sets`).

    Returns
    -------
    list of NeutralQuery
        Word-major: every template for the first word, then the second, ...

    Raises
    ------
    ValueError
        If the set is unknown.
    """
    sets = _raw()["sets"]
    if name not in sets:
        raise ValueError(f"unknown neutral query set {name!r}; known: {sorted(sets)}")
    entry = sets[name]
    out = []
    for word in entry["words"]:
        for i, template in enumerate(entry["templates"]):
            text = template.format(w=word, article=_article(word))
            out.append(NeutralQuery(f"{name}/{word.replace(' ', '_')}/{i}", text, word, template))
    return out
