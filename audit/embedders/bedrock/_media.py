"""Turning items into Bedrock request parts: formats, PDF pages, durations, size limits.

Everything here runs on the client before a request is sent, so a bad item fails fast
with an :class:`~audit.items.ItemError` naming it, and nothing oversized leaves the machine.
"""

from __future__ import annotations

import base64
import io
import logging
import wave
from dataclasses import dataclass
from pathlib import Path

from audit.embedders._media import render_pdf_pages
from audit.embedders.bedrock._models import NOVA_AUDIO_FORMATS, NOVA_VIDEO_FORMATS, Part
from audit.items import Item, ItemError

log = logging.getLogger(__name__)

# Documented inline (bytes source) limit: 25 MB after base64. Decimal MB, the smaller
# reading, so nothing we send can be over the service's limit.
INLINE_LIMIT_BYTES = 25_000_000
SYNC_MAX_SECONDS = 30.0

# PDFium is not thread-safe; serialise rendering across embedders and threads.

_PIL_TO_API = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "WEBP": "webp"}


@dataclass(frozen=True)
class MediaSettings:
    """Client-side preparation settings of one embedder."""

    image_formats: tuple[str, ...]
    image_detail: str = "STANDARD_IMAGE"
    doc_max_pages: int = 16
    doc_dpi: int = 150
    max_inline_bytes: int = INLINE_LIMIT_BYTES


def encode_inline(item: Item, data: bytes, limit: int, what: str = "content") -> str:
    """Base64 of ``data``; an :class:`ItemError` if it is over the inline limit."""
    size = 4 * ((len(data) + 2) // 3)  # base64 length, known before encoding
    if size > limit:
        raise ItemError(
            item.id,
            f"{what} is {size:,} bytes after base64, over the {limit:,}-byte inline limit "
            "of a synchronous Bedrock request",
        )
    return base64.b64encode(data).decode("ascii")


def image_part(item: Item, data: bytes, settings: MediaSettings, detail: str) -> Part:
    """An image request part; formats the model does not take are re-encoded to PNG."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = _PIL_TO_API.get(img.format or "")
            if fmt not in settings.image_formats:
                # e.g. BMP/TIFF, or GIF/WEBP for Titan: lossless re-encode keeps pixels.
                img.load()
                mode = "RGBA" if "A" in img.getbands() else "RGB"
                buf = io.BytesIO()
                img.convert(mode).save(buf, format="PNG")
                data, fmt = buf.getvalue(), "png"
    except ItemError:
        raise
    except Exception as exc:  # Pillow raises many types for corrupt files
        raise ItemError(item.id, f"image does not decode: {exc}") from exc
    value = encode_inline(item, data, settings.max_inline_bytes)
    return Part("image", value, fmt, detail)


def document_parts(item: Item, settings: MediaSettings) -> tuple[list[Part], int]:
    """Render a PDF's first ``doc_max_pages`` pages to PNG parts (``DOCUMENT_IMAGE``).

    Returns the parts and the document's total page count, so the caller can report
    pages left out.
    """
    pngs, n_pages = render_pdf_pages(item, settings.doc_max_pages, settings.doc_dpi)
    parts = [
        Part(
            "image",
            encode_inline(item, png, settings.max_inline_bytes, f"page {i + 1} as PNG"),
            "png",
            "DOCUMENT_IMAGE",
            page=i + 1,
        )
        for i, png in enumerate(pngs)
    ]
    return parts, n_pages


def audio_format(item: Item, data: bytes) -> str:
    """The Nova audio format of ``data`` from its signature (mp3, wav or ogg)."""
    head = data[:12]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[:4] == b"OggS":
        return "ogg"
    raise ItemError(
        item.id, f"audio format not accepted by Nova (accepted: {', '.join(NOVA_AUDIO_FORMATS)})"
    )


def video_format(item: Item, data: bytes) -> str:
    """The Nova video format of ``data`` from its container signature (or file suffix)."""
    head = data[:64]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "mov"
        return "3gp" if brand.startswith(b"3g") else "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska or WebM
        return "webm" if b"webm" in data[:4096] else "mkv"
    if head[:3] == b"FLV":
        return "flv"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "mpeg"
    if head[:16] == bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"):  # ASF
        return "wmv"
    if isinstance(item.content, str | Path):
        suffix = Path(item.content).suffix.lower().lstrip(".")
        if suffix in NOVA_VIDEO_FORMATS:
            return suffix
    raise ItemError(
        item.id, f"video format not accepted by Nova (accepted: {', '.join(NOVA_VIDEO_FORMATS)})"
    )


def media_seconds(data: bytes, fmt: str) -> float | None:
    """Duration of audio/video in seconds, or ``None`` when it cannot be read locally.

    WAV is read with the standard library; other formats with PyAV when it is installed.
    An unknown duration is left to the service to check (it answers a
    ValidationException, raised without retry and naming the item).
    """
    if fmt == "wav":
        try:
            with wave.open(io.BytesIO(data)) as wav:
                return wav.getnframes() / float(wav.getframerate())
        except (wave.Error, EOFError, ZeroDivisionError):
            return None
    try:
        import av
    except ImportError:
        return None
    try:
        with av.open(io.BytesIO(data)) as container:
            if container.duration is not None:
                return container.duration / 1_000_000  # av.time_base
            spans = [
                float(s.duration * s.time_base)
                for s in container.streams
                if s.duration is not None and s.time_base is not None
            ]
            return max(spans) if spans else None
    except Exception as exc:  # PyAV raises many types for odd files
        log.debug("duration of %s media unknown: %s", fmt, exc)
        return None


def media_info(item: Item, data: bytes) -> tuple[str, float | None]:
    """The API format of an audio or video item and its duration (``None`` if unknown)."""
    fmt = audio_format(item, data) if item.modality == "audio" else video_format(item, data)
    return fmt, media_seconds(data, fmt)
