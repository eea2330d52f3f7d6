"""Every bad item of a run is named in one error before anything is embedded (issue 16.4).

One BEIR folder holds every kind of bad item at once (a lone surrogate, an oversized text,
a decompression bomb, an empty PNG, a truncated PDF, a truncated WAV, random bytes named
.mp4) beside good items; the expected ids, sides and reasons are written down from how
the folder was built, not read back from the code under test.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from ds_fixtures import png, wav, write_jsonl
from fakes import HashEmbedder
from PIL import Image

from audit.cache import CachedEmbedder
from audit.cli import EXIT_OK, EXIT_USAGE, main
from audit.config import RunConfig
from audit.datasets import builtin_path
from audit.embedders import EMBEDDERS, EmbedderEntry
from audit.items import DEFAULT_MAX_BYTES, BadItemsError, Item, ItemError, check_item, text_item
from audit.preflight import MAX_LISTED, NO_JUDGEMENTS_LEFT, Problem, RunItemsError
from audit.report import load_report
from audit.runner import preflight_datasets

BUILTIN_PDF = builtin_path("documents") / "media" / "aifc.pdf"
BUILTIN_MP4 = builtin_path("video") / "media" / "astronaut.mp4"

# id -> (side, words the reason must contain): one of every kind of bad item.
BAD = {
    "surrogate": ("corpus", "not valid Unicode"),
    "huge-text": ("corpus", f"(limit {DEFAULT_MAX_BYTES['text']})"),
    "bomb": ("corpus", "pixels"),
    "empty-png": ("corpus", "empty content"),
    "cut-pdf": ("corpus", "PDF is truncated"),
    "cut-wav": ("corpus", "truncated"),
    "noise-mp4": ("corpus", "video does not decode"),
    "q-surrogate": ("queries", "not valid Unicode"),
}
GOOD_CORPUS = ["d1", "d2", "red", "blue"]


def _bomb_png() -> bytes:
    """A real 8000 x 8000 PNG (64 Mpx, over the 40 Mpx limit) that compresses to ~10 KB."""
    buffer = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(name="bad_beir")
def bad_beir_fixture(tmp_path: Path) -> Path:
    """A BEIR folder with good text and images and every kind of bad item at once."""
    root = tmp_path / "bad-beir"
    media = root / "media"
    media.mkdir(parents=True)
    (media / "red.png").write_bytes(png((255, 0, 0)))
    (media / "blue.png").write_bytes(png((0, 0, 255)))
    (media / "bomb.png").write_bytes(_bomb_png())
    (media / "empty.png").write_bytes(b"")
    pdf = BUILTIN_PDF.read_bytes()
    (media / "cut.pdf").write_bytes(pdf[: len(pdf) // 2])
    sound = wav(n=16_000)
    (media / "cut.wav").write_bytes(sound[: len(sound) // 2])
    (media / "noise.mp4").write_bytes(os.urandom(4096))
    write_jsonl(
        root / "corpus.jsonl",
        [
            {"_id": "d1", "text": "Cats purr softly."},
            {"_id": "d2", "text": "Dogs bark loudly."},
            {"_id": "red", "modality": "image", "path": "media/red.png"},
            {"_id": "blue", "modality": "image", "path": "media/blue.png"},
            # json.dumps writes "\ud800" as an escape; json.loads gives the lone surrogate
            {"_id": "surrogate", "text": "broken \ud800 text"},
            {"_id": "huge-text", "text": "x" * 2_000_000},
            {"_id": "bomb", "modality": "image", "path": "media/bomb.png"},
            {"_id": "empty-png", "modality": "image", "path": "media/empty.png"},
            {"_id": "cut-pdf", "modality": "document", "path": "media/cut.pdf"},
            {"_id": "cut-wav", "modality": "audio", "path": "media/cut.wav"},
            {"_id": "noise-mp4", "modality": "video", "path": "media/noise.mp4"},
        ],
    )
    write_jsonl(
        root / "queries.jsonl",
        [
            {"_id": "q1", "text": "a purring cat"},
            {"_id": "q2", "text": "a spoken sentence"},
            {"_id": "q3", "text": "a red square"},
            {"_id": "q-surrogate", "text": "\udfff"},
        ],
    )
    (root / "qrels").mkdir()
    rows = [
        ("q1", "d1", 2),
        ("q1", "surrogate", 1),  # dropped with the bad item; q1 keeps d1
        ("q2", "cut-wav", 1),  # q2's only judgement: q2 is left with none
        ("q3", "red", 1),
        ("q3", "bomb", 0),
        ("q-surrogate", "d2", 1),
    ]
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{c}\t{g}\n" for q, c, g in rows),
        encoding="utf-8",
    )
    return root


def _config(root: Path, tmp_path: Path, *, skip: bool = False) -> Path:
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        f"skip_bad_items = {str(skip).lower()}\n"
        "[suite.retrieval]\n"
        f"datasets = [{json.dumps(str(root))}]\n"
        "latency_items = 0\nn_bootstrap = 20\n",
        encoding="utf-8",
    )
    return cfg


@pytest.fixture(name="counted")
def counted_fixture(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Ids every HashEmbedder embeds, registered as the ``h4count`` embedder."""
    if "h4count" not in EMBEDDERS:
        EMBEDDERS.register("h4count", EmbedderEntry("fakes:HashEmbedder", "test fake"))
    calls: list[str] = []
    original = HashEmbedder._embed_batch

    def counting(self, modality, items, purpose):
        calls.extend(it.id for it in items)
        return original(self, modality, items, purpose)

    monkeypatch.setattr(HashEmbedder, "_embed_batch", counting)
    return calls


