"""Attacked queries that become invalid: counted as destroyed and scored as retrieving nothing.

Deletion attacks at a large budget wipe out short queries (``typo-drop`` at 8 edits leaves
nothing of ``"Lambdas"``); an embedder refuses empty text. The expected numbers here are
worked out by hand or recomputed with plain numpy ranking, independently of
``evaluate_attack``.
"""

from __future__ import annotations

import numpy as np
import pytest
from redteam_toys import QUERIES, hash_embed

from redteam.defenses import UnicodeSanitizer
from redteam.metrics import evaluate_attack
from redteam.text import Homoglyph, TextAttack, TypoDrop, evaluate_text_attack, refuse_empty


class RefusingEmbed:
    """``hash_embed`` behind an API check that refuses empty text, as a real embedder does."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        for i, t in enumerate(texts):
            if not t.strip():
                raise ValueError(f"text {i}: empty text")
        self.sent += texts
        return hash_embed(texts)


class WipeWithZeroWidth(TextAttack):
    """Replace every character by ZERO WIDTH SPACE (not whitespace: only a sanitiser empties it)."""

    name = "wipe-zero-width"

    def _perturb(self, text: str, budget: int, rng: np.random.Generator) -> str:
        return "\u200b" * len(text)


def test_destroyed_rows_are_misses_by_hand() -> None:
    # Gallery e0, e1, e2; query i is e_i and its relevant item is i (all top-1 clean).
    # Attacked: row 0 unchanged, row 1 moved onto e2, row 2 destroyed (zeros, ignored).
    eye = np.eye(3)
    attacked = np.array([eye[0], eye[2], [0.0, 0.0, 0.0]])
    gone = np.array([False, False, True])
    rep = evaluate_attack(eye, attacked, eye, relevant=[0, 1, 2], k=1, destroyed=gone)
    # Relevant ranks under attack: 0; 1 has e2 and (tie at 0, lower index) e0 ahead -> 2;
    # destroyed -> m = 3. Recall@1 1/3; all eligible, rows 1 and 2 lose it -> ASR 2/3.
    assert rep.per_query["rank_attacked"] == [0, 2, 3]
    assert rep.recall_clean == 1.0 and rep.recall_attacked == pytest.approx(1 / 3)
    assert (rep.n_eligible, rep.n_success) == (3, 2)
    assert rep.success_rate == pytest.approx(2 / 3)
    assert rep.n == 3 and rep.n_destroyed == 1
    assert rep.per_query["destroyed"] == [False, False, True]
    # Drift over the two embedded rows: 1 - cos(e0, e0) = 0 and 1 - cos(e1, e2) = 1.
    assert rep.cosine_drift == pytest.approx(0.5)

    # Targeted, targets 1, 2, 0: clean target ranks 1, 2, 1 (all eligible); attacked row 1
    # lands on its target e2 (rank 0); the destroyed row cannot reach its target (rank 3).
    tgt = evaluate_attack(eye, attacked, eye, target=[1, 2, 0], k=1, destroyed=gone)
    assert tgt.per_query["target_rank_clean"] == [1, 2, 1]
    assert tgt.per_query["target_rank_attacked"] == [1, 0, 3]
    assert (tgt.n_eligible, tgt.n_success) == (3, 1)


def test_all_destroyed_and_bad_mask() -> None:
    eye = np.eye(3)
    rep = evaluate_attack(
        eye, np.zeros((3, 3)), eye, relevant=[0, 1, 2], k=2, destroyed=np.ones(3, dtype=bool)
    )
    assert rep.recall_attacked == 0.0 and rep.success_rate == 1.0 and rep.n_destroyed == 3
    assert np.isnan(rep.cosine_drift)
    plain = evaluate_attack(eye, eye, eye, relevant=[0, 1, 2])
    assert plain.n_destroyed == 0 and "destroyed" not in plain.per_query
    with pytest.raises(ValueError, match=r"destroyed must be a bool array of shape \(3,\)"):
        evaluate_attack(eye, eye, eye, relevant=[0, 1, 2], destroyed=[1, 0, 0])
    with pytest.raises(ValueError, match="destroyed must be"):
        evaluate_attack(eye, eye, eye, relevant=[0, 1, 2], destroyed=np.zeros(2, dtype=bool))


def _ranks_by_numpy(queries: np.ndarray, gallery: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """0-based rank of each relevant item by a stable sort of the negated cosines."""
    order = np.argsort(-(queries @ gallery.T), axis=1, kind="stable")
    return np.array(
        [int(np.flatnonzero(row == r)[0]) for row, r in zip(order, relevant, strict=True)]
    )


def test_typo_drop_wiping_short_queries_is_counted_not_raised() -> None:
    # At 8 deletions of alphanumerics, "Lambdas", "None" (<= 8 letters) become "" and
    # "a b" becomes " " (whitespace only): refused. "C++" keeps "++" and is accepted.
    queries = ["Lambdas", "a b", "C++", *QUERIES[:4], "None"]
    wiped = [0, 1, 7]
    embed = RefusingEmbed()
    gallery = hash_embed(queries)
    relevant = np.arange(len(queries))
    attack = TypoDrop(budget=8, seed=5)
    rep = evaluate_text_attack(embed, queries, gallery, attack, relevant=relevant, k=1)

    attacked = attack.perturb(queries)
    assert [i for i, t in enumerate(attacked) if not t.strip()] == wiped
    assert attacked[2] == "++"
    n, kept = len(queries), [i for i in range(len(queries)) if i not in wiped]
    assert rep.n == n and rep.n_destroyed == 3
    assert rep.per_query["destroyed"] == [i in wiped for i in range(n)]
    # Only the accepted texts reached the model; queries_used counts what was embedded.
    assert embed.sent == queries + [attacked[i] for i in kept]
    assert rep.queries_used == n + len(kept)
    # Scores: survivors ranked by plain numpy, the wiped ones are misses (rank m).
    ranks = np.full(n, len(queries))
    ranks[kept] = _ranks_by_numpy(hash_embed([attacked[i] for i in kept]), gallery, relevant[kept])
    assert rep.per_query["rank_attacked"] == ranks.tolist()
    assert rep.recall_clean == 1.0  # a query's own text is its gallery item
    assert rep.recall_attacked == pytest.approx(np.mean(ranks < 1))
    assert rep.success_rate == pytest.approx(np.mean(ranks >= 1))  # all eligible clean
    drift = 1 - np.sum(hash_embed(queries)[kept] * hash_embed([attacked[i] for i in kept]), 1)
    assert rep.cosine_drift == pytest.approx(drift.mean())


def test_text_emptied_by_the_defense_is_destroyed_only_behind_it() -> None:
    queries = QUERIES[:5]
    gallery = hash_embed(queries)
    relevant = np.arange(len(queries))
    attack = WipeWithZeroWidth(budget=1)
    raw = evaluate_text_attack(RefusingEmbed(), queries, gallery, attack, relevant=relevant)
    assert raw.n_destroyed == 0 and raw.queries_used == 10  # ZWSP is not whitespace
    embed = RefusingEmbed()
    dfd = evaluate_text_attack(
        embed, queries, gallery, attack, relevant=relevant, defense=UnicodeSanitizer()
    )
    # The sanitiser strips every ZWSP: nothing is left of any attacked query.
    assert dfd.n_destroyed == 5 and dfd.queries_used == 5 and embed.sent == queries
    assert dfd.recall_clean == 1.0 and dfd.recall_attacked == 0.0 and dfd.success_rate == 1.0


def test_custom_refusal_and_refused_clean_query() -> None:
    queries = QUERIES[:6]
    gallery = hash_embed(queries)
    relevant = np.arange(len(queries))

    def ascii_only(text: str) -> str | None:
        return None if text.isascii() else "not ASCII"

    attack = Homoglyph(budget=1, seed=0)
    rep = evaluate_text_attack(
        hash_embed, queries, gallery, attack, relevant=relevant, refuse=ascii_only
    )
    want = sum(not t.isascii() for t in attack.perturb(queries))
    assert want == len(queries)  # every query has a Latin letter with a confusable
    assert rep.n_destroyed == want and rep.recall_attacked == 0.0

    def short_only(text: str) -> str | None:
        return "too long" if len(text) > 40 else None

    long_at = next(i for i, q in enumerate(queries) if len(q) > 40)
    with pytest.raises(ValueError, match=rf"clean query {long_at} would be refused \(too long\)"):
        evaluate_text_attack(
            hash_embed, queries, gallery, attack, relevant=relevant, refuse=short_only
        )
    assert refuse_empty(" \t\n") == "empty text" and refuse_empty("\u200b") is None
