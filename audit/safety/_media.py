"""Document, audio and video checkers: run the text and image checkers on what they hold.

- document: each page's text layer through the text checkers and each page rendering
  through the image checkers (pypdfium2, via the local embedder's document reader);
  pages past ``max_pages`` are reported in the ``unchecked`` category (blocks by default);
- audio: the offline transcript through the text checkers;
- video: sampled frames through the image checkers, the audio track's transcript through
  the text checkers.

Transcription: the default is the local embedder's offline speech path
(``audit.embedders.local._audio.SpeechTranscriber``: faster-whisper tiny.en, sha256-pinned);
any ``Callable[[Item], str]`` may be injected instead (it must accept audio and video).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from audit.items import DEFAULT_MAX_IMAGE_PIXELS, Item
from audit.safety._checker import Checker, ImageChecker, TextChecker, prefixed
from audit.safety._decision import UNCHECKED_CATEGORY, Finding

log = logging.getLogger(__name__)

Transcribe = Callable[[Item], str]


def whisper_transcribe() -> Transcribe:
    """The default transcriber: offline faster-whisper tiny.en, loaded on first use."""
    from audit.embedders.local._audio import SpeechTranscriber

    # no max_seconds: every second is read, so nothing past a cut escapes the check
    speech = SpeechTranscriber(max_seconds=None)

    def transcribe(item: Item) -> str:
        return speech.transcribe(item).text

    return transcribe


def _worst_per_category(findings: list[Finding]) -> list[Finding]:
    best: dict[str, Finding] = {}
    for f in findings:
        old = best.get(f.category)
        if old is None or (f.hit, f.score) > (old.hit, old.score):
            best[f.category] = f
    return list(best.values())


def _run(checkers: Sequence[Any], hook: str, payload: Any, where: str) -> list[Finding]:
    out: list[Finding] = []
    for c in checkers:
        out += prefixed(getattr(c, hook)(payload), f"{where} [{c.name}]")
    return out


class DocumentChecker(Checker):
    """PDF pages: text layer through ``text_checkers``, renders through ``image_checkers``.

    Parameters
    ----------
    text_checkers, image_checkers : sequence
        The checkers run on each page's text and image.
    max_pages : int
        Pages read; a longer document gets an ``unchecked`` finding for the rest.
    render_px : int
        Longer side of a page rendering, in pixels.
    """

    name = "document"
    modalities = frozenset({"document"})

    def __init__(
        self,
        text_checkers: Sequence[TextChecker],
        image_checkers: Sequence[ImageChecker],
        *,
        max_pages: int = 8,
        render_px: int = 512,
    ) -> None:
        if max_pages < 1 or render_px < 32:
            raise ValueError("max_pages must be >= 1 and render_px >= 32")
        self.text_checkers = list(text_checkers)
        self.image_checkers = list(image_checkers)
        self.max_pages = max_pages
        self.render_px = render_px

    def describe(self) -> dict[str, Any]:
        return {"max_pages": self.max_pages, "render_px": self.render_px}

    def _findings(self, item: Item) -> list[Finding]:
        from audit.embedders.local._document import read_pages

        # text_weight 0 makes the reader render every page, text layer or not
        pages, total = read_pages(
            item, max_pages=self.max_pages, render_px=self.render_px, text_weight=0.0
        )
        out: list[Finding] = []
        for page in pages:
            if page.text:
                out += _run(self.text_checkers, "text_findings", page.text, f"page {page.number}")
            if page.image is not None:
                out += _run(
                    self.image_checkers, "image_findings", page.image, f"page {page.number}"
                )
        if total > len(pages):
            out.append(
                Finding(
                    UNCHECKED_CATEGORY,
                    1.0,
                    True,
                    f"pages {len(pages) + 1}-{total} not checked (max_pages={self.max_pages})",
                )
            )
        return _worst_per_category(out)


class AudioChecker(Checker):
    """Speech: the transcript through ``text_checkers``.

    Parameters
    ----------
    text_checkers : sequence of TextChecker
        The checkers run on the transcript.
    transcribe : callable, optional
        ``Item -> str``; default :func:`whisper_transcribe`.
    """

    name = "audio"
    modalities = frozenset({"audio"})

    def __init__(
        self, text_checkers: Sequence[TextChecker], *, transcribe: Transcribe | None = None
    ) -> None:
        self.text_checkers = list(text_checkers)
        self._transcribe = transcribe

    @property
    def transcribe(self) -> Transcribe:
        """The transcriber (the default one is created on first use)."""
        if self._transcribe is None:
            self._transcribe = whisper_transcribe()
        return self._transcribe

    def _findings(self, item: Item) -> list[Finding]:
        text = self.transcribe(item)
        if not text.strip():
            return [Finding("speech", 0.0, False, "no speech heard")]
        return _worst_per_category(_run(self.text_checkers, "text_findings", text, "transcript"))


class VideoChecker(AudioChecker):
    """Video: sampled frames through ``image_checkers``, the transcript through
    ``text_checkers``.

    Parameters
    ----------
    image_checkers, text_checkers : sequence
        Checkers for frames and for the audio track's transcript.
    transcribe : callable, optional
        ``Item -> str`` for the audio track; default :func:`whisper_transcribe`.
    fps : float
        Frames sampled per second (the sampling widens to span videos longer than
        ``max_frames / fps``; see ``audit.embedders.local._video``).
    max_frames : int
        Most frames checked per video.
    """

    name = "video"
    modalities = frozenset({"video"})

    def __init__(
        self,
        image_checkers: Sequence[ImageChecker],
        text_checkers: Sequence[TextChecker],
        *,
        transcribe: Transcribe | None = None,
        fps: float = 1.0,
        max_frames: int = 32,
    ) -> None:
        super().__init__(text_checkers, transcribe=transcribe)
        if fps <= 0 or max_frames < 1:
            raise ValueError("fps must be > 0 and max_frames >= 1")
        self.image_checkers = list(image_checkers)
        self.fps = float(fps)
        self.max_frames = int(max_frames)

    def describe(self) -> dict[str, Any]:
        return {"fps": self.fps, "max_frames": self.max_frames}

    def _findings(self, item: Item) -> list[Finding]:
        from audit.embedders.local._video import sample_frames

        out: list[Finding] = []
        if self.image_checkers:
            frames = sample_frames(
                item, fps=self.fps, max_frames=self.max_frames, max_pixels=DEFAULT_MAX_IMAGE_PIXELS
            )
            for k, frame in enumerate(frames):
                out += _run(self.image_checkers, "image_findings", frame, f"frame {k}")
        if self.text_checkers:
            text = self.transcribe(item)
            if text.strip():
                out += _run(self.text_checkers, "text_findings", text, "audio track")
        return _worst_per_category(out)
