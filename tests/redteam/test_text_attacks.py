"""Text query attacks: budgets checked independently, sanitisation undoes the Unicode ones."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from redteam_toys import QUERIES, hash_embed

from redteam.defenses import UnicodeSanitizer, fold_confusables
from redteam.metrics import edit_distance
from redteam.text import (
    FOLD,
    HOMOGLYPHS,
    INVISIBLE_CHARS,
    PDF,
    QWERTY_NEIGHBOURS,
    RLO,
    BidiReorder,
    CaseNoise,
    Homoglyph,
    Invisible,
    TypoDrop,
    TypoInsert,
    TypoKeyboard,
    TypoSwap,
    WhitespaceNoise,
    evaluate_text_attack,
    text_attacks,
)

BUDGETS = (1, 2, 4)


def _hamming(a: str, b: str) -> int:
    assert len(a) == len(b)
    return sum(x != y for x, y in zip(a, b, strict=True))


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(c in it for c in short)


@pytest.mark.parametrize("budget", BUDGETS)
def test_substitution_attacks_change_exactly_budget_chars(budget: int) -> None:
    for q in QUERIES:
        for cls in (TypoKeyboard, Homoglyph, CaseNoise):
            out = cls(budget=budget, seed=3).perturb([q])[0]
            assert _hamming(q, out) == budget, (cls.name, q, out)
            assert edit_distance(q, out) <= budget
        kb = TypoKeyboard(budget=budget, seed=3).perturb([q])[0]
        for a, b in zip(q, kb, strict=True):
            if a != b:
                assert b.lower() in QWERTY_NEIGHBOURS[a.lower()]
        hg = Homoglyph(budget=budget, seed=3).perturb([q])[0]
        assert all(b in HOMOGLYPHS[a] for a, b in zip(q, hg, strict=True) if a != b)
        assert CaseNoise(budget=budget, seed=3).perturb([q])[0].lower() == q.lower()


@pytest.mark.parametrize("budget", BUDGETS)
def test_insert_and_delete_attacks(budget: int) -> None:
    for q in QUERIES:
        dropped = TypoDrop(budget=budget, seed=1).perturb([q])[0]
        assert len(q) - len(dropped) == budget and _is_subsequence(dropped, q)
        assert edit_distance(q, dropped) == budget
        inserted = TypoInsert(budget=budget, seed=1).perturb([q])[0]
        assert len(inserted) - len(q) == budget and _is_subsequence(q, inserted)
        invis = Invisible(budget=budget, seed=1).perturb([q])[0]
        assert len(invis) - len(q) == budget and _is_subsequence(q, invis)
        assert sum(c in INVISIBLE_CHARS for c in invis) == budget
        assert "".join(c for c in invis if c not in INVISIBLE_CHARS) == q


@pytest.mark.parametrize("budget", BUDGETS)
def test_swap_and_bidi_attacks(budget: int) -> None:
    for q in QUERIES:
        swapped = TypoSwap(budget=budget, seed=2).perturb([q])[0]
        assert _hamming(q, swapped) == 2 * budget
        assert sorted(swapped) == sorted(q)
        assert edit_distance(q, swapped, transpositions=True) <= budget
        bidi = BidiReorder(budget=budget, seed=2).perturb([q])[0]
        assert bidi.count(RLO) == bidi.count(PDF) == budget
        assert len(bidi) == len(q) + 2 * budget
        stripped = bidi.replace(RLO, "").replace(PDF, "")
        assert _hamming(q, stripped) == 2 * budget  # a model reads swapped letters


@pytest.mark.parametrize("budget", BUDGETS)
def test_whitespace_noise(budget: int) -> None:
    for q in QUERIES:
        out = WhitespaceNoise(budget=budget, seed=4).perturb([q])[0]
        assert out != q and edit_distance(q, out) <= budget
        assert unicodedata.normalize("NFKC", " ".join(out.split())) == q


def test_seeded_and_order_independent() -> None:
    a = Homoglyph(budget=3, seed=7).perturb(QUERIES)
    b = Homoglyph(budget=3, seed=7).perturb(list(reversed(QUERIES)))
    assert a == list(reversed(b))
    assert a != Homoglyph(budget=3, seed=8).perturb(QUERIES)
    assert Homoglyph(budget=0).perturb(QUERIES) == QUERIES


def test_confusable_table_provenance() -> None:
    for latin, glyphs in HOMOGLYPHS.items():
        assert latin.isascii() and latin.isalpha()
        for g in glyphs:
            name = unicodedata.name(g)
            assert name.startswith(("CYRILLIC", "GREEK")), name
            assert FOLD[g] == latin
            assert unicodedata.normalize("NFKC", g) == g  # NFKC alone would not undo it


@pytest.mark.parametrize("name", ["homoglyph", "invisible", "bidi-reorder", "whitespace-noise"])
@pytest.mark.parametrize("budget", BUDGETS)
def test_sanitiser_inverts_unicode_attacks(name: str, budget: int) -> None:
    attacked = text_attacks.get(name)(budget=budget, seed=5).perturb(QUERIES)
    assert attacked != QUERIES
    assert UnicodeSanitizer()(attacked) == QUERIES


def test_sanitiser_details() -> None:
    s = UnicodeSanitizer()
    assert s.sanitize("\uff21\uff22\uff43 \u2003x") == "ABc x"  # fullwidth + em space
    assert s.sanitize(f"a{RLO}dc{PDF}b") == "acdb"  # RLO span shown reversed
    assert s.sanitize("ab\ufeffc\u00ad") == "abc"
    assert UnicodeSanitizer(casefold=True).sanitize("HeLLo") == "hello"
    # genuine Cyrillic words survive "auto" folding; Latin words lose their look-alikes
    assert fold_confusables("\u0441\u043e\u0440 \u043f\u0440\u0438\u0432\u0435\u0442") == (
        "\u0441\u043e\u0440 \u043f\u0440\u0438\u0432\u0435\u0442"
    )
    assert fold_confusables("p\u0430ris \u043f\u0440\u0438\u0432\u0435\u0442") == (
        "paris \u043f\u0440\u0438\u0432\u0435\u0442"
    )
    assert fold_confusables("\u0430", "all") == "a"
    with pytest.raises(TypeError, match="list of texts"):
        s("one string")


def test_sanitiser_restores_retrieval_under_attack() -> None:
    gallery = hash_embed(QUERIES)  # item i is query i's own text
    relevant = np.arange(len(QUERIES))
    sanitizer = UnicodeSanitizer()
    for name in ("homoglyph", "invisible", "bidi-reorder"):
        attack = text_attacks.get(name)(budget=4, seed=0)
        bare = evaluate_text_attack(hash_embed, QUERIES, gallery, attack, relevant=relevant)
        defended = evaluate_text_attack(
            hash_embed, QUERIES, gallery, attack, relevant=relevant, defense=sanitizer
        )
        assert bare.cosine_drift > 0.05
        assert defended.cosine_drift == pytest.approx(0.0, abs=1e-12)
        assert defended.recall_attacked == defended.recall_clean == bare.recall_clean
        assert bare.perturbation["edit_mean"] > 0 and bare.queries_used == 2 * len(QUERIES)
        assert defended.params["defense"] == "unicode-sanitize"


def test_bad_text_input_is_named() -> None:
    with pytest.raises(TypeError, match="text 1 is int"):
        Homoglyph().perturb(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="budget"):
        Homoglyph(budget=-1)
