"""Text checkers: the alt-profanity-check classifier, and configurable term/regex lists.

Both read every hardened view of the text (:func:`~audit.safety._unicode.text_views`), so
zero-width characters, homoglyphs, leetspeak, spaced-out letters and bidi reordering do
not evade them; ``harden=False`` reads the raw text only (the safety suite uses it to
show what hardening buys).

No pickle: alt-profanity-check ships its model only as two joblib pickles, so its
arrays (vocabulary, idf, five linear SVMs with their sigmoid calibrations) were exported
once to ``data/profanity_linear.npz`` (:mod:`audit.safety._profanity_export`), which is
sha256-pinned, verified and read with ``allow_pickle=False``. The probabilities equal
the package's own ``predict_prob`` (tests/safety/test_safety_models.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audit.items import Item
from audit.safety._checker import TextChecker
from audit.safety._decision import Finding
from audit.safety._unicode import harden, text_views
from audit.weights import verify_weights

log = logging.getLogger(__name__)

#: sha256 of the exported arrays of the alt-profanity-check 1.9.1 model (package data).
PROFANITY_SHA256: dict[str, str] = {
    "profanity_linear.npz": "0bde3863c42ecdf11234a3374b4dbba43de4e219102569b48dee26a7066bcc69",
}


def profanity_data_dir() -> Path:
    """The folder holding ``profanity_linear.npz`` (this package's data)."""
    return Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class _LinearModel:
    """TF-IDF + an ensemble of sigmoid-calibrated linear SVMs, as plain arrays."""

    vectorizer: Any  # sklearn CountVectorizer with the fixed vocabulary
    idf: np.ndarray
    coef: np.ndarray  # (n_models, n_terms)
    intercept: np.ndarray
    sigmoid_a: np.ndarray
    sigmoid_b: np.ndarray

    @classmethod
    def load(cls, path: Path) -> _LinearModel:
        from sklearn.feature_extraction.text import CountVectorizer

        from audit.safety._profanity_export import VECTORIZER_PARAMS

        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        counts = {k: v for k, v in VECTORIZER_PARAMS.items() if k not in ("norm", "use_idf")}
        counts.pop("sublinear_tf")
        vectorizer = CountVectorizer(vocabulary=arrays.pop("terms").tolist(), **counts)
        return cls(vectorizer=vectorizer, **arrays)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(offensive) per text: sklearn's CalibratedClassifierCV ensemble average."""
        from scipy.special import expit
        from sklearn.preprocessing import normalize

        tfidf = normalize(self.vectorizer.transform(texts).multiply(self.idf).tocsr())
        scores = tfidf @ self.coef.T + self.intercept  # (n_texts, n_models)
        return expit(-(self.sigmoid_a * scores + self.sigmoid_b)).mean(axis=1)


class ProfanityChecker(TextChecker):
    """Offensive-language probability from alt-profanity-check (TF-IDF + linear SVM).

    Score = the highest probability over the text's hardened views; a hit is a score at
    or above ``threshold``.

    Parameters
    ----------
    threshold : float
        Probability at or above which text counts as offensive.
    category : str
        Policy category of a hit.
    harden : bool
        Read the hardened views (default) or only the raw text.
    """

    name = "profanity"

    def __init__(
        self, *, threshold: float = 0.5, category: str = "profanity", harden: bool = True
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"profanity threshold must be in (0, 1], got {threshold!r}")
        self.threshold = float(threshold)
        self.category = category
        self.harden = harden
        self._model: _LinearModel | None = None

    def describe(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "harden": self.harden, "weights": PROFANITY_SHA256}

    @property
    def model(self) -> _LinearModel:
        """The model arrays, verified by sha256 and loaded on first use."""
        if self._model is None:
            ((file, digest),) = PROFANITY_SHA256.items()
            path = profanity_data_dir() / file
            verify_weights(path, digest)
            self._model = _LinearModel.load(path)
        return self._model

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        """Offensive-language probability of each text as given (no hardening)."""
        return [float(p) for p in self.model.predict_proba(list(texts))]

    def _views(self, text: str) -> tuple[str, ...]:
        return text_views(text) if self.harden else (text,)

    def text_findings(self, text: str) -> list[Finding]:
        views = self._views(text)
        return self._finding(views, self.probabilities(views) if views else [])

    def _findings_batch(self, items: list[Item]) -> list[list[Finding]]:
        # one vectorizer/classifier call for every view of every item
        views = [self._views(str(it.content)) for it in items]
        flat = [v for vs in views for v in vs]
        probs = self.probabilities(flat) if flat else []
        out, start = [], 0
        for vs in views:
            out.append(self._finding(vs, probs[start : start + len(vs)]))
            start += len(vs)
        return out

    def _finding(self, views: Sequence[str], probs: Sequence[float]) -> list[Finding]:
        if not views:  # only invisible characters: nothing to read
            return [Finding(self.category, 0.0, False, "no visible text")]
        i = max(range(len(probs)), key=probs.__getitem__)
        where = "" if i == 0 else f" (in normalised reading {i + 1} of {len(views)})"
        return [
            Finding(
                self.category,
                probs[i],
                probs[i] >= self.threshold,
                f"offensive-language probability {probs[i]:.2f} "
                f"(threshold {self.threshold}){where}",
            )
        ]


@dataclass(frozen=True)
class ListEntry:
    """One term or regular expression of a list, with its category and where it came from."""

    pattern: str
    category: str
    ref: str  # "file:line" or "inline:N": reported on a match instead of the matched text


def term_regex(term: str) -> re.Pattern[str]:
    """Regex for one term: whole words, letters may repeat (``fuuuck``), inner letters
    may be masked by ``*#%`` (``f*ck``), spaces match any whitespace; the term is
    hardened first so it compares with hardened text."""
    t = harden(term)
    if not t:
        raise ValueError(f"term {term!r} is empty after Unicode hardening")
    parts = []
    for i, c in enumerate(t):
        if c == " ":
            parts.append(r"\s+")
        elif c.isalnum() and 0 < i < len(t) - 1:
            parts.append(f"(?:{re.escape(c)}+|[*#%])")
        elif c.isalnum():
            parts.append(f"(?:{re.escape(c)})+")
        else:
            parts.append(re.escape(c))
    return re.compile(r"(?<![^\W_])" + "".join(parts) + r"(?![^\W_])")


def read_list(path: str | Path, category: str) -> list[ListEntry]:
    """Read a term or pattern file: ``ENTRY`` or ``ENTRY<TAB>CATEGORY`` per line; lines
    starting with ``#`` and blank lines are skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"list {path}: cannot read ({exc})") from exc
    out = []
    for n, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        entry, _, cat = raw.rstrip("\r\n").partition("\t")
        out.append(ListEntry(entry.strip(), cat.strip() or category, f"{path.name}:{n}"))
    return out


class TermListChecker(TextChecker):
    """Configurable term and regular-expression lists, matched on the hardened views.

    Terms are matched as whole words after hardening (see :func:`term_regex`). Patterns
    are regular expressions for the ``regex`` package, matched case-insensitively on each
    view with a time limit (a pattern that runs too long fails the check, which blocks).
    Score is 1.0 for a match, 0.0 otherwise.

    Parameters
    ----------
    terms, patterns : iterable of ListEntry
        The lists (see :func:`read_list`).
    harden : bool
        Match the hardened views (default) or only the raw text.
    timeout_s : float
        Time limit per pattern and view.
    """

    name = "terms"

    def __init__(
        self,
        terms: Iterable[ListEntry] = (),
        patterns: Iterable[ListEntry] = (),
        *,
        harden: bool = True,
        timeout_s: float = 0.25,
    ) -> None:
        import regex

        self.terms = [(term_regex(e.pattern), e) for e in terms]
        self.patterns = []
        errors = []
        for e in patterns:
            try:
                self.patterns.append((regex.compile(e.pattern, regex.IGNORECASE | regex.V1), e))
            except regex.error as exc:
                errors.append(f"{e.ref}: {exc}")
        if errors:
            raise ValueError("invalid pattern(s):\n  " + "\n  ".join(errors))
        self.harden = harden
        self.timeout_s = timeout_s

    def describe(self) -> dict[str, Any]:
        return {"terms": len(self.terms), "patterns": len(self.patterns), "harden": self.harden}

    def text_findings(self, text: str) -> list[Finding]:
        views = text_views(text) if self.harden else (text,)
        found: dict[str, Finding] = {}
        for view in views:
            for rx, e in self.terms:
                if e.category not in found and rx.search(view):
                    found[e.category] = Finding(e.category, 1.0, True, f"listed term {e.ref}")
            for rx, e in self.patterns:
                if e.category not in found and rx.search(view, timeout=self.timeout_s):
                    found[e.category] = Finding(e.category, 1.0, True, f"listed pattern {e.ref}")
        return list(found.values())
