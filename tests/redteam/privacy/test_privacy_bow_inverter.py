"""Bag-of-words inversion against embeddings whose words are known exactly."""

from __future__ import annotations

import numpy as np
import pytest
from privacy_text_toys import BowEmbedder, random_sentences

from redteam.privacy._bow_inverter import evaluate_bow_inversion, fit_bow_inverter
from redteam.privacy._text_metrics import content_words, micro_prf


def test_content_words_drop_stop_words_and_keep_numbers_and_emails() -> None:
    # By hand: "the", "on", "at", "or" are in scikit-learn's English stop-word list.
    got = content_words("The cat sat on 3 mats at bob@example.org or the Mats.")
    assert got == {"cat", "sat", "3", "mats", "bob@example.org"}


def test_micro_prf_by_hand() -> None:
    predicted = [frozenset({"a", "b"}), frozenset({"c"}), frozenset()]
    truth = [frozenset({"a"}), frozenset({"c", "d"}), frozenset({"e"})]
    p, r, f1 = micro_prf(predicted, truth, n_boot=200, seed=1)
    # tp = 1 + 1 + 0 = 2, predicted = 3, true = 4.
    assert p.value == pytest.approx(2 / 3)
    assert r.value == pytest.approx(2 / 4)
    assert f1.value == pytest.approx(2 * 2 / (3 + 4))
    for est in (p, r, f1):
        assert est.n == 3 and est.low <= est.value <= est.high


def test_one_hot_words_recovered_exactly_and_oov_counted() -> None:
    # Orthogonal word vectors: each word has its own coordinate, so a linear threshold
    # separates it perfectly. The test sentence holds "zeta", never seen in training.
    words = ["alpha", "beta", "gamma", "delta"]
    basis = {w: np.eye(4)[i] for i, w in enumerate(words)}
    train = [
        "alpha beta", "beta gamma", "gamma delta", "alpha delta", "alpha gamma",
        "beta delta", "alpha", "beta", "gamma", "delta", "alpha beta gamma", "beta gamma delta",
    ]  # fmt: skip
    test = ["alpha gamma delta", "beta zeta"]

    def embed(texts: list[str]) -> np.ndarray:
        X = np.array([sum(basis.get(w, np.zeros(4)) for w in t.split()) for t in texts])
        return X / np.linalg.norm(X, axis=1, keepdims=True)

    res = evaluate_bow_inversion(
        embed(train), train, embed(test), test, min_count=1, C=100.0, n_boot=100
    )
    (point,) = res.points
    # By hand: predicted {alpha, gamma, delta} and {beta}: tp = 4, predicted 4, true 5.
    assert point.precision.value == pytest.approx(1.0)
    assert point.recall.value == pytest.approx(4 / 5)
    assert point.f1.value == pytest.approx(2 * 4 / (4 + 5))
    assert point.oov_share == pytest.approx(1 / 5)
    assert point.vocabulary_size == 4 and point.n_train == 12 and point.n_test == 2


@pytest.fixture(scope="module")
def bow_data() -> tuple[BowEmbedder, list[str], list[str]]:
    sentences = random_sentences(600, seed=3)
    return BowEmbedder(dim=64, seed=0), sentences[:400], sentences[400:]


def test_inverter_recovers_planted_words(bow_data) -> None:
    embed, train, test = bow_data
    res = evaluate_bow_inversion(
        embed(train), train, embed(test), test, dims=[8], n_boot=200, random_state=0
    )
    full, short = res.points
    assert (full.dim, short.dim) == (64, 8) and not full.transformed
    assert full.f1.value > 0.95 and full.f1.low <= full.f1.value <= full.f1.high
    assert full.oov_share == 0.0
    # The vocabulary alone (most frequent words, no embedding) is far worse.
    assert full.prior_f1.high < full.f1.low
    # 8 of 64 random coordinates carry less: Matryoshka-style truncation costs recall.
    assert short.f1.high < full.f1.low
    # The micro F1 equals the one recomputed from the fitted inverter's own predictions.
    inv = fit_bow_inverter(embed(train), train, random_state=0)
    predicted = inv.predict(embed(test))
    truth = [content_words(t) for t in test]
    tp = sum(len(p & t) for p, t in zip(predicted, truth, strict=True))
    n = sum(map(len, predicted)) + sum(map(len, truth))
    assert full.f1.value == pytest.approx(2 * tp / n)


def test_transform_destroying_the_signal_brings_f1_to_the_prior(bow_data) -> None:
    embed, train, test = bow_data
    train, test = train[:250], test[:120]
    noise = np.random.default_rng(9)

    def scramble(X: np.ndarray) -> np.ndarray:
        return noise.standard_normal(X.shape)  # independent of the input

    res = evaluate_bow_inversion(
        embed(train), train, embed(test), test, transform=scramble, n_boot=200
    )
    raw, defended = res.points
    assert defended.transformed and not raw.transformed
    assert defended.f1.high < raw.f1.low
    # With nothing to read, the inverter can at best learn word frequencies.
    assert defended.f1.value <= defended.prior_f1.high + 0.05


def test_bad_inputs_are_named() -> None:
    X = np.eye(3)
    with pytest.raises(ValueError, match=r"also in training.*'a b'"):
        evaluate_bow_inversion(X, ["a b", "c d", "e f"], X[:1], ["a b"])
    with pytest.raises(ValueError, match="X_test has 1 rows but texts_test has 2"):
        evaluate_bow_inversion(X, ["aa", "bb", "cc"], X[:1], ["dd", "ee"])
    with pytest.raises(ValueError, match=r"dims \[5\]"):
        evaluate_bow_inversion(X, ["aa", "bb", "cc"], X[:1], ["dd"], dims=[5])
    with pytest.raises(ValueError, match="non-finite"):
        fit_bow_inverter(np.full((2, 2), np.nan), ["aa", "bb"])
