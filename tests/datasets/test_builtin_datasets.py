"""Every built-in dataset loads, validates, is consistent, and says where it comes from.

Content checks compare the committed files with their sources read another way (the
``this`` module's own decoder, ``wave``, PyAV, pypdfium2, the emoji package).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import platform
import sysconfig
import wave
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from audit.datasets import builtin_path, list_builtins, load_dataset
from audit.items import validate_items

REPO = Path(__file__).resolve().parents[2]
NAMES = list_builtins()


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _card(name: str) -> dict[str, Any]:
    return json.loads((builtin_path(name) / "card.json").read_text(encoding="utf-8"))


def _same_python(name: str) -> None:
    made_with = _card(name)["provenance"]["tools"]["python"]
    if made_with.rsplit(".", 1)[0] != platform.python_version().rsplit(".", 1)[0]:
        pytest.skip(f"{name} was made from Python {made_with}'s own text")


def test_the_seven_builtins_are_registered() -> None:
    assert NAMES == sorted(
        [
            "documents",
            "emoji-objects",
            "emoji-professions",
            "gendered-sentences",
            "passages",
            "speech",
            "video",
        ]
    )


@pytest.mark.parametrize("name", NAMES)
def test_loads_validates_and_is_consistent(name: str) -> None:
    ds = load_dataset(f"builtin:{name}")
    root = builtin_path(name)
    validate_items(ds.corpus)
    validate_items(ds.queries)
    validate_items([*ds.corpus, *ds.queries])  # ids unique across both sides too
    ds.validate()
    # qrels read straight from the files point to existing ids and match the loader
    corpus_ids = {r["_id"] for r in _jsonl(root / "corpus.jsonl")}
    query_ids = {r["_id"] for r in _jsonl(root / "queries.jsonl")}
    rows = (root / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "query-id\tcorpus-id\tscore"
    judged: dict[str, dict[str, int]] = {}
    for row in rows[1:]:
        qid, cid, grade = row.split("\t")
        assert qid in query_ids and cid in corpus_ids
        judged.setdefault(qid, {})[cid] = int(grade)
    assert judged == ds.qrels
    assert set(judged) == query_ids  # every query has judgements
    assert all(max(j.values()) >= 1 for j in judged.values())
    # media on disk are exactly the referenced files
    referenced = {Path(i.content).name for i in ds.corpus if i.modality != "text"}
    on_disk = {p.name for p in (root / "media").iterdir()} if (root / "media").exists() else set()
    assert referenced == on_disk


@pytest.mark.parametrize("name", NAMES)
def test_card_names_provenance_license_and_size(name: str) -> None:
    ds = load_dataset(f"builtin:{name}")
    card = ds.card
    assert card["name"] == name
    assert card["provenance"]["source"]
    assert (REPO / card["provenance"]["generator"]).is_file()
    assert card["provenance"]["tools"]["python"]
    assert card["license"]["summary"] and card["license"]["spdx"]
    assert card["size"]["corpus"] == len(ds.corpus)
    assert card["size"]["queries"] == len(ds.queries)
    assert card["modality_pair"] == ds.modality_pair
    media = builtin_path(name).glob("media/*")
    assert card["size"]["media_bytes"] == sum(p.stat().st_size for p in media)
    readme = (builtin_path(name) / "README.md").read_text(encoding="utf-8")
    assert card["license"]["summary"] in readme
    notice = card["license"].get("notice_file")
    if notice:
        text = (builtin_path(name) / notice).read_text(encoding="utf-8")
        assert "SIL OPEN FONT LICENSE Version 1.1" in text


def test_builtins_stay_small() -> None:
    total = sum(_card(n)["size"]["media_bytes"] for n in NAMES)
    assert total < 6_000_000


# -- emoji ------------------------------------------------------------------------------

TONE_MODIFIER = {
    "light": 0x1F3FB,
    "medium-light": 0x1F3FC,
    "medium": 0x1F3FD,
    "medium-dark": 0x1F3FE,
    "dark": 0x1F3FF,
}


def test_emoji_professions_full_design_and_attributes_match_code_points() -> None:
    ds = load_dataset("builtin:emoji-professions")
    cells = Counter(
        (i.attributes["profession"], i.attributes["gender"], i.attributes["skin_tone"])
        for i in ds.corpus
    )
    assert len(cells) == 20 * 3 * 6 and set(cells.values()) == {1}
    for item in ds.corpus:
        points = {ord(c) for c in item.attributes["emoji"]}
        tone = item.attributes["skin_tone"]
        modifiers = points & set(TONE_MODIFIER.values())
        assert modifiers == ({TONE_MODIFIER[tone]} if tone != "none" else set()), item.id
        male, female = points & {0x2642, 0x1F468}, points & {0x2640, 0x1F469}
        gender = item.attributes["gender"]
        assert (bool(male), bool(female)) == (gender == "man", gender == "woman"), item.id
    for query in ds.queries:
        same = {
            i.id for i in ds.corpus if i.attributes["profession"] == query.attributes["profession"]
        }
        assert set(ds.qrels[query.id]) == same and len(same) == 18
        assert query.content.split(" ", 1)[1] == query.attributes["profession"]


def test_emoji_professions_pixels_follow_the_skin_tone() -> None:
    ds = load_dataset("builtin:emoji-professions")

    def luminance(item: Any) -> float:
        return float(np.asarray(Image.open(item.content).convert("L"), dtype=float).mean())

    by_cell = {
        (i.attributes["profession"], i.attributes["gender"], i.attributes["skin_tone"]): i
        for i in ds.corpus
    }
    for profession, gender, _ in by_cell:
        light = luminance(by_cell[(profession, gender, "light")])
        dark = luminance(by_cell[(profession, gender, "dark")])
        assert light > dark, (profession, gender)
    sizes = {Image.open(i.content).size for i in ds.corpus}
    assert sizes == {(72, 72)}


def test_emoji_objects_queries_are_the_cldr_names() -> None:
    emoji = pytest.importorskip("emoji")
    ds = load_dataset("builtin:emoji-objects")
    assert 50 <= len(ds.corpus) <= 100
    corpus = ds.corpus_by_id()
    for query in ds.queries:
        (cid,) = ds.qrels[query.id]
        char = corpus[cid].attributes["emoji"]
        assert emoji.EMOJI_DATA[char]["en"].strip(":").replace("_", " ") == query.content


# -- speech -----------------------------------------------------------------------------


def test_speech_is_the_zen_of_python_in_four_voices() -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        import this  # prints the Zen; decode it with the module's own table
    zen = "".join(this.d.get(c, c) for c in this.s).splitlines()[2:]
    ds = load_dataset("builtin:speech")
    assert [q.content for q in ds.queries] == zen
    voices = Counter(i.attributes["voice"] for i in ds.corpus)
    assert voices == {v: 19 for v in ("en-us+m3", "en-us+f3", "en-gb+m3", "en-gb+f3")}
    for item in ds.corpus:
        voice = item.attributes["voice"]
        assert item.attributes["accent"] == voice[3:5]
        assert item.attributes["voice_gender"] == {"m3": "male", "f3": "female"}[voice[-2:]]
        with wave.open(str(item.content)) as clip:
            assert (clip.getnchannels(), clip.getframerate(), clip.getsampwidth()) == (1, 16000, 1)
            assert 0.5 < clip.getnframes() / 16000 < 8
    for query in ds.queries:
        assert {ds.corpus_by_id()[c].attributes["sentence"] for c in ds.qrels[query.id]} == {
            query.attributes["sentence"]
        }


# -- text and documents ----------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_passages_come_from_pydoc_topics() -> None:
    _same_python("passages")
    from pydoc_data.topics import topics

    ds = load_dataset("builtin:passages")
    assert 100 <= len(ds.queries) <= 200
    corpus = ds.corpus_by_id()
    for query in ds.queries:
        (cid,) = ds.qrels[query.id]
        source = _norm(topics[corpus[cid].attributes["pydoc_topic"]])
        assert query.content in topics[corpus[cid].attributes["pydoc_topic"]]
        # passages drop grammar blocks, so compare the opening up to the first colon
        assert _norm(corpus[cid].content).split(": ")[0][:60] in source


def test_documents_are_stdlib_docstrings_on_one_pdf_page() -> None:
    _same_python("documents")
    pdfium = pytest.importorskip("pypdfium2")
    lib = Path(sysconfig.get_paths()["stdlib"])
    ds = load_dataset("builtin:documents")
    corpus = ds.corpus_by_id()
    for query in ds.queries:
        (cid,) = ds.qrels[query.id]
        module = corpus[cid].attributes["module"]
        doc = ast.get_docstring(ast.parse((lib / f"{module}.py").read_text(encoding="utf-8")))
        first, _, rest = doc.partition("\n")
        assert query.content == first.strip()
        pdf = pdfium.PdfDocument(str(corpus[cid].content))
        assert len(pdf) == 1
        text = _norm(pdf[0].get_textpage().get_text_range())
        assert text.startswith(module)
        assert _norm(rest)[:40].encode("latin-1", "replace").decode("latin-1") in text


# -- video ------------------------------------------------------------------------------


def test_video_clips_decode_with_narration_and_skimage_captions() -> None:
    av = pytest.importorskip("av")
    skimage_data = pytest.importorskip("skimage.data")
    import inspect

    ds = load_dataset("builtin:video")
    corpus = ds.corpus_by_id()
    for query in ds.queries:
        (cid,) = ds.qrels[query.id]
        photo = corpus[cid].attributes["source_image"]
        assert query.content == inspect.getdoc(getattr(skimage_data, photo)).splitlines()[0]
        with av.open(str(corpus[cid].content)) as container:
            video, audio = container.streams.video[0], container.streams.audio[0]
            assert (video.codec_context.width, video.codec_context.height) == (160, 120)
            assert audio.codec_context.sample_rate == 16000
            frames = sum(1 for _ in container.decode(video=0))
        assert frames >= 12  # at least a second at 12 fps


# -- gendered sentences -----------------------------------------------------------------

# Bolukbasi et al. 2016, definitional_pairs.json, as (female, male).
DEFINITIONAL_PAIRS = [
    ("she", "he"), ("her", "his"), ("woman", "man"), ("Mary", "John"),
    ("herself", "himself"), ("daughter", "son"), ("mother", "father"), ("gal", "guy"),
    ("girl", "boy"), ("female", "male"),
]  # fmt: skip


def test_gendered_sentences_are_the_pairs_in_the_seat_templates() -> None:
    # The templates read straight from the packaged JSON, filled in here by hand.
    raw = json.loads((REPO / "fairness/probes/data/weat.json").read_text(encoding="utf-8"))
    templates = raw["seat"]["templates"]["default"]
    expected = []
    for female, male in DEFINITIONAL_PAIRS:
        for gender, word in (("female", female), ("male", male)):
            for template in templates:
                text = template.replace("{w}", word)
                expected.append((gender, word, text[0].upper() + text[1:]))
    ds = load_dataset("builtin:gendered-sentences")
    got = [(i.attributes["gender"], i.attributes["word"], i.content) for i in ds.corpus]
    assert got == expected and len(got) == 140
    assert ds.queries == [] and ds.qrels == {}
    assert _card("gendered-sentences")["attributes"] == {"gender": ["female", "male"]}
    # A corpus only: the retrieval suite's default benchmarks leave it out.
    from audit.datasets import benchmark_builtins

    assert benchmark_builtins() == [n for n in NAMES if n != "gendered-sentences"]
