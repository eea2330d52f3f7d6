"""WEAT 1-10 stimuli (Caliskan et al. 2017) and SEAT templates (May et al. 2019)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from fairness.probes import WeatSpec, load_seat_templates, load_weat_tests, seat_sentences

# Set sizes (|X|, |Y|, |A|, |B|) as reported in Caliskan et al., Table 1.
PAPER_SIZES = {
    "weat1": (25, 25, 25, 25),
    "weat2": (25, 25, 25, 25),
    "weat3": (32, 32, 25, 25),
    "weat4": (16, 16, 25, 25),
    "weat5": (16, 16, 8, 8),
    "weat6": (8, 8, 8, 8),
    "weat7": (8, 8, 8, 8),
    "weat8": (8, 8, 8, 8),
    "weat9": (6, 6, 7, 7),
    "weat10": (8, 8, 8, 8),
}


def test_weat6_lists_match_the_paper() -> None:
    spec = load_weat_tests()["weat6"]
    assert isinstance(spec, WeatSpec)
    (x_name, x), (y_name, y) = spec.targets
    (a_name, a), (b_name, b) = spec.attributes
    assert (x_name, y_name, a_name, b_name) == ("male_names", "female_names", "career", "family")
    assert x == ("John", "Paul", "Mike", "Kevin", "Steve", "Greg", "Jeff", "Bill")
    assert y == ("Amy", "Joan", "Lisa", "Sarah", "Diana", "Kate", "Ann", "Donna")
    assert a == (
        "executive", "management", "professional", "corporation",
        "salary", "office", "business", "career",
    )  # fmt: skip
    assert b == (
        "home", "parents", "children", "family",
        "cousins", "marriage", "wedding", "relatives",
    )  # fmt: skip


def test_all_ten_tests_with_paper_sizes() -> None:
    tests = load_weat_tests()
    assert list(tests) == [f"weat{i}" for i in range(1, 11)]
    for key, spec in tests.items():
        sizes = tuple(len(ws.words) for ws in (*spec.targets, *spec.attributes))
        assert sizes == PAPER_SIZES[key], key
        assert spec.source and spec.description


def test_sets_have_no_duplicates_and_no_overlap() -> None:
    for key, spec in load_weat_tests(include_excluded=True).items():
        for ws in (*spec.targets, *spec.attributes):
            assert len(set(ws.words)) == len(ws.words), (key, ws.name)
        assert not set(spec.targets[0].words) & set(spec.targets[1].words), key
        assert not set(spec.attributes[0].words) & set(spec.attributes[1].words), key


def test_excluded_names_of_weat3() -> None:
    full = load_weat_tests(include_excluded=True)["weat3"]
    used = load_weat_tests()["weat3"]
    assert [len(ws.words) for ws in full.targets] == [50, 50]
    assert "Sara" in full.targets[0].words and "Sara" not in used.targets[0].words
    assert "Latonya" in full.targets[1].words and "Latonya" not in used.targets[1].words
    # WEAT 3 swaps 'agony', 'prison' (WEAT 1) for 'bomb', 'evil'.
    assert {"bomb", "evil"} <= set(used.attributes[1].words)
    assert not {"agony", "prison"} & set(used.attributes[1].words)


def test_data_file_has_provenance() -> None:
    raw = json.loads(resources.files("fairness.probes.data").joinpath("weat.json").read_text())
    prov = raw["provenance"]
    assert "Science" in prov["paper"] and "10.1126/science.aal4230" in prov["paper"]
    for key in ("supplementary_material", "license", "cross_checked_against"):
        assert prov[key]


def test_seat_default_templates() -> None:
    out = seat_sentences(["Paul", "he"])
    default = load_seat_templates()["default"]
    assert len(out) == 2 * len(default)
    assert out[0] == "This is Paul."
    assert "He is here." in out  # sentence-initial capital, word case otherwise kept
    assert "Paul is here." in out


def test_seat_named_and_custom_templates() -> None:
    assert seat_sentences(["apple", "pear"], "singular_noun")[:2] == [
        "This is an apple.",
        "That is an apple.",
    ]
    assert "This is a pear." in seat_sentences(["apple", "pear"], "singular_noun")
    assert seat_sentences(["NASA"], ["{w} is here.", "I like {w}."]) == [
        "NASA is here.",
        "I like NASA.",
    ]
    sets = load_seat_templates()
    assert {"default", "name", "singular_noun", "plural_noun", "adjective", "verb"} <= set(sets)


@pytest.mark.parametrize(
    ("words", "templates", "exc", "match"),
    [
        ([], None, ValueError, "words is empty"),
        (["ok", " "], None, ValueError, r"words\[1\] is empty"),
        ("Paul", None, TypeError, "not a single string"),
        (["ok", 3], None, TypeError, r"words\[1\] must be a str"),
        (["ok"], "nouns", ValueError, "unknown template set 'nouns'"),
        (["ok"], ["This is it."], ValueError, "no '{w}' placeholder"),
        (["ok"], ["{w} and {other}."], ValueError, "malformed"),
        (["ok"], [], ValueError, "templates is empty"),
    ],
)
def test_seat_validation(words, templates, exc, match) -> None:
    with pytest.raises(exc, match=match):
        seat_sentences(words, templates)
