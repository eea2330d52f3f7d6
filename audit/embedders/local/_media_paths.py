"""Document, video and audio for the local embedder, all in its 384-d MiniLM space.

- document: text layer + page image per page, pooled over pages (see ``_document``);
- video: sampled frames through the image (ConSE) path, mean-pooled, fused with the
  transcript of the audio track when it holds speech (see ``_video``, ``_audio``);
- audio: offline transcript (faster-whisper tiny.en) embedded as text.

Every rule and weight is a field of :class:`MediaOptions`; they all enter the embedder's
``params`` and so its cache fingerprint.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from audit.embedders._media import (
    ImageEncoder,
    LRUDict,
    TextEncoder,
    check_weight,
    fuse,
    mean_unit,
)
from audit.embedders.local._audio import BLAS_THREADS, SpeechTranscriber, Transcript
from audit.embedders.local._document import embed_pages, read_pages
from audit.embedders.local._video import sample_frames
from audit.items import BadItemsError, Item, ItemError

log = logging.getLogger(__name__)

MEDIA_MODALITIES = frozenset({"document", "video", "audio"})
_RECORDS = 10_000  # per-item transcripts and notes kept for later suites


@dataclass(frozen=True)
class MediaOptions:
    """Fusion rules and sampling parameters of the local document/video/audio paths.

    Parameters
    ----------
    doc_text_weight : float
        Weight ``w`` of a page's text vector against its image vector:
        ``page = unit((1 - w) * image + w * text)``. Default 0.8 favours text, since the
        ConSE image path only knows ImageNet objects. Pages without text use the image.
    max_pages : int
        Pages read per PDF (the first ones); the document vector is the mean of them.
    doc_render_px : int
        Longer side, in pixels, of a rendered page.
    doc_chunk_words : int
        Words per text chunk (MiniLM truncates at 256 word pieces); chunk vectors are
        averaged per page.
    video_fps : float
        Frames sampled per second of video.
    max_frames : int
        Most frames sampled; above it the sampling step widens to span the whole video.
    video_speech_weight : float
        Weight ``a`` of the audio track's transcript vector against the mean frame vector:
        ``video = unit((1 - a) * frames + a * speech)``; frames alone without speech.
    asr_beam_size : int
        Beam width of the Whisper decoder.
    asr_vad : bool
        Remove non-speech with Silero VAD before transcribing (stops tiny.en inventing
        words for silence, tones and noise).
    max_audio_seconds : float or None
        Only the first this many seconds are transcribed (a note records the cut).
    asr_cpu_threads : int
        CTranslate2 threads of the Whisper decoder, pinned whatever the host (another
        count can change a transcript: float sums are ordered by thread).
    no_speech_text : str or None
        Audio items with no speech are embedded as this text (default ``"[no speech]"``,
        so all of them share one vector) and a note says so; ``None`` makes them an
        :class:`~audit.items.ItemError` instead.
    """

    doc_text_weight: float = 0.8
    max_pages: int = 16
    doc_render_px: int = 512
    doc_chunk_words: int = 150
    video_fps: float = 1.0
    max_frames: int = 16
    video_speech_weight: float = 0.5
    asr_beam_size: int = 5
    asr_vad: bool = True
    max_audio_seconds: float | None = 600.0
    asr_cpu_threads: int = 1
    no_speech_text: str | None = "[no speech]"

    def __post_init__(self) -> None:
        check_weight("doc_text_weight", self.doc_text_weight)
        check_weight("video_speech_weight", self.video_speech_weight)
        for name in (
            "max_pages",
            "doc_render_px",
            "doc_chunk_words",
            "max_frames",
            "asr_beam_size",
            "asr_cpu_threads",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not self.video_fps > 0:
            raise ValueError(f"video_fps must be positive, got {self.video_fps!r}")
        if self.max_audio_seconds is not None and not self.max_audio_seconds > 0:
            raise ValueError(
                f"max_audio_seconds must be positive or None, got {self.max_audio_seconds!r}"
            )
        if self.no_speech_text is not None and not self.no_speech_text.strip():
            raise ValueError("no_speech_text must be a non-empty text or None")

    def params(self) -> dict[str, Any]:
        """The options plus the fixed rules, as recorded in the embedder's ``params``."""
        return {
            **asdict(self),
            "doc_pool": "mean-of-pages",
            "video_pool": "mean-of-frames",
            "asr": "faster-whisper tiny.en ct2 int8, language en, temperature 0",
            # Pinned thread counts (see _audio): numpy BLAS for the mel features, and the
            # VAD's onnxruntime (faster-whisper sets 1 intra/inter-op thread itself).
            "asr_blas_threads": BLAS_THREADS,
            "asr_vad_threads": 1,
        }


