"""Unicode hardening: obfuscated variants of a listed term are still matched."""

from __future__ import annotations

import pytest

from audit.safety import TermListChecker, harden, join_spaced, leet_fold, text_views
from audit.safety._text import ListEntry
from audit.safety._unicode import display_order, squeeze

ZWSP, ZWJ, RLO, PDF = "\u200b", "\u200d", "\u202e", "\u202c"


def test_harden_by_hand():
    assert harden("ＳＨＩＴ") == "shit"  # fullwidth: NFKC
    assert harden("𝐬𝐡𝐢𝐭") == "shit"  # mathematical bold: NFKC
    assert harden("ѕһіt") == "shit"  # Cyrillic dze, shha, i
    assert harden("s" + ZWSP + "h" + ZWJ + "i\u00adt") == "shit"  # zero-width, soft hyphen
    assert harden("s̶h̶i̶t̶") == "shit"  # combining long stroke overlay
    assert harden("ꜱʜɪᴛ") == "shit"  # small capitals (derived from character names)
    assert harden("naïve  café\u00a0bar") == "naive cafe bar"
    assert harden("\u13da\u13bb\u0406\u13a2") == "shit"  # Cherokee S, H, T; Cyrillic I


def test_display_order_reverses_right_to_left_overrides():
    assert display_order("ab" + RLO + "dc" + PDF + "e") == "abcde"
    assert display_order(RLO + "kcuf") == "fuck"  # unclosed: runs to the end
    assert display_order("x" + RLO + "a\u202db c" + PDF + "d" + PDF) == "xd" + "b c" + "a"
    assert display_order("plain") == "plain"


def test_leet_spacing_and_squeeze_by_hand():
    assert leet_fold("5h1t happens in 2024") == "shit happens in 2024"  # digits alone stay
    assert leet_fold("a55ho1e", alternate=True) == "asshole"
    assert leet_fold("hell!") == "hell!"  # trailing '!' stays punctuation
    assert join_spaced("f u c k you") == "fuck you"
    assert join_spaced("f.u.c.k") == "fuck"
    assert join_spaced("a b") == "a b"  # two letters are not a spaced word
    assert squeeze("fuuuuck") == "fuck"
    assert squeeze("asssshole", 2) == "asshole"


TERMS = TermListChecker(
    [ListEntry("shit", "offensive-term", "t:1"), ListEntry("asshole", "offensive-term", "t:2")]
)
RAW = TermListChecker([ListEntry("shit", "offensive-term", "t:1")], harden=False)


@pytest.mark.parametrize(
    "text",
    [
        "this is 5h1t",  # leet
        "this is sh!t",
        "this is ѕһіt",  # homoglyphs (Cyrillic)
        "this is ｓｈｉｔ",  # fullwidth
        "this is s" + ZWSP + "h" + ZWSP + "i" + ZWSP + "t",  # zero-width
        "this is s h i t",  # spacing
        "this is s.h.i.t",
        "this is " + RLO + "tihs" + PDF,  # bidi: stored reversed, displays "shit"
        "this is shiiiit",  # repeated letters
        "this is sh*t",  # masked
        "this is SHİT",  # dotted capital I
        "you a55ho1e",
        "you 4ssh0le",
    ],
)
def test_obfuscated_variants_are_matched(text):
    (finding,) = TERMS.text_findings(text)
    assert finding.hit and finding.category == "offensive-term"
    assert text not in finding.reason  # reasons name the list entry, never the text


@pytest.mark.parametrize(
    "text",
    ["we bought shiitake", "Scunthorpe United", "the class passed the assessment", "2024"],
)
def test_benign_lookalikes_are_not_matched(text):
    assert TERMS.text_findings(text) == []


def test_without_hardening_obfuscation_evades():
    """The same list on raw text misses what the hardened one catches."""
    assert RAW.text_findings("this is shit")[0].hit
    assert RAW.text_findings("this is ѕһіt") == []
    assert RAW.text_findings("this is s" + ZWSP + "hit") == []


def test_views_are_deterministic_and_include_the_plain_reading():
    views = text_views("Sh1t HAPPENS")
    assert views[0] == "sh1t happens"
    assert "shit happens" in views
    assert text_views("Sh1t HAPPENS") == views
    assert text_views(ZWSP * 3) == ()


def test_patterns_run_on_hardened_text_and_time_out_closed():
    checker = TermListChecker(patterns=[ListEntry(r"k[i1]ll\s+you", "threat", "p:1")])
    assert checker.text_findings("I will k1ll уоu")[0].hit  # Cyrillic u/o
    # catastrophic backtracking: the time limit stops it with an error (the filter then
    # blocks the item: fail closed, see test_safety_filter)
    bad = TermListChecker(patterns=[ListEntry(r"^(a|aa)+$", "x", "p:2")], timeout_s=0.01)
    with pytest.raises(TimeoutError):
        bad.text_findings("a" * 60 + "b")
    with pytest.raises(ValueError, match="p:3"):
        TermListChecker(patterns=[ListEntry("(", "x", "p:3")])
