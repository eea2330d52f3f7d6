"""Bag-of-words inversion: which content words of a sentence its embedding gives away.

Threat model (Song & Raghunathan, "Information Leakage in Embedding Models", CCS 2020,
section 4): the attacker holds leaked sentence embeddings and can embed public text with
the same model. They train a multi-label classifier from embedding to vocabulary on public
sentences and read the content words of each leaked vector off it. Here the classifier is
scikit-learn's one-vs-rest logistic regression over a content-word vocabulary (stop words
out), trained on one set of sentences and scored on disjoint ones: micro precision, recall
and F1 of the recovered words with percentile-bootstrap intervals over sentences.

``dims`` evaluates Matryoshka truncations (first ``d`` coordinates, re-normalised), and a
``transform`` callable (a debiasing projection, noise, a rotation) is evaluated as the
defender applies it; ``transform_known`` says whether the attacker trains on transformed
public vectors (an adaptive attacker who can query the defended API) or on raw ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from redteam.privacy._text_metrics import Estimate, content_words, micro_prf

__all__ = [
    "BowInversionPoint",
    "BowInversionResult",
    "BowInverter",
    "evaluate_bow_inversion",
    "fit_bow_inverter",
]

Transform = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class BowInverter:
    """A fitted embedding -> content-word classifier.

    Attributes
    ----------
    vocabulary : tuple of str
        The words it can predict, in column order.
    model : OneVsRestClassifier
        One logistic regression per word (fitted).
    threshold : float
        A word is predicted when its probability is at least this.
    """

    vocabulary: tuple[str, ...]
    model: OneVsRestClassifier
    threshold: float

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of each vocabulary word, shape ``(n, len(vocabulary))``."""
        return np.asarray(self.model.predict_proba(_matrix(X, "X")))

    def predict(self, X: np.ndarray) -> list[frozenset[str]]:
        """The predicted content words of each row."""
        keep = self.predict_proba(X) >= self.threshold
        return [frozenset(np.asarray(self.vocabulary)[row].tolist()) for row in keep]

    def top_words(self, x: np.ndarray, k: int) -> list[str]:
        """The ``k`` most probable words for one vector, most probable first."""
        p = self.predict_proba(np.asarray(x, dtype=float).reshape(1, -1))[0]
        order = np.argsort(-p, kind="stable")[:k]
        return [self.vocabulary[i] for i in order]


@dataclass(frozen=True)
class BowInversionPoint:
    """Inversion scores at one setting (dimension, transform).

    ``precision``/``recall``/``f1`` are micro scores over test sentences (recall counts
    every true content word, including those outside the vocabulary: ``oov_share`` is
    the share of true words the inverter could never name). ``prior_f1`` is the micro F1
    of guessing, for every sentence, the training set's most frequent words (as many as
    the inverter predicts on average): what the vocabulary alone gives, with no embedding.
    """

    dim: int
    transformed: bool
    precision: Estimate
    recall: Estimate
    f1: Estimate
    prior_f1: Estimate
    oov_share: float
    mean_predicted: float
    n_train: int
    n_test: int
    vocabulary_size: int


@dataclass(frozen=True)
class BowInversionResult:
    """All settings evaluated, raw full-dimension first."""

    points: tuple[BowInversionPoint, ...]
    threshold: float
    seed: int


def fit_bow_inverter(
    X: np.ndarray,
    texts: Sequence[str],
    *,
    max_vocab: int = 2000,
    min_count: int = 2,
    C: float = 10.0,
    threshold: float = 0.5,
    random_state: int = 0,
    n_jobs: int | None = None,
) -> BowInverter:
    """Train the multi-label inverter on embeddings of public sentences.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Embeddings of ``texts``.
    texts : sequence of str
        The sentences (their content words are the labels).
    max_vocab : int
        Keep at most this many words, most frequent first (ties alphabetical).
    min_count : int
        Keep words in at least this many training sentences.
    C : float
        Inverse L2 regularisation of each logistic regression. Weak by default: unit-norm
        embeddings have small coordinates, and with ``C=1`` the inverter predicted almost
        no word on MiniLM (recall 0.05 vs 0.21 with ``C=10``; docs/privacy.md).
    threshold : float
        Probability at which a word is predicted, in (0, 1).
    random_state : int
        Seed passed to the solver.
    n_jobs : int, optional
        Parallel fits (one per word).

    Returns
    -------
    BowInverter
    """
    X = _matrix(X, "X")
    if len(texts) != len(X):
        raise ValueError(f"X has {len(X)} rows but texts has {len(texts)} items")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold={threshold}: must be in (0, 1)")
    if max_vocab < 1 or min_count < 1:
        raise ValueError(f"max_vocab={max_vocab}, min_count={min_count}: both must be >= 1")
    bags = [content_words(t) for t in texts]
    counts = Counter(w for bag in bags for w in bag)
    ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    vocabulary = tuple(sorted(ranked[:max_vocab]))
    if not vocabulary:
        raise ValueError(f"no content word occurs in >= {min_count} of {len(texts)} sentences")
    known = set(vocabulary)
    Y = MultiLabelBinarizer(classes=vocabulary).fit_transform([bag & known for bag in bags])
    model = OneVsRestClassifier(
        LogisticRegression(C=C, max_iter=1000, random_state=random_state), n_jobs=n_jobs
    ).fit(X, Y)
    return BowInverter(vocabulary, model, threshold)


