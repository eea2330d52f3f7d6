"""Helpers and fixtures shared by the dataset tests.

A uniquely named module rather than a conftest.py: test modules elsewhere import names
from ``conftest``, and pytest registers every rootless conftest.py under that one name.
Test modules import the fixtures under their ``*_fixture`` names (pytest finds them by
their ``name=``), so the test arguments do not shadow an import.
"""

from __future__ import annotations

import io
import json
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image


def png(color: tuple[int, int, int] = (255, 0, 0), size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return buffer.getvalue()


def wav(n: int = 1600, value: int = 128) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(16000)
        out.writeframes(bytes([value]) * n)
    return buffer.getvalue()


def write_jsonl(path: Path, records: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(name="beir_folder")
def beir_folder_fixture(tmp_path: Path) -> Path:
    """A valid BEIR folder: two text docs (one titled), two images, graded qrels.

    Queries q3 is judged only in the dev split, so the test split keeps q1 and q2.
    """
    root = tmp_path / "beir"
    (root / "media").mkdir(parents=True)
    (root / "media" / "red.png").write_bytes(png((255, 0, 0)))
    (root / "media" / "blue.png").write_bytes(png((0, 0, 255)))
    write_jsonl(
        root / "corpus.jsonl",
        [
            {"_id": "d1", "title": "Cats", "text": "Cats purr."},
            {"id": 2, "text": "Dogs bark.", "metadata": {"url": "x"}},
            {
                "_id": "i1",
                "modality": "image",
                "path": "media/red.png",
                "attributes": {"color": "red"},
            },
            {"_id": "i2", "modality": "image", "path": "./media/../media/blue.png"},
        ],
    )
    write_jsonl(
        root / "queries.jsonl",
        [
            {"_id": "q1", "text": "feline"},
            {"_id": "q2", "text": "red picture", "attributes": {"lang": "en"}},
            {"_id": "q3", "text": "canine"},
        ],
    )
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\t2\t0\nq2\ti1\t1\n", encoding="utf-8"
    )
    # no header line here: BEIR's header is optional
    (root / "qrels" / "dev.tsv").write_text("q3\t2\t1\n", encoding="utf-8")
    (root / "card.json").write_text(json.dumps({"license": "CC0-1.0"}), encoding="utf-8")
    return root


@pytest.fixture(name="media_table")
def media_table_fixture() -> Callable[..., Any]:
    """``datasets.Dataset`` from a dict, with media columns cast to Image/Audio/Video/Pdf.

    Media go in as ``{"bytes", "path"}`` structs and are cast afterwards, because
    encoding audio through ``from_dict`` needs torchcodec (absent here).
    """
    import datasets

    kinds = {
        "image": datasets.Image,
        "audio": datasets.Audio,
        "video": datasets.Video,
        "pdf": datasets.Pdf,
    }

    def build(data: dict[str, list[Any]], media: dict[str, str]) -> Any:
        struct = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
        features = {}
        for column, values in data.items():
            if column in media:
                features[column] = struct
            else:
                features[column] = datasets.Dataset.from_dict({column: values}).features[column]
        table = datasets.Dataset.from_dict(data, features=datasets.Features(features))
        for column, kind in media.items():
            table = table.cast_column(column, kinds[kind]())
        return table

    return build
