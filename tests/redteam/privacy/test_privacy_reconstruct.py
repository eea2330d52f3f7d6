"""Black-box reconstruction: recovers a planted bag of words and never exceeds its budget."""

from __future__ import annotations

import numpy as np
import pytest
from privacy_text_toys import WORDS, BowEmbedder

from redteam.privacy._reconstruct import BudgetExceeded, CountingEmbed, reconstruct_text


@pytest.mark.parametrize("truth", ["wordc wordk", "wordb wordh wordm wordq"])
def test_recovers_the_planted_bag_within_budget(truth: str) -> None:
    embed = BowEmbedder(dim=64, seed=0)
    target = embed([truth])[0]
    embed.calls.clear()
    res = reconstruct_text(
        embed, target, vocabulary=WORDS, start="worda", max_queries=600,
        checkpoints=[1, 100], truth=truth, batch_size=16, seed=0,
    )  # fmt: skip
    final = res.checkpoints[-1]
    # The embedder is order-blind, so the bag is what can be recovered: token F1 1.
    assert sorted(final.best_text.split()) == sorted(truth.split())
    assert final.token_f1 == pytest.approx(1.0) and final.cosine == pytest.approx(1.0)
    assert res.stopped == "converged"
    # Counted by the embedder itself: every text and call is in the result.
    assert sum(embed.calls) == res.texts_used <= 600
    assert len(embed.calls) == res.calls_used and max(embed.calls) <= 16
    first = res.checkpoints[0]
    assert first.budget == 1 and first.best_text == "worda" and first.texts_used == 1
    # cosine recomputed independently for the start text
    assert first.cosine == pytest.approx(float(BowEmbedder(dim=64)(["worda"])[0] @ target))


def test_never_exceeds_the_budget_and_checkpoints_are_exact() -> None:
    embed = BowEmbedder(dim=64, seed=0)
    target = np.random.default_rng(5).standard_normal(64)  # no text reaches it
    res = reconstruct_text(
        embed, target, vocabulary=WORDS, start="worda wordb", max_queries=37,
        checkpoints=[5, 20], batch_size=8, seed=1,
    )  # fmt: skip
    assert res.stopped == "budget"
    assert sum(embed.calls) == 37 == res.texts_used and len(embed.calls) == res.calls_used
    assert max(embed.calls) <= 8
    assert [c.budget for c in res.checkpoints] == [5, 20, 37]
    assert [c.texts_used for c in res.checkpoints] == [5, 20, 37]
    cosines = [c.cosine for c in res.checkpoints]
    assert cosines == sorted(cosines) and cosines[0] >= res.start_cosine
    assert all(c.exact_match is None and c.token_f1 is None for c in res.checkpoints)
    # The best text's cosine is what the embedder gives it.
    best = res.checkpoints[-1]
    again = BowEmbedder(dim=64, seed=0)([best.best_text])[0]
    assert best.cosine == pytest.approx(float(again @ target / np.linalg.norm(target)))


def test_exact_match_when_the_single_word_is_found() -> None:
    embed = BowEmbedder(dim=64, seed=0)
    res = reconstruct_text(
        embed, embed(["wordq"])[0], vocabulary=WORDS, start="worda", max_queries=200,
        truth="Wordq.", seed=0,
    )  # fmt: skip
    (final,) = res.checkpoints
    assert final.best_text == "wordq" and final.exact_match is True


def test_counting_embed_refuses_before_sending() -> None:
    inner = BowEmbedder(dim=8)
    counted = CountingEmbed(inner, max_texts=3)
    counted(["worda", "wordb"])
    with pytest.raises(BudgetExceeded, match="2 texts would exceed the budget of 3"):
        counted(["worda", "wordb"])
    assert inner.calls == [2] and counted.texts == 2 and counted.remaining == 1


def test_bad_embed_output_is_named() -> None:
    def broken(texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts) + 1, 4))

    with pytest.raises(ValueError, match=r"embed returned shape \(2, 4\).*for 1 texts"):
        reconstruct_text(broken, np.ones(4), vocabulary=["a"], max_queries=5)
    with pytest.raises(ValueError, match=r"checkpoints \[10\] and max_queries=5"):
        reconstruct_text(broken, np.ones(4), vocabulary=["a"], max_queries=5, checkpoints=[10])
    with pytest.raises(ValueError, match="non-zero"):
        reconstruct_text(broken, np.zeros(4), vocabulary=["a"], max_queries=5)


def test_hypotheses_never_grow_past_max_tokens() -> None:
    embed = BowEmbedder(dim=64, seed=0)
    truth = "wordb wordh wordm wordq"
    res = reconstruct_text(
        embed, embed([truth])[0], vocabulary=WORDS, start="worda", max_queries=300,
        max_tokens=2, truth=truth, seed=0,
    )  # fmt: skip
    (final,) = res.checkpoints
    assert len(final.best_text.split()) <= 2
    # Two of the four words at most: token F1 <= 2 * 2 / (2 + 4).
    assert final.token_f1 <= 2 * 2 / (2 + 4) + 1e-12
