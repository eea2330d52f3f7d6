"""PII recovery: how many names, numbers and e-mail addresses a reconstruction gives back.

Detection is deliberately simple and auditable: e-mail addresses and numbers by regular
expression (the same token patterns the reconstruction writes with,
:mod:`redteam.privacy._text_metrics`), names by a caller-supplied lexicon matched on whole
lower-cased tokens (the library ships no name list; the privacy suite passes one). A
truth item counts as recovered when the reconstruction contains the same normalised item
(e-mail lower-cased, a number's digits, a name lower-cased), each occurrence at most once
(multiset matching). Rates carry Wilson 95 % intervals (scipy's ``binomtest``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from redteam.privacy._text_metrics import (
    EMAIL_PATTERN,
    NUMBER_PATTERN,
    Estimate,
    tokenize,
    wilson_estimate,
)

__all__ = ["PII_KINDS", "PiiItem", "PiiRecovery", "detect_pii", "pii_recovery"]

#: The kinds detected, in report order.
PII_KINDS = ("name", "number", "email")
_EMAIL = re.compile(rf"^{EMAIL_PATTERN}$")
_NUMBER = re.compile(rf"^{NUMBER_PATTERN}$")


@dataclass(frozen=True)
class PiiItem:
    """One detected item: its kind and normalised form (what recovery compares)."""

    kind: str
    value: str


@dataclass(frozen=True)
class PiiRecovery:
    """Recovered share of the truth's PII items, overall and per kind.

    ``by_kind[kind]`` is a Wilson estimate with ``n`` = items of that kind in the truths
    (``value`` NaN when none); ``overall`` pools the kinds. ``n_texts_with_pii`` counts
    truths holding at least one item.
    """

    overall: Estimate
    by_kind: dict[str, Estimate]
    n_texts: int
    n_texts_with_pii: int


def detect_pii(text: str, *, names: Iterable[str] = ()) -> list[PiiItem]:
    """Names (from ``names``), numbers and e-mail addresses in ``text``, in text order.

    Parameters
    ----------
    text : str
        The text to scan.
    names : iterable of str
        Name lexicon, matched case-insensitively on whole tokens.

    Returns
    -------
    list of PiiItem
        Numbers are normalised to their digits (``555-0100`` -> ``5550100``).
    """
    lexicon = _lexicon(names)
    items = []
    for token in tokenize(text):
        if _EMAIL.match(token):
            items.append(PiiItem("email", token))
        elif _NUMBER.match(token):
            items.append(PiiItem("number", re.sub(r"\D", "", token)))
        elif token in lexicon:
            items.append(PiiItem("name", token))
    return items


def pii_recovery(
    truths: Sequence[str], reconstructions: Sequence[str], *, names: Iterable[str] = ()
) -> PiiRecovery:
    """Share of PII items in each truth that its reconstruction contains.

    Parameters
    ----------
    truths, reconstructions : sequences of str
        Aligned: the held-out texts and the attack's reconstructions of them.
    names : iterable of str
        Name lexicon (see :func:`detect_pii`).

    Returns
    -------
    PiiRecovery
    """
    if len(truths) != len(reconstructions):
        raise ValueError(
            f"{len(truths)} truths but {len(reconstructions)} reconstructions: must align"
        )
    lexicon = _lexicon(names)
    found = dict.fromkeys(PII_KINDS, 0)
    total = dict.fromkeys(PII_KINDS, 0)
    with_pii = 0
    for truth, guess in zip(truths, reconstructions, strict=True):
        want = Counter(detect_pii(truth, names=lexicon))
        got = Counter(detect_pii(guess, names=lexicon))
        with_pii += bool(want)
        for item, count in want.items():
            total[item.kind] += count
            found[item.kind] += min(count, got[item])
    return PiiRecovery(
        overall=wilson_estimate(sum(found.values()), sum(total.values())),
        by_kind={k: wilson_estimate(found[k], total[k]) for k in PII_KINDS},
        n_texts=len(truths),
        n_texts_with_pii=with_pii,
    )


def _lexicon(names: Iterable[str]) -> frozenset[str]:
    if isinstance(names, str):
        raise TypeError("names must be an iterable of names, not one string")
    return frozenset(str(n).strip().lower() for n in names if str(n).strip())
