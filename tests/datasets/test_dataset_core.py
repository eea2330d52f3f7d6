"""The Dataset container: structural checks, views, content validation, grades."""

from __future__ import annotations

from pathlib import Path

import pytest
from ds_fixtures import png

from audit.datasets import Dataset, DatasetError
from audit.datasets._dataset import as_grade
from audit.items import Item, text_item


def _items() -> tuple[list[Item], list[Item]]:
    corpus = [
        Item("a", "image", png(), {"gender": "woman", "tone": 1}),
        Item("b", "image", png(), {"gender": "man", "tone": 1}),
        Item("c", "image", png(), {"gender": "woman"}),
    ]
    return corpus, [text_item("q1", "a person"), text_item("q2", "someone")]


def test_views() -> None:
    corpus, queries = _items()
    ds = Dataset("d", None, corpus, queries, {"q1": {"a": 1, "b": 0}, "q2": {"c": 3}})
    assert ds.modality_pair == "text->image"
    assert ds.groups("gender") == {"woman": ["a", "c"], "man": ["b"]}
    assert ds.groups("tone") == {"1": ["a", "b"]}
    assert ds.attribute_names() == ["gender", "tone"]
    assert ds.describe() == {
        "name": "d",
        "split": "test",
        "modality_pair": "text->image",
        "corpus": 3,
        "queries": 2,
        "judgements": 3,
        "corpus_modalities": {"image": 3},
        "attributes": ["gender", "tone"],
    }
    with pytest.raises(ValueError, match="of must be"):
        ds.groups("gender", of="everything")


def test_structure_problems_listed_together() -> None:
    corpus, queries = _items()
    corpus.append(Item("a", "text", "dup"))
    queries.append(text_item("q1", "dup"))
    qrels = {"q1": {"zz": 1, "a": -1}, "q9": {"b": 1}, "q2": {"c": True}}
    with pytest.raises(DatasetError) as info:
        Dataset("d", None, corpus, queries, qrels)  # type: ignore[arg-type]
    reasons = sorted(f"{e.item_id}: {e.reason}" for e in info.value.errors)
    assert reasons == sorted(
        [
            "a: duplicate corpus id",
            "q1: duplicate query id",
            "q1: qrels name unknown corpus id 'zz'",
            "q1: grade for 'a' must be a non-negative int: -1",
            "q9: qrels name a query that is not in the queries",
            "q2: grade for 'c' must be a non-negative int: True",
        ]
    )
    assert str(info.value).startswith("dataset 'd': 6 problem(s):")


def test_validate_reports_bad_content_of_both_sides(tmp_path: Path) -> None:
    corpus = [Item("ok", "image", png()), Item("gone", "image", tmp_path / "nope.png")]
    queries = [text_item("q", "   ")]
    ds = Dataset("d", None, corpus, queries, {"q": {"ok": 1}})
    with pytest.raises(DatasetError) as info:
        ds.validate()
    assert {e.item_id for e in info.value.errors} == {"gone", "q"}


@pytest.mark.parametrize(
    ("value", "grade"), [(2, 2), ("3", 3), ("1.0", 1), (0.0, 0), (" 4 ", 4), ("2e0", 2)]
)
def test_as_grade_accepts_integers(value: object, grade: int) -> None:
    assert as_grade(value) == grade


@pytest.mark.parametrize("value", [0.5, "-1", "high", None, True, float("nan")])
def test_as_grade_refuses_the_rest(value: object) -> None:
    with pytest.raises(ValueError):
        as_grade(value)
