"""Header-level checks of document, audio and video items (PDFium and PyAV open them).

:func:`audit.items.check_item` calls :func:`check_media` after the size and signature
checks, so that a truncated PDF, a truncated WAV or random bytes named ``.mp4`` are
refused with the item's id *before* a run embeds anything, instead of failing in the
middle of a suite. Only headers and the first decodable frame are read, never the whole
stream: a check costs milliseconds per item (``bench/bench_item_checks.py``).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit.items import Item


def check_media(item: Item) -> None:
    """Open a document, audio or video item far enough to know it decodes.

    Raises
    ------
    audit.items.ItemError
        Naming the item: a PDF PDFium cannot open or with no pages; a RIFF/WAV file shorter
        than its header says; audio or video PyAV cannot open, without the expected
        stream, or whose first frame does not decode.
    """
    if item.modality == "document":
        _check_pdf(item)
    elif item.modality in ("audio", "video"):
        _check_av(item)


_EOF_WINDOW = 1024  # where readers look for the %%EOF marker (PDF 1.7, Annex H)


def require_pdf_eof(item: Item) -> None:
    """Refuse a PDF without ``%%EOF`` near its end: a truncated file.

    PDFium repairs such a file and opens it, silently losing what was cut, so opening it
    is not enough of a check.

    Raises
    ------
    audit.items.ItemError
        Naming the item.
    """
    from audit.items import ItemError

    if isinstance(item.content, bytes):
        tail = item.content[-_EOF_WINDOW:]
    else:
        with open(item.content, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - _EOF_WINDOW))
            tail = fh.read()
    if b"%%EOF" not in tail:
        raise ItemError(item.id, "PDF is truncated (no %%EOF marker at its end)")


def _check_pdf(item: Item) -> None:
    import pypdfium2 as pdfium

    from audit.embedders._media import PDFIUM_LOCK  # PDFium is not thread-safe
    from audit.items import ItemError

    require_pdf_eof(item)
    with PDFIUM_LOCK:
        try:
            # Opening parses the trailer and cross-reference table: a truncated file fails
            # here (PDFium "Data format error") without rendering any page.
            pdf = pdfium.PdfDocument(item.read_bytes())
        except pdfium.PdfiumError as exc:
            raise ItemError(item.id, f"PDF does not open (truncated or corrupt?): {exc}") from exc
        try:
            if len(pdf) == 0:
                raise ItemError(item.id, "PDF has no pages")
        finally:
            pdf.close()


def _riff_shortfall(head: bytes, size: int) -> int:
    """Bytes missing from a RIFF file whose header declares more than it holds (else 0).

    A RIFF file (WAV) starts ``b"RIFF" <uint32 LE: file size - 8>``; FFmpeg decodes a
    truncated one without complaint (it just ends early), so the declared size is the
    only sign of the truncation.
    """
    if len(head) < 8 or not head.startswith(b"RIFF"):
        return 0
    (declared,) = struct.unpack("<I", head[4:8])
    return max(0, declared + 8 - size)


def _check_av(item: Item) -> None:
    import av

    from audit.embedders._media import media_source
    from audit.items import ItemError, _head

    kind = item.modality
    head = _head(item, 12)
    size = len(item.content) if isinstance(item.content, bytes) else _file_size(item)
    missing = _riff_shortfall(head, size)
    if missing:
        raise ItemError(
            item.id, f"{kind} file is truncated: {missing} byte(s) short of its RIFF header size"
        )
    try:
        with av.open(media_source(item), mode="r", metadata_errors="ignore") as container:
            streams = container.streams.audio if kind == "audio" else container.streams.video
            if not streams:
                raise ItemError(item.id, f"no {kind} stream")
            # One frame proves the codec is supported and the data decodes; the rest of
            # the stream is left to the embedder.
            frame = next(iter(container.decode(streams[0])), None)
    except ItemError:
        raise
    except Exception as exc:  # PyAV raises many error types for corrupt input
        raise ItemError(item.id, f"{kind} does not decode: {exc}") from exc
    if frame is None:
        raise ItemError(item.id, f"{kind} has no decodable frame")


def _file_size(item: Item) -> int:
    from pathlib import Path

    return Path(item.content).stat().st_size  # type: ignore[arg-type]