def evaluate_bow_inversion(
    X_train: np.ndarray,
    texts_train: Sequence[str],
    X_test: np.ndarray,
    texts_test: Sequence[str],
    *,
    dims: Sequence[int] | None = None,
    transform: Transform | None = None,
    transform_known: bool = True,
    max_vocab: int = 2000,
    min_count: int = 2,
    C: float = 10.0,
    threshold: float = 0.5,
    n_boot: int = 1000,
    random_state: int = 0,
) -> BowInversionResult:
    """Train on public sentences and score the recovered words of disjoint ones.

    Parameters
    ----------
    X_train, texts_train : ndarray (n, d) and sequence of str
        The attacker's public sentences and their embeddings.
    X_test, texts_test : ndarray (m, d) and sequence of str
        The leaked vectors and the sentences behind them (the truth). No test sentence
        may appear in training.
    dims : sequence of int, optional
        Matryoshka prefix sizes to evaluate besides the full dimension.
    transform : callable, optional
        ``f(X) -> X'`` a defender applies to full vectors before any truncation.
    transform_known : bool
        Train on transformed public vectors (adaptive attacker) or on raw ones.
    max_vocab, min_count, C, threshold : see :func:`fit_bow_inverter`.
    n_boot : int
        Bootstrap resamples of the test sentences.
    random_state : int
        Seed of the solver and the bootstrap.

    Returns
    -------
    BowInversionResult
        One point per (dimension, raw/transformed), full dimension first.
    """
    X_train, X_test = _matrix(X_train, "X_train"), _matrix(X_test, "X_test")
    for name, X, texts in (("train", X_train, texts_train), ("test", X_test, texts_test)):
        if len(X) != len(texts):
            raise ValueError(f"X_{name} has {len(X)} rows but texts_{name} has {len(texts)}")
    if X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"X_train has {X_train.shape[1]} columns, X_test {X_test.shape[1]}")
    shared = set(texts_train) & set(texts_test)
    if shared:
        raise ValueError(f"{len(shared)} test sentences are also in training, e.g. {min(shared)!r}")
    full = X_train.shape[1]
    sizes = [full, *sorted({int(d) for d in dims or ()} - {full}, reverse=True)]
    bad = [d for d in sizes if not 1 <= d <= full]
    if bad:
        raise ValueError(f"dims {bad}: each must be in [1, {full}]")
    variants: list[tuple[bool, np.ndarray, np.ndarray]] = [(False, X_train, X_test)]
    if transform is not None:
        T_test = _apply(transform, X_test, "X_test")
        T_train = _apply(transform, X_train, "X_train") if transform_known else X_train
        if T_train.shape[1] != T_test.shape[1]:
            raise ValueError("transform changed the dimension: pass transform_known=True")
        variants.append((True, T_train, T_test))
    truth = [content_words(t) for t in texts_test]
    train_bags = [content_words(t) for t in texts_train]
    points = []
    for dim in sizes:
        for transformed, A, B in variants:
            if dim > A.shape[1]:
                continue  # the transform shortened the vectors below this size
            inverter = fit_bow_inverter(
                _truncate(A, dim), texts_train, max_vocab=max_vocab, min_count=min_count,
                C=C, threshold=threshold, random_state=random_state,
            )  # fmt: skip
            predicted = inverter.predict(_truncate(B, dim))
            points.append(_score(inverter, predicted, truth, train_bags, dim, transformed,
                                 n_boot, random_state))  # fmt: skip
    return BowInversionResult(tuple(points), threshold, random_state)


def _score(
    inverter: BowInverter,
    predicted: list[frozenset[str]],
    truth: list[frozenset[str]],
    train_bags: list[frozenset[str]],
    dim: int,
    transformed: bool,
    n_boot: int,
    seed: int,
) -> BowInversionPoint:
    precision, recall, f1 = micro_prf(predicted, truth, n_boot=n_boot, seed=seed)
    mean_predicted = float(np.mean([len(p) for p in predicted]))
    counts = Counter(w for bag in train_bags for w in bag if w in set(inverter.vocabulary))
    prior = frozenset(w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[
        : round(mean_predicted)
    ])  # fmt: skip
    _, _, prior_f1 = micro_prf([prior] * len(truth), truth, n_boot=n_boot, seed=seed)
    n_true = sum(len(t) for t in truth)
    vocab = set(inverter.vocabulary)
    oov = sum(len(t - vocab) for t in truth) / n_true if n_true else float("nan")
    return BowInversionPoint(
        dim=dim,
        transformed=transformed,
        precision=precision,
        recall=recall,
        f1=f1,
        prior_f1=prior_f1,
        oov_share=oov,
        mean_predicted=mean_predicted,
        n_train=len(train_bags),
        n_test=len(truth),
        vocabulary_size=len(inverter.vocabulary),
    )


def _matrix(X: np.ndarray, name: str) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} has non-finite values")
    return X


def _apply(transform: Transform, X: np.ndarray, name: str) -> np.ndarray:
    out = _matrix(transform(X), f"transform({name})")
    if len(out) != len(X):
        raise ValueError(f"transform({name}) returned {len(out)} rows for {len(X)}")
    return out


def _truncate(X: np.ndarray, dim: int) -> np.ndarray:
    """Matryoshka truncation: the first ``dim`` coordinates, re-normalised to unit length."""
    P = X[:, :dim]
    norms = np.linalg.norm(P, axis=1, keepdims=True)
    return P / np.where(norms > 0, norms, 1.0)
