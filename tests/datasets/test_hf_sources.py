"""Hugging Face sources: save_to_disk folders, parquet, column mappings, BEIR table sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ds_fixtures import media_table_fixture, png, wav  # noqa: F401 (fixture)

from audit.datasets import DatasetError, from_hf, infer_columns, load_dataset, load_hf

RED, BLUE = png((255, 0, 0)), png((0, 0, 255))


@pytest.fixture
def captions(media_table: Any) -> Any:
    """Two images; the first appears on two rows (one per caption batch)."""
    return media_table(
        {
            "image_id": ["img-a", "img-b", "img-a"],
            "image": [
                {"bytes": RED, "path": None},
                {"bytes": BLUE, "path": None},
                {"bytes": RED, "path": None},
            ],
            "caption": [["a red square", "red"], ["a blue square"], ["crimson"]],
        },
        {"image": "image"},
    )


def _summary(ds: Any) -> tuple[Any, ...]:
    return (
        [(i.id, i.modality, i.content) for i in ds.corpus],
        [(q.id, q.content) for q in ds.queries],
        ds.qrels,
    )


EXPECTED = (
    [("img-a", "image", RED), ("img-b", "image", BLUE)],
    [
        ("img-a/q0", "a red square"),
        ("img-a/q1", "red"),
        ("img-b/q0", "a blue square"),
        ("img-a/q2", "crimson"),
    ],
    {
        "img-a/q0": {"img-a": 1},
        "img-a/q1": {"img-a": 1},
        "img-b/q0": {"img-b": 1},
        "img-a/q2": {"img-a": 1},
    },
)


def test_inferred_columns(captions: Any) -> None:
    assert infer_columns(captions.features) == {
        "image": "image",
        "id": "image_id",
        "query": "caption",
    }


def test_save_to_disk_folder(captions: Any, tmp_path: Path) -> None:
    captions.save_to_disk(str(tmp_path / "saved"))
    ds = load_dataset(tmp_path / "saved")
    assert _summary(ds) == EXPECTED
    assert ds.modality_pair == "text->image"
    ds.validate()


def test_parquet_file_matches_the_folder(captions: Any, tmp_path: Path) -> None:
    captions.to_parquet(str(tmp_path / "t.parquet"))
    assert _summary(load_dataset(tmp_path / "t.parquet")) == EXPECTED


def test_audio_without_a_decoder(media_table: Any) -> None:
    # torchcodec is not installed: media are read in stored form, never decoded
    clip = wav()
    table = media_table(
        {
            "clip": [7, 8],
            "sound": [{"bytes": clip, "path": None}] * 2,
            "said": ["hello", "bye"],
            "speaker": ["f1", "m2"],
        },
        {"sound": "audio"},
    )
    columns = {"id": "clip", "audio": "sound", "query": "said", "attributes": ["speaker"]}
    ds = from_hf(table, columns)
    assert [(i.id, i.modality, i.attributes) for i in ds.corpus] == [
        ("7", "audio", {"speaker": "f1"}),
        ("8", "audio", {"speaker": "m2"}),
    ]
    assert ds.corpus[0].content == clip
    ds.validate()


def test_text_corpus_with_title_and_query_ids(media_table: Any) -> None:
    table = media_table(
        {
            "doc": ["d1"],
            "body": ["Body."],
            "head": ["Head"],
            "q": [["x", "y"]],
            "qid": [["qa", "qb"]],
        },
        {},
    )
    ds = from_hf(
        table, {"id": "doc", "text": "body", "title": "head", "query": "q", "query_id": "qid"}
    )
    assert ds.corpus[0].content == "Head Body."
    assert ds.qrels == {"qa": {"d1": 1}, "qb": {"d1": 1}}


def test_media_paths_need_and_stay_inside_media_root(media_table: Any, tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.png").write_bytes(RED)
    (tmp_path / "outside.png").write_bytes(RED)
    table = media_table(
        {"image": [{"bytes": None, "path": "a.png"}, {"bytes": None, "path": "../outside.png"}]},
        {"image": "image"},
    )
    with pytest.raises(DatasetError) as info:
        from_hf(table)
    assert [e.item_id for e in info.value.errors] == ["row 0", "row 1"]
    assert "pass media_root=" in info.value.errors[0].reason
    with pytest.raises(DatasetError) as info:
        from_hf(table, media_root=tmp_path / "imgs")
    assert [(e.item_id, "escapes" in e.reason) for e in info.value.errors] == [("row 1", True)]
    ok = from_hf(table.select([0]), media_root=tmp_path / "imgs")
    assert ok.corpus[0].content == (tmp_path / "imgs" / "a.png").resolve()


def test_column_mapping_errors_all_listed(captions: Any) -> None:
    with pytest.raises(DatasetError) as info:
        from_hf(captions, {"img": "image", "id": "nope", "text": "caption", "audio": "image"})
    reasons = [e.reason for e in info.value.errors]
    assert any("unknown role 'img'; did you mean 'image'?" in r for r in reasons)
    assert any("id: no column 'nope'" in r for r in reasons)
    assert any("exactly one content column" in r for r in reasons)


def test_uninferable_table(media_table: Any) -> None:
    with pytest.raises(DatasetError, match="pass columns="):
        from_hf(media_table({"n": [1, 2]}, {}))


def test_beir_dataset_dict_folder(media_table: Any, tmp_path: Path) -> None:
    import datasets

    parts = datasets.DatasetDict(
        {
            "corpus": media_table(
                {
                    "corpus-id": [10, 11],
                    "image": [{"bytes": RED, "path": None}, {"bytes": BLUE, "path": None}],
                },
                {"image": "image"},
            ),
            "queries": media_table({"query-id": [1, 2], "query": ["red", "unjudged"]}, {}),
            "qrels": media_table({"query-id": [1], "corpus-id": [10], "score": [1.0]}, {}),
        }
    )
    parts.save_to_disk(str(tmp_path / "vd"))
    ds = load_hf(tmp_path / "vd")
    assert [(i.id, i.modality) for i in ds.corpus] == [("10", "image"), ("11", "image")]
    assert [(q.id, q.content) for q in ds.queries] == [("1", "red")]
    assert ds.qrels == {"1": {"10": 1}}


def test_hub_ids_pass_through_unchanged(monkeypatch: pytest.MonkeyPatch, media_table: Any) -> None:
    import datasets

    calls: list[tuple[Any, ...]] = []
    table = media_table({"_id": ["a"], "text": ["alpha"]}, {})

    def fake_load_dataset(path: str, name: Any = None, **kwargs: Any) -> Any:
        calls.append((path, name, kwargs))
        return table

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    ds = load_dataset("hf:Some-Org/some.set_v2")
    assert calls == [("Some-Org/some.set_v2", None, {"split": "test"})]
    assert ds.name == "Some-Org/some.set_v2"
    assert [i.content for i in ds.corpus] == ["alpha"]


def test_known_hub_repository_uses_its_format(
    monkeypatch: pytest.MonkeyPatch, media_table: Any
) -> None:
    import datasets

    table = media_table(
        {"image": [{"bytes": RED, "path": None}], "caption": [["c1", "c2"]]}, {"image": "image"}
    )
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: table)
    ds = load_dataset("hf:nlphuji/mscoco_2014_5k_test_image_text_retrieval")
    assert ds.name == "mscoco-5k"
    assert ds.qrels == {"0/q0": {"0": 1}, "0/q1": {"0": 1}}


def test_not_a_path_nor_a_hub_id() -> None:
    with pytest.raises(DatasetError, match="no such file or folder"):
        load_hf("./definitely/missing folder")
