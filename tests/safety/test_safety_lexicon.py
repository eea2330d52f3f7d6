"""The abuse lexicon: its derivation, every reading, Scunthorpe traps and the policies."""

from __future__ import annotations

import pytest

from audit.items import text_item
from audit.safety import AbuseLexiconChecker, build_filter, packaged_policy
from audit.safety._lexicon import Lexicon, match, name_words, proper_nouns, sound_fold
from audit.safety._obfuscate import OBFUSCATIONS
from audit.safety._texteval import is_test_term

ZWSP = "\u200b"


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.load()


@pytest.mark.slow
def test_shipped_lexicon_is_the_derivation_of_the_installed_word_list():
    pytest.importorskip("better_profanity")
    pytest.importorskip("names")
    pytest.importorskip("emoji")
    from audit.safety._lexicon_build import derive, lexicon_path, render

    assert render(derive()) == lexicon_path().read_text(encoding="utf-8")


def test_derivation_rules_by_hand(lex):
    # identity words, benign-use words and very common benign words are not terms
    for word in ("gay", "queer", "lesbians", "strip", "slope", "god", "murder", "organ"):
        assert word not in lex.terms, word
    for word in ("fuck", "shit", "cunt", "motherfucker", "phuck", "fcuk"):
        assert word in lex.terms, word
    assert "dick" in lex.names and "fuck" not in lex.names  # census names
    # everyday words whose dominant sense is benign (Zipf >= 4.5, classifier p < 0.96)
    for word in ("kill", "fat", "sex", "sexual", "porn"):
        assert word not in lex.terms, word


def test_dropped_everyday_words_do_not_flag_alone(lex):
    for text in ("kill", "fat", "sex", "kill the process", "a fat binary", "sex of the respondent"):
        assert match(lex, text) is None, text


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        # by hand, rule by rule: ph->f, ck->k, final -er->a
        ("phucker", "fuka"),
        ("fucker", "fuka"),
        ("fukka", "fuka"),  # kk squeezed, final -a kept
        ("sheeit", "shit"),  # ee->i, ii squeezed
        ("shyt", "shit"),  # y as a vowel -> i
        ("azzhole", "ashol"),  # z->s, ss squeezed, silent final e dropped
        ("feltch", "felch"),  # tch->ch
        ("fook", "fuk"),  # oo->u
        ("scroat", "skrot"),  # c before r -> k, oa->o
        ("queef", "kuif"),  # q->k, ee->i
        ("yes", "yes"),  # an initial y stays a consonant
    ],
)
def test_sound_fold_by_hand(word, folded):
    assert sound_fold(word) == folded


# Every family on terms of the *tune* half (the test half is measured by text_eval).
TUNE = ["fuck", "cunt", "whore", "slut", "prick"]


def test_tune_examples_are_in_the_tune_half():
    assert not any(is_test_term(t) for t in TUNE)


@pytest.mark.parametrize("family", sorted(OBFUSCATIONS))
def test_each_obfuscation_family_is_caught(lex, family):
    for term in TUNE:
        text = f"well you are a {OBFUSCATIONS[family](term)} today"
        assert match(lex, text) is not None, (family, text)


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("phuck off", "exact"),  # the list names this respelling itself
        ("shyt happens", "phonetic"),
        ("kokk", "phonetic"),
        ("phukk you", "phonetic"),
        ("f*ck off", "masked"),
        ("b#tch", "masked"),
        ("f**k", "masked"),
        ("sh!t", "exact"),  # leetspeak view
        ("@ss", "exact"),
        ("fuckz", "inflected"),
        ("sheeit happens", "phonetic"),
        ("you phukkin idiot", "phonetic"),
        ("kokksukka", "phonetic"),
        ("you are a kunt", "phonetic"),  # Dutch "can", but the text is English
        ("jakk ophph", "phonetic"),  # the words of a multi-word term respelt
        ("f u c k you", "exact"),
        ("f.u.c.k", "exact"),
        ("fu" + ZWSP + "ck", "exact"),
        ("ｆｕｃｋ", "exact"),
        ("fuсk", "exact"),  # Cyrillic es
    ],
)
def test_readings(lex, text, reading):
    hit = match(lex, text)
    assert hit is not None and hit[1] == reading, (text, hit)


