"""Turning items into ``multimodalembedding@001`` inputs: images, video windows, PDF pages.

Everything here runs on the client before a request is sent, so a bad item fails with an
:class:`~audit.items.ItemError` naming it, and nothing over a documented limit leaves
the machine.

- Images: BMP, GIF, JPEG and PNG are sent as they are; any other format Pillow reads is
  re-encoded losslessly to PNG. At most ``max_inline_bytes`` (default 20,000,000, the
  documented 20 MB) are sent.
- Video: the service analyses at most 120 s per request, so a video is cut into 120 s
  windows (``videoSegmentConfig.startOffsetSec/endOffsetSec``), at most
  ``video_max_seconds`` of it (the rest is reported, not sent). The duration is read
  locally with PyAV; a video whose duration cannot be read is refused. The docs give no
  inline size limit for video; ``max_inline_bytes`` applies to it too.
- Documents (opt-in): the first ``doc_max_pages`` PDF pages rendered to PNG.
"""

from __future__ import annotations

import base64
import io
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from audit.embedders._media import render_pdf_pages
from audit.embedders.google._limits import (
    VERTEX_MM_DEFAULT_INTERVAL,
    VERTEX_MM_IMAGE_BYTES,
    VERTEX_MM_IMAGE_FORMATS,
    VERTEX_MM_MIN_INTERVAL,
    VERTEX_MM_VIDEO_FORMATS,
    VERTEX_MM_WINDOW_SECONDS,
)
from audit.items import Item, ItemError

log = logging.getLogger(__name__)

_PIL_TO_API = {"BMP": "bmp", "GIF": "gif", "JPEG": "jpeg", "PNG": "png"}


@dataclass(frozen=True)
class MediaSettings:
    """Client-side preparation settings of one Vertex embedder."""

    video_interval: int = VERTEX_MM_DEFAULT_INTERVAL
    video_max_seconds: int = VERTEX_MM_WINDOW_SECONDS
    doc_max_pages: int = 8
    doc_dpi: int = 100
    max_inline_bytes: int = VERTEX_MM_IMAGE_BYTES

    def __post_init__(self) -> None:
        if not VERTEX_MM_MIN_INTERVAL <= self.video_interval <= VERTEX_MM_WINDOW_SECONDS:
            raise ValueError(
                f"video_interval must be in [{VERTEX_MM_MIN_INTERVAL}, "
                f"{VERTEX_MM_WINDOW_SECONDS}] seconds, got {self.video_interval}"
            )
        if self.video_max_seconds < 1:
            raise ValueError(f"video_max_seconds must be >= 1, got {self.video_max_seconds}")
        if not 1 <= self.doc_max_pages <= 1000:
            raise ValueError(f"doc_max_pages must be in [1, 1000], got {self.doc_max_pages}")
        if not 36 <= self.doc_dpi <= 600:
            raise ValueError(f"doc_dpi must be in [36, 600], got {self.doc_dpi}")
        if self.max_inline_bytes < 1:
            raise ValueError(f"max_inline_bytes must be >= 1, got {self.max_inline_bytes}")


@dataclass(frozen=True)
class Window:
    """One video request: ``[start, end)`` seconds, of which ``seconds`` hold content."""

    start: int
    end: int
    seconds: float


def inline_b64(item: Item, data: bytes, limit: int, what: str) -> str:
    """Base64 of ``data``; an :class:`ItemError` if it is over the inline limit."""
    if len(data) > limit:
        raise ItemError(
            item.id,
            f"{what} is {len(data):,} bytes, over the {limit:,}-byte limit of an inline "
            "multimodalembedding request",
        )
    return base64.b64encode(data).decode("ascii")


def image_b64(item: Item, data: bytes, settings: MediaSettings, what: str = "image") -> str:
    """Base64 of an image in a format the model accepts (others re-encoded to PNG)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if _PIL_TO_API.get(img.format or "") not in VERTEX_MM_IMAGE_FORMATS:
                # e.g. WEBP/TIFF: a lossless re-encode keeps the pixels the model sees
                img.load()
                mode = "RGBA" if "A" in img.getbands() else "RGB"
                buf = io.BytesIO()
                img.convert(mode).save(buf, format="PNG")
                data = buf.getvalue()
    except Exception as exc:  # Pillow raises many types for corrupt files
        raise ItemError(item.id, f"{what} does not decode: {exc}") from exc
    return inline_b64(item, data, settings.max_inline_bytes, what)


def video_format(item: Item, data: bytes) -> str:
    """The container of ``data`` from its signature; refuse those the model does not take."""
    head = data[:64]
    fmt: str | None = None
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        fmt = "mov" if brand == b"qt  " else "3gp" if brand.startswith(b"3g") else "mp4"
    elif head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska or WebM
        fmt = "webm" if b"webm" in data[:4096] else "mkv"
    elif head[:3] == b"FLV":
        fmt = "flv"
    elif head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        fmt = "mpeg"
    elif head[:16] == bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"):  # ASF
        fmt = "wmv"
    elif head[:4] == b"RIFF" and head[8:11] == b"AVI":
        fmt = "avi"
    elif isinstance(item.content, str | Path):
        suffix = Path(item.content).suffix.lower().lstrip(".")
        fmt = suffix if suffix in VERTEX_MM_VIDEO_FORMATS else None
    if fmt not in VERTEX_MM_VIDEO_FORMATS:
        found = f" (found {fmt})" if fmt else ""
        raise ItemError(
            item.id,
            f"video format not accepted by multimodalembedding{found}; accepted: "
            f"{', '.join(VERTEX_MM_VIDEO_FORMATS)}",
        )
    return fmt


def video_seconds(item: Item, data: bytes) -> float:
    """Duration in seconds, read with PyAV; an :class:`ItemError` when unknown."""
    try:
        import av
    except ImportError as exc:
        raise ItemError(item.id, "reading a video's duration needs PyAV (pip install av)") from exc
    try:
        with av.open(io.BytesIO(data), metadata_errors="ignore") as container:
            if container.duration is not None:
                return container.duration / 1_000_000  # av.time_base: microseconds
            spans = [
                float(s.duration * s.time_base)
                for s in container.streams
                if s.duration is not None and s.time_base is not None
            ]
    except Exception as exc:  # PyAV raises many types for corrupt files
        raise ItemError(item.id, f"video does not open: {exc}") from exc
    if not spans or max(spans) <= 0:
        raise ItemError(
            item.id, "video duration cannot be read locally (needed to plan its requests)"
        )
    return max(spans)


def video_windows(seconds: float, settings: MediaSettings) -> tuple[list[Window], bool]:
    """The 120 s request windows covering the first ``video_max_seconds``; and if cut."""
    span = min(seconds, float(settings.video_max_seconds))
    last = max(1, math.ceil(span))
    windows = []
    for start in range(0, last, VERTEX_MM_WINDOW_SECONDS):
        end = min(start + VERTEX_MM_WINDOW_SECONDS, last)
        windows.append(Window(start, end, round(min(float(end), span) - start, 6)))
    return windows, seconds > settings.video_max_seconds + 1e-6


def pdf_pages(item: Item, settings: MediaSettings) -> tuple[list[bytes], int]:
    """PNG bytes of the first ``doc_max_pages`` pages, and the page count."""
    return render_pdf_pages(item, settings.doc_max_pages, settings.doc_dpi)
