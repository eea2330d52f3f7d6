"""``reproducibility.datasets``: each dataset a run loaded, with its card, counts and a
content hash computed once at load (issue 18, provenance).

The expected hashes are computed here from the rule in docs/report-schema.md with hashlib
and json over the bytes written to disk, not with the code under test.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from fakes import register_embedder
from PIL import Image

from audit._repro import DATASET_HASH_RULE, dataset_record, dataset_sha256
from audit.cli import EXIT_OK, main
from audit.datasets import Dataset, load_dataset
from audit.items import Item, text_item
from audit.preflight import RunDatasets
from audit.report import load_report

CARD = {"name": "tiny", "license": "CC0-1.0", "source": "written by the test"}


def _png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(buffer, format="PNG")
    return buffer.getvalue()


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A BEIR folder: two texts (one with a group label), one image, two judged queries."""
    root = tmp_path / "tiny"
    (root / "media").mkdir(parents=True)
    (root / "media" / "red.png").write_bytes(_png((255, 0, 0)))
    _jsonl(
        root / "corpus.jsonl",
        [
            {"_id": "d2", "text": "Dogs bark.", "attributes": {"gender": "man"}},
            {"_id": "d1", "text": "Cats purr."},
            {"_id": "i1", "modality": "image", "path": "media/red.png"},
        ],
    )
    _jsonl(root / "queries.jsonl", [{"_id": "q1", "text": "feline"}, {"_id": "q2", "text": "red"}])
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq2\ti1\t1\nq1\td1\t2\nq1\td2\t0\n", encoding="utf-8"
    )
    (root / "card.json").write_text(json.dumps(CARD), encoding="utf-8")
    return root


def _line(fields: list) -> bytes:
    return (
        json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    ).encode("utf-8")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected_hash(
    corpus: dict[str, tuple[str, bytes, dict]],
    queries: dict[str, bytes],
    qrels: list[tuple[str, str, int]],
) -> str:
    """The documented rule, by hand: corpus lines, query lines, qrels lines, each sorted."""
    h = hashlib.sha256()
    for cid in sorted(corpus):
        modality, content, attrs = corpus[cid]
        h.update(_line(["corpus", cid, modality, _sha(content), attrs]))
    for qid in sorted(queries):
        h.update(_line(["queries", qid, "text", _sha(queries[qid]), {}]))
    for qid, cid, grade in sorted(qrels):
        h.update(_line(["qrels", qid, cid, grade]))
    return h.hexdigest()


def _tiny_expected(root: Path, *, d1: str = "Cats purr.") -> str:
    # A text item is "title text" joined as BEIR does; these have no title.
    return expected_hash(
        {
            "d1": ("text", d1.encode(), {}),
            "d2": ("text", b"Dogs bark.", {"gender": "man"}),
            "i1": ("image", (root / "media" / "red.png").read_bytes(), {}),
        },
        {"q1": b"feline", "q2": b"red"},
        [("q1", "d1", 2), ("q1", "d2", 0), ("q2", "i1", 1)],
    )


def test_hash_follows_the_documented_rule(tiny: Path) -> None:
    ds = load_dataset(str(tiny))
    assert dataset_sha256(ds) == _tiny_expected(tiny)


def test_hash_changes_with_one_text_and_not_with_where_files_lie(tiny: Path, tmp_path) -> None:
    before = dataset_sha256(load_dataset(str(tiny)))
    moved = tmp_path / "elsewhere" / "tiny"
    shutil.copytree(tiny, moved)
    assert dataset_sha256(load_dataset(str(moved))) == before  # paths are not content
    rows = [json.loads(x) for x in (moved / "corpus.jsonl").read_text().splitlines()]
    rows[1]["text"] = "Cats purr!"
    _jsonl(moved / "corpus.jsonl", rows)
    after = dataset_sha256(load_dataset(str(moved)))
    assert after != before
    assert after == _tiny_expected(moved, d1="Cats purr!")


