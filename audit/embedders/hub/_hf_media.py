"""Decoding media items for the ``hf:`` backend: audio waveforms, video frames, PDF pages.

Audio is decoded and resampled (to mono float32 at the model's rate) with PyAV, which
reads WAV/MP3/OGG/FLAC/M4A and the audio track of videos; without PyAV, soundfile
decodes and scipy resamples. Video frames come from PyAV, sampled evenly over the whole
clip. PDF pages are rendered with pypdfium2. Every failure is an
:class:`~audit.items.ItemError` naming the item.
"""

from __future__ import annotations

import logging
from math import gcd
from typing import Any

import numpy as np

from audit.embedders._media import media_source
from audit.items import Item, ItemError

log = logging.getLogger(__name__)


def decode_audio(item: Item, sampling_rate: int, *, max_seconds: float) -> np.ndarray:
    """Mono float32 waveform of ``item`` at ``sampling_rate``.

    Raises
    ------
    ItemError
        If the content does not decode, has no audio, or is longer than ``max_seconds``.
    """
    try:
        import av  # noqa: F401
    except ImportError:
        wave = _decode_soundfile(item, sampling_rate)
    else:
        wave = _decode_av(item, sampling_rate)
    if wave.size == 0:
        raise ItemError(item.id, "audio decodes to no samples")
    if wave.size > max_seconds * sampling_rate:
        raise ItemError(
            item.id, f"audio is {wave.size / sampling_rate:.0f} s long (limit {max_seconds:.0f} s)"
        )
    if not np.isfinite(wave).all():
        raise ItemError(item.id, "audio decodes to NaN/inf samples")
    return wave


def _decode_av(item: Item, sampling_rate: int) -> np.ndarray:
    import av

    chunks: list[np.ndarray] = []
    try:
        with av.open(media_source(item)) as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise ItemError(item.id, "no audio stream")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sampling_rate)
            for frame in container.decode(stream):
                chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    except ItemError:
        raise
    except Exception as exc:  # PyAV raises many FFmpeg error types
        raise ItemError(item.id, f"audio does not decode: {exc}") from exc
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def _decode_soundfile(item: Item, sampling_rate: int) -> np.ndarray:
    try:
        import soundfile as sf

        data, rate = sf.read(media_source(item), dtype="float32", always_2d=True)
    except ImportError as exc:
        raise ImportError("hf: audio needs PyAV (pip install av) or soundfile") from exc
    except Exception as exc:
        raise ItemError(item.id, f"audio does not decode: {exc}") from exc
    wave = data.mean(axis=1)
    if rate != sampling_rate:
        from scipy.signal import resample_poly

        g = gcd(int(rate), int(sampling_rate))
        wave = resample_poly(wave, sampling_rate // g, int(rate) // g).astype(np.float32)
    return wave


def sample_video_frames(item: Item, n_frames: int) -> list[Any]:
    """``n_frames`` RGB PIL frames spread evenly over the whole video.

    One decoding pass with bounded memory: every ``stride``-th frame is kept, and the
    stride doubles whenever more than ``4 * n_frames`` are held; the frames returned are
    then picked evenly from those kept (so from the whole clip, start to end).

    Raises
    ------
    ItemError
        If the content does not decode or has no video frames.
    """
    try:
        import av
    except ImportError as exc:
        raise ImportError("hf: video needs PyAV (pip install av)") from exc
    kept: list[Any] = []
    stride = 1
    try:
        with av.open(media_source(item)) as container:
            if not container.streams.video:
                raise ItemError(item.id, "no video stream")
            stream = container.streams.video[0]
            for i, frame in enumerate(container.decode(stream)):
                if i % stride:
                    continue
                kept.append(frame.to_image())
                if len(kept) > 4 * n_frames:
                    kept, stride = kept[::2], stride * 2
    except ItemError:
        raise
    except Exception as exc:
        raise ItemError(item.id, f"video does not decode: {exc}") from exc
    if not kept:
        raise ItemError(item.id, "video has no frames")
    picks = [int((k + 0.5) * len(kept) / n_frames) for k in range(n_frames)]
    return [kept[min(p, len(kept) - 1)].convert("RGB") for p in picks]


def render_pdf_pages(item: Item, n_pages: int, *, long_side: int = 1024) -> list[Any]:
    """The first ``n_pages`` pages as RGB PIL images, padded white to a square.

    Padding (rather than the processors' centre crop) keeps the whole page in view.

    Raises
    ------
    ItemError
        If the PDF does not open (corrupt, encrypted) or has no pages.
    """
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:
        raise ImportError("hf: documents need pypdfium2 (pip install pypdfium2)") from exc
    from PIL import ImageOps

    try:
        pdf = pdfium.PdfDocument(item.read_bytes())
    except Exception as exc:
        raise ItemError(item.id, f"PDF does not open: {exc}") from exc
    try:
        if len(pdf) == 0:
            raise ItemError(item.id, "PDF has no pages")
        pages = []
        for i in range(min(n_pages, len(pdf))):
            page = pdf[i]
            width, height = page.get_size()
            scale = long_side / max(width, height, 1.0)
            img = page.render(scale=scale).to_pil().convert("RGB")
            side = max(img.size)
            pages.append(ImageOps.pad(img, (side, side), color=(255, 255, 255)))
        return pages
    except ItemError:
        raise
    except Exception as exc:
        raise ItemError(item.id, f"PDF page does not render: {exc}") from exc
    finally:
        pdf.close()