def test_one_error_names_every_bad_item_of_every_kind(bad_beir, tmp_path):
    config = RunConfig(
        suites=["retrieval"],
        out=tmp_path / "runs",
        suite_options={"retrieval": {"datasets": [str(bad_beir)]}},
    )
    with pytest.raises(RunItemsError) as info:
        preflight_datasets(config)
    err = info.value
    found = {p.error.item_id: (p.side, p.error.reason) for p in err.problems}
    assert set(found) == set(BAD)
    for item_id, (side, words) in BAD.items():
        assert found[item_id][0] == side
        assert words in found[item_id][1], (item_id, found[item_id][1])
    assert {p.dataset for p in err.problems} == {str(bad_beir)}
    text = str(err)
    assert f"{len(BAD)} bad item(s) in 1 dataset(s)" in text
    for item_id in BAD:  # one line per item, naming dataset, side and id
        side = BAD[item_id][0]
        assert sum(f"{side} {item_id!r}:" in line for line in text.splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # no run folder: nothing ran


def test_cli_exits_2_listing_all_and_embeds_nothing(bad_beir, tmp_path, capsys, counted):
    out = tmp_path / "runs"
    args = ["run", "--suite", "retrieval", "--embedder", "h4count", "--no-progress"]
    code = main([*args, "--config", str(_config(bad_beir, tmp_path)), "--out", str(out)])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    for item_id in BAD:
        assert f"{item_id!r}:" in err
    assert "--skip-bad-items" in err
    assert counted == []  # nothing was embedded
    assert not list(out.glob("*/report.json"))


@pytest.mark.parametrize("how", ["flag", "config-file"])
def test_skip_bad_items_runs_without_them_and_records_each(bad_beir, tmp_path, counted, how):
    out = tmp_path / "runs"
    cfg = _config(bad_beir, tmp_path, skip=how == "config-file")
    args = ["run", "--suite", "retrieval", "--embedder", "h4count", "--no-progress"]
    args += ["--config", str(cfg), "--out", str(out), "--no-cache"]
    if how == "flag":
        args.append("--skip-bad-items")
    assert main(args) == EXIT_OK
    (path,) = out.glob("*/report.json")
    report = load_report(path)
    assert report.config["skip_bad_items"] is True
    skipped = {(s.side, s.id): s for s in report.skipped_items}
    expected = {(side, item_id) for item_id, (side, _) in BAD.items()} | {("queries", "q2")}
    assert set(skipped) == expected
    for item_id, (side, words) in BAD.items():
        assert words in skipped[(side, item_id)].reason
        assert skipped[(side, item_id)].dataset == str(bad_beir)
    # qrels rows naming a skipped item are dropped and counted on it (rows written above)
    dropped = {k: s.judgements_dropped for k, s in skipped.items() if s.judgements_dropped}
    assert dropped == {
        ("corpus", "surrogate"): 1,
        ("corpus", "cut-wav"): 1,
        ("corpus", "bomb"): 1,
        ("queries", "q-surrogate"): 1,
    }
    assert skipped[("queries", "q2")].reason == NO_JUDGEMENTS_LEFT
    # only good items reached the embedder: the good corpus and the queries still judged
    assert set(counted) == set(GOOD_CORPUS) | {"q1", "q3"}
    assert report.status == "no-gates" and report.results


def test_message_is_capped_with_a_count():
    problems = [Problem("ds", "corpus", ItemError(f"i{i}", "empty text")) for i in range(107)]
    err = RunItemsError(problems)
    text = str(err)
    assert f"  ... and {107 - MAX_LISTED} more" in text
    assert sum(line.startswith("  - ds corpus") for line in text.splitlines()) == MAX_LISTED
    assert len(err.errors) == 107  # the error keeps every one


def test_cache_names_an_unhashable_item_instead_of_a_unicode_error(tmp_path):
    cached = CachedEmbedder(HashEmbedder(), tmp_path / "c.sqlite")
    items = [text_item("ok", "fine"), text_item("bad1", "\ud800"), text_item("bad2", "a\udc00")]
    with pytest.raises(BadItemsError) as info:
        cached.embed(items)
    assert [e.item_id for e in info.value.errors] == ["bad1", "bad2"]
    assert "U+D800" in info.value.errors[0].reason
    assert cached.store.count() == 0


def test_media_checks_pass_good_files_and_read_headers_only(tmp_path):
    good_wav = tmp_path / "ok.wav"
    good_wav.write_bytes(wav(n=16_000))
    for item in (
        Item("pdf", "document", BUILTIN_PDF),
        Item("mp4", "video", BUILTIN_MP4),
        Item("wav", "audio", good_wav),
        Item("wav-bytes", "audio", wav(n=800)),
    ):
        check_item(item)  # raises on failure
    # RIFF size field says 8 bytes more than the file holds: truncated
    data = wav(n=800)
    with pytest.raises(ItemError, match="8 byte"):
        check_item(Item("short", "audio", data[:-8]))
