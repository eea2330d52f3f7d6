"""Benchmark format loaders on tiny fixtures in each public schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ds_fixtures import media_table_fixture, png, wav  # noqa: F401 (fixture)

from audit.datasets import (
    DatasetError,
    activitynet_captions,
    audiocaps,
    coco_karpathy,
    didemo,
    load_dataset,
    mscoco_5k,
    mteb_retrieval,
    textcaps,
    vidore,
)

RED, BLUE = png((255, 0, 0)), png((0, 0, 255))
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(64)  # loaders never decode video


def _img(data: bytes) -> dict[str, Any]:
    return {"bytes": data, "path": None}


def test_mscoco_5k_nlphuji_layout(media_table: Any) -> None:
    caps = [[f"red {k}" for k in range(5)], [f"blue {k}" for k in range(5)]]
    table = media_table(
        {
            "image": [_img(RED), _img(BLUE)],
            "caption": caps,
            "sentids": [["1"] * 5, ["2"] * 5],
            "split": ["test", "test"],
            "img_id": ["391895", "522418"],
            "filename": ["a.jpg", "b.jpg"],
        },
        {"image": "image"},
    )
    ds = mscoco_5k(table)
    assert [(i.id, i.content) for i in ds.corpus] == [("391895", RED), ("522418", BLUE)]
    assert len(ds.queries) == 10
    assert ds.qrels["391895/q3"] == {"391895": 1}
    assert ds.queries_by_id()["522418/q4"].content == "blue 4"
    ds.validate()


def test_coco_karpathy_yerevann_layout_with_images_root(media_table: Any, tmp_path: Path) -> None:
    (tmp_path / "val2014").mkdir()
    for name, data in (("COCO_val2014_1.jpg", RED), ("COCO_val2014_2.jpg", BLUE)):
        (tmp_path / "val2014" / name).write_bytes(data)
    table = media_table(
        {
            "filepath": ["val2014", "val2014", "train2014"],
            "filename": ["COCO_val2014_1.jpg", "COCO_val2014_2.jpg", "COCO_train2014_3.jpg"],
            "sentences": [["a red thing", "red"], ["a blue thing"], ["never loaded"]],
            "cocoid": [1, 2, 3],
            "split": ["test", "test", "train"],
        },
        {},
    )
    ds = coco_karpathy(table, images_root=tmp_path)
    assert [(i.id, i.content) for i in ds.corpus] == [
        ("1", (tmp_path / "val2014/COCO_val2014_1.jpg").resolve()),
        ("2", (tmp_path / "val2014/COCO_val2014_2.jpg").resolve()),
    ]
    assert [q.content for q in ds.queries] == ["a red thing", "red", "a blue thing"]
    with pytest.raises(DatasetError, match="pass images_root="):
        coco_karpathy(table)


def test_coco_karpathy_struct_rows_with_images(media_table: Any) -> None:
    sentence = {"tokens": ["x"], "raw": "", "imgid": 0, "sentid": 0}
    table = media_table(
        {
            "image": [_img(RED), _img(RED), _img(BLUE)],
            "sentences": [
                {**sentence, "raw": "one"},
                {**sentence, "raw": "two"},
                {**sentence, "raw": "three"},
            ],
            "cocoid": [5, 5, 6],
            "split": ["test"] * 3,
        },
        {"image": "image"},
    )
    ds = coco_karpathy(table)
    assert [i.id for i in ds.corpus] == ["5", "6"]
    assert ds.qrels == {"5/q0": {"5": 1}, "5/q1": {"5": 1}, "6/q0": {"6": 1}}


def test_textcaps_dedupes_repeated_caption_lists(media_table: Any) -> None:
    caps = ["Sign reads STOP.", "A stop sign."]
    table = media_table(
        {
            "image": [_img(RED), _img(RED), _img(BLUE)],
            "image_id": ["t1", "t1", "t2"],
            "caption_str": [caps, caps, ["A blue page that says 42."]],
            "reference_strs": [caps, caps, ["A blue page that says 42."]],
            "image_classes": [["Sign"], ["Sign"], ["Poster"]],
        },
        {"image": "image"},
    )
    ds = textcaps(table)
    assert [i.id for i in ds.corpus] == ["t1", "t2"]
    assert [q.content for q in ds.queries] == [*caps, "A blue page that says 42."]


def test_audiocaps_rows_per_caption(media_table: Any) -> None:
    clip = wav()
    table = media_table(
        {
            "audiocap_id": [91, 92, 93],
            "youtube_id": ["yt1", "yt1", "yt2"],
            "start_time": [30, 30, 0],
            "caption": ["a dog barks", "barking", "rain falls"],
            "audio": [_img(clip)] * 3,
        },
        {"audio": "audio"},
    )
    ds = audiocaps(table)
    assert [(i.id, i.modality) for i in ds.corpus] == [("yt1_30", "audio"), ("yt2_0", "audio")]
    assert ds.qrels == {"cap-91": {"yt1_30": 1}, "cap-92": {"yt1_30": 1}, "cap-93": {"yt2_0": 1}}
    ds.validate()


def test_vidore_folder_of_configs(media_table: Any, tmp_path: Path) -> None:
    import datasets

    parts = {
        "corpus": media_table(
            {
                "corpus-id": [0, 1],
                "image": [_img(RED), _img(BLUE)],
                "doc-id": ["esg-a", "esg-a"],
                "page_number_in_doc": [3, 4],
            },
            {"image": "image"},
        ),
        "queries": media_table(
            {"query-id": [7], "query": ["What is red?"], "language": ["english"]}, {}
        ),
        "qrels": media_table({"query-id": [7, 7], "corpus-id": [0, 1], "score": [2.0, 1.0]}, {}),
    }
    for name, table in parts.items():
        datasets.DatasetDict({"test": table}).save_to_disk(str(tmp_path / "esg" / name))
    ds = vidore(tmp_path / "esg")
    assert ds.name == "esg"
    assert [(i.id, i.modality, dict(i.attributes)) for i in ds.corpus] == [
        ("0", "image", {"doc-id": "esg-a", "page_number_in_doc": 3}),
        ("1", "image", {"doc-id": "esg-a", "page_number_in_doc": 4}),
    ]
    assert ds.qrels == {"7": {"0": 2, "1": 1}}
    assert ds.queries[0].attributes == {"language": "english"}
    assert load_dataset(tmp_path / "esg").qrels == ds.qrels  # same folder through a spec


def test_mteb_beir_layout_with_named_splits(media_table: Any) -> None:
    import datasets

    source = {
        "corpus": datasets.DatasetDict(
            {
                "corpus": media_table(
                    {
                        "_id": ["d1", "d2"],
                        "title": ["Vaccines", ""],
                        "text": ["work.", "Untitled."],
                    },
                    {},
                )
            }
        ),
        "queries": datasets.DatasetDict(
            {
                "queries": media_table(
                    {"_id": ["q1", "q2"], "text": ["do vaccines work", "train only"]}, {}
                )
            }
        ),
        "default": datasets.DatasetDict(
            {
                "test": media_table({"query-id": ["q1"], "corpus-id": ["d1"], "score": [1]}, {}),
                "train": media_table({"query-id": ["q2"], "corpus-id": ["d2"], "score": [1]}, {}),
            }
        ),
    }
    ds = mteb_retrieval(source, name="scifact")
    assert [i.content for i in ds.corpus] == ["Vaccines work.", "Untitled."]
    assert [q.id for q in ds.queries] == ["q1"]
    assert ds.qrels == {"q1": {"d1": 1}}
    train = mteb_retrieval(source, split="train")
    assert train.qrels == {"q2": {"d2": 1}}


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    root = tmp_path / "videos"
    root.mkdir()
    (root / "v_a.mp4").write_bytes(MP4)
    (root / "v_b.mkv").write_bytes(MP4)
    return root


def test_activitynet_official_json(videos: Path, tmp_path: Path) -> None:
    annotations = {
        "v_a": {
            "duration": 10.0,
            "timestamps": [[0, 4.5], [4.5, 10]],
            "sentences": ["A man runs.", " He jumps. "],
        },
        "v_b": {"duration": 5.0, "timestamps": [[0, 5]], "sentences": ["A cat sleeps."]},
        "v_gone": {"duration": 5.0, "timestamps": [[0, 5]], "sentences": ["Lost."]},
    }
    path = tmp_path / "val_1.json"
    path.write_text(json.dumps(annotations), encoding="utf-8")
    with pytest.raises(DatasetError, match=r"v_gone: no video file named v_gone\.\*"):
        activitynet_captions(path, video_root=videos)
    ds = activitynet_captions(path, video_root=videos, missing="skip")
    assert [(i.id, Path(i.content).name) for i in ds.corpus] == [
        ("v_a", "v_a.mp4"),
        ("v_b", "v_b.mkv"),
    ]
    assert [q.content for q in ds.queries] == ["A man runs. He jumps.", "A cat sleeps."]
    assert ds.card["skipped_missing_videos"] == 1
    per = activitynet_captions(path, video_root=videos, missing="skip", paragraph=False)
    assert per.queries_by_id()["v_a/s1"].content == "He jumps."
    assert per.queries_by_id()["v_a/s1"].attributes == {"start": 4.5, "end": 10.0}


def test_activitynet_table_layout(videos: Path, media_table: Any) -> None:
    table = media_table(
        {
            "video_id": ["v_a"],
            "video_path": ["https://www.youtube.com/watch?v=a"],
            "duration": [10.0],
            "captions_starts": [[0.0, 4.5]],
            "captions_ends": [[4.5, 10.0]],
            "en_captions": [["A man runs.", "He jumps."]],
        },
        {},
    )
    ds = activitynet_captions(table, video_root=videos, paragraph=False)
    assert ds.qrels == {"v_a/s0": {"v_a": 1}, "v_a/s1": {"v_a": 1}}
    assert ds.queries[0].attributes == {"start": 0.0, "end": 4.5}


def test_activitynet_ids_cannot_escape_the_video_root(videos: Path, tmp_path: Path) -> None:
    (tmp_path / "escape.mp4").write_bytes(MP4)
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"../escape": {"sentences": ["x"]}}), encoding="utf-8")
    with pytest.raises(DatasetError, match="escapes the dataset folder"):
        activitynet_captions(path, video_root=videos)


def test_didemo_mteb_layout(media_table: Any) -> None:
    table = media_table(
        {"video": [_img(MP4), _img(MP4)], "caption": ["a dog runs", "rain"]}, {"video": "video"}
    )
    ds = didemo(table)
    assert [(i.id, i.modality) for i in ds.corpus] == [("0", "video"), ("1", "video")]
    assert ds.qrels == {"0/q0": {"0": 1}, "1/q0": {"1": 1}}


def test_didemo_original_annotations(videos: Path, tmp_path: Path) -> None:
    (videos / "123@N00_456_ab.mp4").write_bytes(MP4)  # converted copy of the .mov
    annotations = [
        {
            "annotation_id": 1,
            "description": "a girl waves",
            "video": "123@N00_456_ab.mov",
            "times": [[0, 0]],
        },
        {
            "annotation_id": 2,
            "description": "she smiles",
            "video": "123@N00_456_ab.mov",
            "times": [[1, 1]],
        },
    ]
    path = tmp_path / "didemo_test.json"
    path.write_text(json.dumps(annotations), encoding="utf-8")
    ds = didemo(path, video_root=videos)
    assert [i.id for i in ds.corpus] == ["123@N00_456_ab"]
    assert [q.content for q in ds.queries] == ["a girl waves she smiles"]
    with pytest.raises(DatasetError, match="needs video_root"):
        didemo(path)


def test_wrong_layout_is_named(media_table: Any) -> None:
    with pytest.raises(DatasetError, match="expected 'audio' and 'caption'"):
        audiocaps(media_table({"caption": ["x"]}, {}))
    with pytest.raises(DatasetError, match="expected 'image' and one of"):
        textcaps(media_table({"image_id": ["x"]}, {}))