class MediaPaths:
    """Embeds document, video and audio items with the local text and image encoders.

    Parameters
    ----------
    options : MediaOptions
        Rules and parameters.
    encode_texts : callable
        ``list[str] -> (n, 384)`` unit vectors (MiniLM).
    encode_images : callable
        ``list[PIL.Image] -> (n, 384)`` unit vectors (the ConSE image path).
    max_pixels : int
        Largest video frame accepted (the image pixel limit).
    """

    def __init__(
        self,
        options: MediaOptions,
        *,
        encode_texts: TextEncoder,
        encode_images: ImageEncoder,
        max_pixels: int,
    ) -> None:
        self.options = options
        self.encode_texts = encode_texts
        self.encode_images = encode_images
        self.max_pixels = max_pixels
        self.speech = SpeechTranscriber(
            beam_size=options.asr_beam_size,
            vad=options.asr_vad,
            max_seconds=options.max_audio_seconds,
            cpu_threads=options.asr_cpu_threads,
        )
        self.transcripts: LRUDict[str, Transcript] = LRUDict(_RECORDS)
        self.notes: LRUDict[str, list[str]] = LRUDict(_RECORDS)

    def embed(self, modality: str, items: list[Item]) -> np.ndarray:
        """Embed items of one media modality; raise one error listing every bad item."""
        one = {"document": self.embed_document, "video": self.embed_video}.get(
            modality, self.embed_audio
        )
        rows: list[np.ndarray] = []
        errors: list[ItemError] = []
        for item in items:
            try:
                rows.append(one(item))
            except ItemError as exc:  # keep going: the error lists every bad item
                errors.append(exc)
        if errors:
            raise BadItemsError(errors)
        return np.stack(rows).astype(np.float32, copy=False)

    def _note(self, item: Item, note: str) -> None:
        known = self.notes.get(item.id, [])
        if note not in known:  # transcribe() after embed() must not repeat a note
            self.notes[item.id] = [*known, note]

    def transcribe(self, item: Item) -> Transcript:
        """Transcript of an audio item or a video's audio track; recorded by item id."""
        result = self.speech.transcribe(item)
        self.transcripts[item.id] = result
        if result.note:
            self._note(item, result.note)
        return result

    def embed_document(self, item: Item) -> np.ndarray:
        """Unit vector of a PDF item."""
        o = self.options
        self.notes.pop(item.id, None)
        pages, total = read_pages(
            item, max_pages=o.max_pages, render_px=o.doc_render_px, text_weight=o.doc_text_weight
        )
        if total > len(pages):
            self._note(item, f"only the first {len(pages)} of {total} pages were embedded")
        if not any(p.text for p in pages):
            self._note(item, "no text layer: embedded from page images only")
        return embed_pages(
            pages,
            text_weight=o.doc_text_weight,
            chunk_words=o.doc_chunk_words,
            encode_texts=self.encode_texts,
            encode_images=self.encode_images,
        )

    def embed_video(self, item: Item) -> np.ndarray:
        """Unit vector of a video item: mean frame vector fused with its speech."""
        o = self.options
        self.notes.pop(item.id, None)
        frames = sample_frames(
            item, fps=o.video_fps, max_frames=o.max_frames, max_pixels=self.max_pixels
        )
        visual = mean_unit(self.encode_images(frames))
        if o.video_speech_weight == 0.0:
            return visual  # skip transcription: its weight is zero
        heard = self.transcribe(item)
        if not heard.speech:
            self._note(item, "no speech in the audio track: embedded from frames only")
            return visual
        speech = np.asarray(self.encode_texts([heard.text]), dtype=np.float32)[0]
        return fuse(visual, speech, o.video_speech_weight)

    def embed_audio(self, item: Item) -> np.ndarray:
        """Unit vector of an audio item: the text embedding of its transcript."""
        self.notes.pop(item.id, None)
        heard = self.transcribe(item)
        text = heard.text
        if not heard.speech:
            marker = self.options.no_speech_text
            if marker is None:
                raise ItemError(
                    item.id, "no speech detected (the local embedder hears speech only)"
                )
            self._note(item, f"no speech detected: embedded as {marker!r}")
            log.info("item %r: no speech detected; embedded as %r", item.id, marker)
            text = marker
        return np.asarray(self.encode_texts([text]), dtype=np.float32)[0]
