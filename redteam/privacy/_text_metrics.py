"""Tokens and scores of the text-inversion attacks: content words, token F1, intervals.

One tokenizer serves the inverter, the reconstruction and PII recovery, so an e-mail
address or a number is a single token everywhere (a reconstruction can only recover what
it can write). Stop words are scikit-learn's ``ENGLISH_STOP_WORDS`` (318 words), the list
its ``CountVectorizer(stop_words="english")`` uses.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

__all__ = [
    "Estimate",
    "content_words",
    "micro_prf",
    "token_f1",
    "tokenize",
    "wilson_estimate",
]

EMAIL_PATTERN = r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+"
NUMBER_PATTERN = r"\d+(?:[.,:/\-]\d+)*"
_TOKEN = re.compile(rf"{EMAIL_PATTERN}|{NUMBER_PATTERN}|[a-z]+(?:['’][a-z]+)?")


@dataclass(frozen=True)
class Estimate:
    """A rate with its 95 % confidence interval and the n it rests on.

    ``low``/``high`` are ``None`` when no interval can be given (n too small).
    ``method`` names the interval: ``"wilson"`` or ``"bootstrap-percentile"``.
    """

    value: float
    low: float | None
    high: float | None
    n: int
    method: str


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens: e-mail addresses, numbers (``3.14``, ``555-0100``) and words."""
    return _TOKEN.findall(text.lower())


def content_words(text: str) -> frozenset[str]:
    """The set of tokens of ``text`` that are not stop words and not single letters."""
    return frozenset(
        t for t in tokenize(text) if t not in ENGLISH_STOP_WORDS and (len(t) > 1 or t.isdigit())
    )


def token_f1(prediction: str, truth: str) -> float:
    """Token F1 of two texts over token multisets (SQuAD's definition; 1.0 if both empty)."""
    pred, true = Counter(tokenize(prediction)), Counter(tokenize(truth))
    if not pred and not true:
        return 1.0
    common = sum((pred & true).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(pred.values()), common / sum(true.values())
    return 2 * precision * recall / (precision + recall)


def wilson_estimate(k: int, n: int, confidence: float = 0.95) -> Estimate:
    """``k / n`` with the Wilson score interval (scipy's ``binomtest``); NaN when n is 0."""
    if n == 0:
        return Estimate(float("nan"), None, None, 0, "wilson")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return Estimate(k / n, float(ci.low), float(ci.high), int(n), "wilson")


def micro_prf(
    predicted: Sequence[frozenset[str]],
    truth: Sequence[frozenset[str]],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[Estimate, Estimate, Estimate]:
    """Micro precision, recall and F1 of predicted word sets, with bootstrap CIs.

    Counts (true positives, predicted, true words) are summed over items; the interval
    resamples items (percentile bootstrap, ``scipy.stats.bootstrap``, paired), since the
    words of one sentence are not independent draws.

    Parameters
    ----------
    predicted, truth : sequences of frozenset of str
        One set per item, aligned.
    n_boot : int
        Bootstrap resamples (0 gives no intervals).
    seed : int
        Seed of the resampling generator.

    Returns
    -------
    (precision, recall, f1) : tuple of Estimate
        ``n`` is the number of items. A ratio with an empty denominator is 0.
    """
    if len(predicted) != len(truth):
        raise ValueError(f"predicted has {len(predicted)} items, truth has {len(truth)}")
    tp = np.array([len(p & t) for p, t in zip(predicted, truth, strict=True)], dtype=float)
    n_pred = np.array([len(p) for p in predicted], dtype=float)
    n_true = np.array([len(t) for t in truth], dtype=float)
    point = _prf(tp.sum(), n_pred.sum(), n_true.sum())
    lows: list[float | None] = [None] * 3
    highs: list[float | None] = [None] * 3
    if n_boot > 0 and len(tp) >= 2:

        def statistic(a: np.ndarray, b: np.ndarray, c: np.ndarray, axis: int) -> np.ndarray:
            return np.stack(_prf(a.sum(axis), b.sum(axis), c.sum(axis)))

        res = stats.bootstrap(
            (tp, n_pred, n_true),
            statistic,
            paired=True,
            vectorized=True,
            n_resamples=n_boot,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
        lows = [float(v) for v in res.confidence_interval.low]
        highs = [float(v) for v in res.confidence_interval.high]
    n = len(tp)
    return tuple(  # type: ignore[return-value]
        Estimate(float(point[i]), lows[i], highs[i], n, "bootstrap-percentile") for i in range(3)
    )


def _prf(tp: ArrayLike, n_pred: ArrayLike, n_true: ArrayLike) -> tuple[np.ndarray, ...]:
    """Precision, recall, F1 from summed counts; 0 where a denominator is 0."""
    tp, n_pred, n_true = (np.asarray(x, dtype=float) for x in (tp, n_pred, n_true))
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(n_pred > 0, tp / n_pred, 0.0)
        recall = np.where(n_true > 0, tp / n_true, 0.0)
        f1 = np.where(tp > 0, 2 * tp / (n_pred + n_true), 0.0)
    return precision, recall, f1