@pytest.mark.parametrize(
    "text",
    [
        "dog",
        "cat",
        "hoe",
        "She used a garden hoe to weed the beds.",
        "Dick Van Dyke",
        "Dick Van Dyke starred in Mary Poppins.",
        "Moby Dick is a novel by Herman Melville.",
        "Scunthorpe United won on Saturday.",
        "Penistone",
        "Middlesex, Essex and Sussex",
        "the cockpit of the plane",
        "an assassin",
        "a class of grapes",
        "my therapist",
        "shitake mushrooms",
        "Charles Dickens",
        "I am a gay person.",
        "use **kwargs and x*y",
        # once read as respellings by Metaphone (vowels collapsed): words of other
        # languages, code and names
        "Devi mantenere intatte tutte le informative.",
        "un’opera basata sull’Opera ovvero sull’Opera",
        "Creates a string repr of the dtype.",
        "Copyright 2004 Joerg Jaspert and Hiei Xu.",
        "2010 Clytie Siddall <clytie@example.org>",
        "return np.sqrt(np.diag(R))",
    ],
)
def test_benign_traps_pass(lex, text):
    assert match(lex, text) is None, (text, match(lex, text))


def test_proper_nouns_are_capitalised_words_not_opening_a_sentence():
    text = 'The fox met Joerg. Brown saw "Clytie" and Hiei: Then it ended.'
    assert proper_nouns(text) == {"joerg", "hiei"}  # "Clytie" follows a quote


def test_name_rule_needs_a_capitalised_multi_word_name(lex):
    assert name_words("Dick Van Dyke was there") == {"dick", "van", "dyke"}
    assert match(lex, "what a dick") == ("dick", "exact")
    assert match(lex, "Dick") == ("dick", "exact")  # one word alone is no name


def test_checker_reason_names_the_list_line_not_the_text():
    c = AbuseLexiconChecker()
    (f,) = c.text_findings("f*ck off")
    assert f.hit and f.category == "abuse" and "f*ck" not in f.reason
    line = int(f.reason.split("line ")[1].split()[0])
    from audit.safety._lexicon_build import source_text

    assert source_text().splitlines()[line - 1].strip() in ("fack",)
    (g,) = c.text_findings("a lovely day")
    assert not g.hit


def _text_filter(name: str):
    from dataclasses import replace

    policy = packaged_policy(name)
    return build_filter(replace(policy, checkers={"abuse": policy.checkers["abuse"]}))


def test_default_flags_and_strict_blocks_abuse():
    items = [text_item("a", "you f*cking b1tch"), text_item("b", "a lovely day")]
    default = [v.action for v in _text_filter("default").screen(items)]
    strict = [v.action for v in _text_filter("strict").screen(items)]
    assert default == ["flag", "allow"]
    assert strict == ["block", "allow"]


def test_packaged_policies_say_what_blocks():
    d, s = packaged_policy("default"), packaged_policy("strict")
    assert d.action_for("abuse") == "flag" and s.action_for("abuse") == "block"
    for p in (d, s):
        assert p.action_for("sexual") == "block" and p.action_for("checker-error") == "block"
        assert p.action_for("unchecked") == "block"
        assert "text" not in p.checkers["concepts"]["modalities"]
        assert "profanity" not in p.checkers


def test_abuse_checker_failure_blocks(monkeypatch):
    filt = _text_filter("default")
    checker = filt.checkers[0]

    def broken(text):
        raise RuntimeError("lexicon unreadable")

    monkeypatch.setattr(checker, "text_findings", broken)
    (v,) = filt.screen([text_item("x", "hello")])
    assert v.action == "block" and v.decisions[0].error
