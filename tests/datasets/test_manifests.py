"""CSV/TSV/Parquet manifests: roles, attributes, the three sources of judgements, errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from ds_fixtures import png

from audit.datasets import DatasetError, load_dataset, load_manifest

CSV = """id,role,modality,text,path,attr_gender,attributes,relevant
img1,corpus,image,,media/a.png,woman,"{""tone"": ""dark""}",
img2,corpus,image,,media/b.png,man,,
doc1,corpus,,A passage.,,,,
q1,query,,a woman,,,,img1
q2,query,text,anything,,,,"{""img2"": 2, ""doc1"": 1}"
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.png").write_bytes(png())
    (tmp_path / "media" / "b.png").write_bytes(png((0, 9, 9)))
    return tmp_path


def test_csv_with_relevant_column(folder: Path) -> None:
    (folder / "m.csv").write_text(CSV, encoding="utf-8")
    ds = load_dataset(folder / "m.csv")
    by_id = ds.corpus_by_id()
    assert list(by_id) == ["img1", "img2", "doc1"]
    assert by_id["img1"].attributes == {"gender": "woman", "tone": "dark"}
    assert by_id["img2"].attributes == {"gender": "man"}
    assert by_id["img1"].content == (folder / "media" / "a.png").resolve()
    assert by_id["doc1"].modality == "text"
    assert ds.qrels == {"q1": {"img1": 1}, "q2": {"img2": 2, "doc1": 1}}
    assert ds.name == "m"
    ds.validate()


def test_parquet_with_qrels_file_and_sibling(folder: Path) -> None:
    table = pd.DataFrame(
        {
            "id": ["img1", "img2", "q1"],
            "role": ["corpus", "corpus", "query"],
            "modality": ["image", "image", "text"],
            "path": ["media/a.png", "media/b.png", None],
            "text": [None, None, "two images"],
            "attr_skin_tone": ["dark", None, None],
        }
    )
    table.to_parquet(folder / "m.parquet")
    qrels = pd.DataFrame({"query-id": ["q1", "q1"], "corpus-id": ["img1", "img2"], "score": [1, 3]})
    qrels.to_csv(folder / "judged.csv", index=False)
    ds = load_manifest(folder / "m.parquet", qrels=folder / "judged.csv")
    assert ds.qrels == {"q1": {"img1": 1, "img2": 3}}
    assert ds.corpus_by_id()["img1"].attributes == {"skin_tone": "dark"}
    assert ds.corpus_by_id()["img2"].attributes == {}
    # the same judgements found next to the manifest, through the spec resolver
    qrels.to_csv(folder / "m.qrels.tsv", sep="\t", index=False)
    assert load_dataset(folder / "m.parquet").qrels == ds.qrels


def test_every_bad_row_reported(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(png())
    (folder / "bad.csv").write_text(
        "id,role,modality,text,path,attributes\n"
        "a,corpus,image,,../secret.png,\n"
        "b,index,text,x,,\n"
        "c,corpus,text,x,,{not json\n"
        "d,corpus,image,,media/none.png,\n"
        "q,query,text,find,,\n",
        encoding="utf-8",
    )
    with pytest.raises(DatasetError) as info:
        load_manifest(folder / "bad.csv")
    got = {e.item_id.split(" ")[0]: e.reason for e in info.value.errors}
    assert set(got) == {"bad.csv:2", "bad.csv:3", "bad.csv:4", "bad.csv:5", "bad.csv"}
    assert "escapes the dataset folder" in got["bad.csv:2"]
    assert "role must be 'corpus' or 'query'" in got["bad.csv:3"]
    assert "'attributes' is not valid JSON" in got["bad.csv:4"]
    assert "file not found: media/none.png" in got["bad.csv:5"]
    assert "queries have no judgements" in got["bad.csv"]


def test_invalid_utf8_lines_and_missing_columns(folder: Path) -> None:
    (folder / "enc.csv").write_bytes(b"id,role,text\na,corpus,caf\xe9\nb,corpus,ok\nc,query,\xff\n")
    with pytest.raises(DatasetError) as info:
        load_manifest(folder / "enc.csv")
    assert [e.item_id for e in info.value.errors] == ["enc.csv:2", "enc.csv:4"]
    (folder / "cols.csv").write_text("name,text\na,b\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"missing column\(s\) \['id', 'role'\]"):
        load_manifest(folder / "cols.csv")


def test_corpus_only_manifest_needs_no_qrels(folder: Path) -> None:
    (folder / "c.tsv").write_text("id\trole\ttext\nx\tcorpus\thello\n", encoding="utf-8")
    ds = load_manifest(folder / "c.tsv")
    assert ds.queries == [] and ds.qrels == {}
    assert ds.modality_pair == "none->text"