def test_hash_changes_with_image_bytes_group_labels_and_grades() -> None:
    def ds(color=(0, 0, 255), group="woman", grade=1) -> Dataset:
        corpus = [
            Item(id="img", modality="image", content=_png(color)),
            text_item("t", "a nurse", gender=group),
        ]
        return Dataset(
            name="mem",
            root=None,
            corpus=corpus,
            queries=[text_item("q", "nurse")],
            qrels={"q": {"t": grade}},
        )

    base = dataset_sha256(ds())
    assert base == expected_hash(
        {"img": ("image", _png((0, 0, 255)), {}), "t": ("text", b"a nurse", {"gender": "woman"})},
        {"q": b"nurse"},
        [("q", "t", 1)],
    )
    assert len({base, dataset_sha256(ds(color=(0, 0, 254)))}) == 2
    assert len({base, dataset_sha256(ds(group="man"))}) == 2
    assert len({base, dataset_sha256(ds(grade=2))}) == 2


def test_record_holds_spec_card_counts_and_hash(tiny: Path) -> None:
    ds = load_dataset(str(tiny))
    rec = dataset_record(str(tiny), ds)
    assert rec["spec"] == str(tiny) and rec["name"] == "tiny" and rec["split"] == "test"
    assert rec["card"] == CARD
    assert rec["counts"]["corpus"] == 3 and rec["counts"]["queries"] == 2
    assert rec["counts"]["judgements"] == 3
    assert rec["sha256"] == _tiny_expected(tiny)
    assert rec["hash_rule"] == DATASET_HASH_RULE and rec["items_skipped"] == 0
    json.dumps(rec)  # JSON-ready as report.json needs


def test_run_datasets_hash_what_the_run_uses_after_skipping(tiny: Path) -> None:
    (tiny / "media" / "red.png").write_bytes(b"")  # an empty image: a bad item
    datasets = RunDatasets(skip_bad_items=True)
    datasets.preflight([str(tiny)])
    datasets.get(str(tiny))  # loaded once: no second record
    (rec,) = datasets.records()
    # i1 is left out, its qrels row dropped, and q2 (judged only against it) skipped.
    assert rec["items_skipped"] == 2
    assert rec["counts"]["corpus"] == 2 and rec["counts"]["queries"] == 1
    assert rec["sha256"] == expected_hash(
        {"d1": ("text", b"Cats purr.", {}), "d2": ("text", b"Dogs bark.", {"gender": "man"})},
        {"q1": b"feline"},
        [("q1", "d1", 2), ("q1", "d2", 0)],
    )


def test_a_run_writes_every_dataset_it_loaded(tiny: Path, tmp_path: Path, monkeypatch) -> None:
    from fakes import HashEmbedder

    name = register_embedder(monkeypatch, "provhash", HashEmbedder)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f"[suite.retrieval]\ndatasets = [{json.dumps(str(tiny))}]\n")
    out = tmp_path / "runs"
    args = ["run", "--suite", "retrieval", "--embedder", name, "--no-progress", "--no-cache"]
    assert main([*args, "--config", str(cfg), "--out", str(out)]) == EXIT_OK
    (path,) = out.glob("*/report.json")
    stored = json.loads(path.read_text())["reproducibility"]["datasets"]
    assert [d["spec"] for d in stored] == [str(tiny)]
    assert stored[0]["sha256"] == _tiny_expected(tiny)
    assert stored[0]["card"] == CARD
    assert load_report(path).reproducibility["datasets"] == stored  # the model reads it


def test_built_in_sets_a_suite_samples_are_recorded_too(tmp_path: Path, monkeypatch) -> None:
    # The safety suite's benign built-in sets (and the bias suite's projection fit data) are
    # loaded through the run's datasets, so provenance lists them, not just user datasets.
    from fakes import HashEmbedder

    name = register_embedder(monkeypatch, "provsafety", HashEmbedder)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('[suite.safety]\nparts = ["benign"]\nbuiltins = ["passages"]\nmax_items = 8\n')
    out = tmp_path / "runs"
    args = ["run", "--suite", "safety", "--embedder", name, "--no-progress", "--no-cache"]
    assert main([*args, "--quick", "--config", str(cfg), "--out", str(out)]) == EXIT_OK
    (path,) = out.glob("*/report.json")
    stored = json.loads(path.read_text())["reproducibility"]["datasets"]
    assert [d["spec"] for d in stored] == ["builtin:passages"]
    fresh = load_dataset("builtin:passages")
    assert stored[0]["sha256"] == dataset_sha256(fresh)
    assert stored[0]["counts"] == json.loads(json.dumps(fresh.describe()))
