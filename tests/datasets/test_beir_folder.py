"""BEIR folders: loading, every-problem-at-once errors, unsafe paths, round trip."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from ds_fixtures import beir_folder_fixture, png, write_jsonl  # noqa: F401 (fixture)

from audit.datasets import DatasetError, load_beir, resolve_inside, write_beir
from audit.datasets._paths import UnsafePathError
from audit.items import BadItemsError


def test_loads_corpus_queries_graded_qrels(beir_folder: Path) -> None:
    ds = load_beir(beir_folder)
    corpus = ds.corpus_by_id()
    assert list(corpus) == ["d1", "2", "i1", "i2"]
    # title + text as BEIR/MTEB evaluators join them; title kept as metadata
    assert corpus["d1"].content == "Cats Cats purr."
    assert corpus["d1"].attributes == {"title": "Cats"}
    assert corpus["2"].attributes == {"url": "x"}  # BEIR "metadata" merged
    assert corpus["i1"].modality == "image"
    assert corpus["i1"].content == (beir_folder / "media" / "red.png").resolve()
    assert corpus["i2"].content == (beir_folder / "media" / "blue.png").resolve()
    assert [q.id for q in ds.queries] == ["q1", "q2"]  # q3 is judged only in dev
    assert ds.qrels == {"q1": {"d1": 2, "2": 0}, "q2": {"i1": 1}}
    assert ds.card == {"license": "CC0-1.0", "name": "beir"}
    assert ds.modality_pair == "text->image+text"
    assert ds.validate() is ds


def test_other_split_without_header(beir_folder: Path) -> None:
    ds = load_beir(beir_folder, split="dev")
    assert [q.content for q in ds.queries] == ["canine"]
    assert ds.qrels == {"q3": {"2": 1}}


def test_missing_split_names_the_present_ones(beir_folder: Path) -> None:
    with pytest.raises(DatasetError, match=r"split 'train' \(splits present: dev, test\)"):
        load_beir(beir_folder, split="train")


def test_unsafe_paths_are_refused(beir_folder: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png())
    (beir_folder / "media" / "link.png").symlink_to(secret)
    (beir_folder / "media" / "inside.png").symlink_to(beir_folder / "media" / "red.png")
    write_jsonl(
        beir_folder / "corpus.jsonl",
        [
            {"_id": "up", "modality": "image", "path": "../secret.png"},
            {"_id": "deep", "modality": "image", "path": "media/../../secret.png"},
            {"_id": "abs", "modality": "image", "path": str(secret)},
            {"_id": "url", "modality": "image", "path": "https://example.org/a.png"},
            {"_id": "link", "modality": "image", "path": "media/link.png"},
            {"_id": "ok", "modality": "image", "path": "media/inside.png"},  # link inside root
            {"_id": "d1", "text": "x"},
            {"_id": "2", "text": "y"},
            {"_id": "i1", "text": "z"},
        ],
    )
    with pytest.raises(DatasetError) as info:
        load_beir(beir_folder)
    by_id = {e.item_id.split("(id ")[1].strip("')"): e.reason for e in info.value.errors}
    assert set(by_id) == {"up", "deep", "abs", "url", "link"}
    assert "escapes the dataset folder" in by_id["up"]
    assert "escapes the dataset folder" in by_id["deep"]
    assert "absolute paths are not allowed" in by_id["abs"]
    assert "URLs are not allowed" in by_id["url"]
    assert "through a symbolic link" in by_id["link"]
    assert isinstance(info.value, BadItemsError)  # callers catching item errors see it


@pytest.mark.parametrize(
    "reference", ["C:\\x.png", "\\\\server\\share\\x.png", "/x.png", "", "a\x00b"]
)
def test_resolve_inside_refuses_other_forms(tmp_path: Path, reference: str) -> None:
    with pytest.raises(UnsafePathError):
        resolve_inside(tmp_path, reference)


def test_all_missing_files_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError) as info:
        load_beir(tmp_path / "empty")
    message = str(info.value)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        assert name in message
    assert len(info.value.errors) == 3


def test_missing_media_all_listed(beir_folder: Path) -> None:
    os.remove(beir_folder / "media" / "red.png")
    os.remove(beir_folder / "media" / "blue.png")
    with pytest.raises(DatasetError) as info:
        load_beir(beir_folder)
    message = str(info.value)
    assert "file not found: media/red.png" in message
    assert "file not found: ./media/../media/blue.png" in message
    # the qrels line naming the now-unloadable i1 is reported too
    assert "qrels/test.tsv:4: unknown corpus id 'i1'" in message


def test_invalid_utf8_reported_with_file_and_line(beir_folder: Path) -> None:
    good = (beir_folder / "corpus.jsonl").read_bytes().splitlines(keepends=True)
    bad = b'{"_id": "x", "text": "caf\xe9"}\n'
    (beir_folder / "corpus.jsonl").write_bytes(good[0] + bad + good[1] + bad + good[2] + good[3])
    (beir_folder / "queries.jsonl").write_bytes(b'{"_id": "q1", "text": "\xff"}\n')
    with pytest.raises(DatasetError) as info:
        load_beir(beir_folder)
    locations = {e.item_id for e in info.value.errors if "UTF-8" in e.reason}
    assert locations == {"corpus.jsonl:2", "corpus.jsonl:4", "queries.jsonl:1"}


def test_every_kind_of_record_problem_in_one_error(beir_folder: Path) -> None:
    (beir_folder / "corpus.jsonl").write_text(
        '{"_id": "d1", "text": "a"}\n'
        "not json\n"
        '{"_id": "d1", "text": "again"}\n'
        '{"_id": "v", "modality": "hologram", "path": "x"}\n'
        '{"text": "no id"}\n'
        '{"_id": "e", "text": "  "}\n'
        "[1, 2]\n",
        encoding="utf-8",
    )
    (beir_folder / "qrels" / "test.tsv").write_text(
        "q1\td1\t1\nq1\tnope\t1\nq9\td1\t1\nq2\td1\t0.5\nq2\td1\n", encoding="utf-8"
    )
    with pytest.raises(DatasetError) as info:
        load_beir(beir_folder)
    got = {e.item_id.split(" ")[0]: e.reason for e in info.value.errors}
    expected = {
        "corpus.jsonl:2": "invalid JSON",
        "corpus.jsonl:3": "duplicate id 'd1' (first on line 1)",
        "corpus.jsonl:4": "unknown modality 'hologram'",
        "corpus.jsonl:5": "record has no '_id'",
        "corpus.jsonl:6": "empty text",
        "corpus.jsonl:7": "each line must be a JSON object",
        "qrels/test.tsv:2": "unknown corpus id 'nope'",
        "qrels/test.tsv:3": "unknown query id 'q9'",
        "qrels/test.tsv:4": "grade must be a non-negative integer, got '0.5'",
        "qrels/test.tsv:5": "expected 3 fields",
    }
    assert set(got) == set(expected)
    for where, reason in expected.items():
        assert got[where].startswith(reason), (where, got[where])


def test_message_lists_fifty_and_counts_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "many"
    write_jsonl(
        root / "corpus.jsonl",
        [{"_id": f"i{k}", "modality": "image", "path": f"m/{k}.png"} for k in range(60)],
    )
    write_jsonl(root / "queries.jsonl", [])
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text("", encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_beir(root)
    assert len(info.value.errors) == 60
    assert "... and 10 more" in str(info.value)
    assert str(info.value).count("file not found") == 50


def test_write_then_load_round_trip(beir_folder: Path, tmp_path: Path) -> None:
    original = load_beir(beir_folder)
    copy = tmp_path / "copy"
    shutil.copytree(beir_folder / "media", copy / "media")
    relocated = [
        item
        if item.modality == "text"
        else type(item)(
            item.id, item.modality, copy / "media" / Path(item.content).name, item.attributes
        )
        for item in original.corpus
    ]
    original.corpus = relocated
    write_beir(original, copy)
    again = load_beir(copy)
    assert [(i.id, i.modality, i.content, dict(i.attributes)) for i in again.corpus] == [
        (i.id, i.modality, i.content, dict(i.attributes)) for i in relocated
    ]
    assert again.qrels == original.qrels
    assert [q.content for q in again.queries] == ["feline", "red picture"]
    assert again.card["license"] == "CC0-1.0"


def test_write_refuses_media_outside_the_folder(beir_folder: Path, tmp_path: Path) -> None:
    ds = load_beir(beir_folder)
    with pytest.raises(DatasetError, match="outside the dataset folder"):
        write_beir(ds, tmp_path / "elsewhere")
