"""PDF path of the local embedder: text layer and page image per page (pypdfium2).

Rules (all parameters enter the embedder's ``params``):

- Only the first ``max_pages`` pages are read; a note records any cut.
- Page text: the text layer, whitespace-normalised, split into chunks of ``chunk_words``
  words (MiniLM reads at most 256 word pieces, so longer text would be cut silently);
  the page's text vector is the re-normalised mean of its chunk vectors.
- Page image: the page rendered on white so its longer side is ``render_px`` pixels,
  embedded by the image (ConSE) path exactly as an image item would be.
- Page vector: ``unit((1 - w) * image + w * text)`` with ``w = text_weight``; a page with
  no text layer (a scan) is its image vector alone, whatever ``w``. With ``w == 1`` pages
  with text are not rendered at all.
- Document vector: the re-normalised mean of its page vectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from audit._media_checks import require_pdf_eof
from audit.embedders._media import (
    ImageEncoder,
    TextEncoder,
    fuse,
    has_words,
    mean_unit,
    media_source,
    unit,
)
from audit.items import Item, ItemError


@dataclass(frozen=True)
class Page:
    """One read page: its text layer (``""`` if none) and its rendering (or ``None``)."""

    number: int  # 1-based, as users count pages
    text: str
    image: Any | None


def read_pages(
    item: Item, *, max_pages: int, render_px: int, text_weight: float
) -> tuple[list[Page], int]:
    """Read the first ``max_pages`` pages of a PDF item.

    Returns the pages and the document's total page count. A page is rendered only when
    its image is used (``text_weight < 1`` or the page has no text layer).

    Raises
    ------
    ItemError
        If the PDF is truncated (no ``%%EOF`` near its end: PDFium would otherwise repair
        it and silently lose what was cut), does not open (corrupt, encrypted), has no
        pages, or a page fails to load.
    """
    import pypdfium2 as pdfium

    require_pdf_eof(item)
    try:
        pdf = pdfium.PdfDocument(media_source(item))
    except pdfium.PdfiumError as exc:
        raise ItemError(item.id, f"PDF does not open: {exc}") from exc
    pages: list[Page] = []
    try:
        total = len(pdf)
        if total == 0:
            raise ItemError(item.id, "PDF has no pages")
        for i in range(min(total, max_pages)):
            try:
                pages.append(_read_page(pdf[i], i + 1, render_px, text_weight))
            except ItemError:
                raise
            except Exception as exc:  # pdfium raises PdfiumError and plain errors
                raise ItemError(item.id, f"page {i + 1} does not load: {exc}") from exc
    finally:
        pdf.close()
    return pages, total


def _read_page(page: Any, number: int, render_px: int, text_weight: float) -> Page:
    textpage = page.get_textpage()
    text = " ".join(textpage.get_text_range().split())
    textpage.close()
    image = None
    if text_weight < 1.0 or not has_words(text):
        width, height = page.get_size()
        if min(width, height) <= 0:
            raise ValueError(f"zero page size {width}x{height}")
        bitmap = page.render(scale=render_px / max(width, height), fill_color=(255, 255, 255, 255))
        image = bitmap.to_pil().convert("RGB")
        bitmap.close()
    page.close()
    return Page(number, text if has_words(text) else "", image)


def text_chunks(text: str, chunk_words: int) -> list[str]:
    """Split ``text`` into consecutive chunks of at most ``chunk_words`` words."""
    words = text.split()
    return [" ".join(words[i : i + chunk_words]) for i in range(0, len(words), chunk_words)]


def embed_pages(
    pages: list[Page],
    *,
    text_weight: float,
    chunk_words: int,
    encode_texts: TextEncoder,
    encode_images: ImageEncoder,
) -> np.ndarray:
    """Pool read pages into one unit vector under the module's fusion rules."""
    chunks: list[str] = []
    owner: list[int] = []
    for j, page in enumerate(pages):
        for chunk in text_chunks(page.text, chunk_words):
            chunks.append(chunk)
            owner.append(j)
    text_vecs = np.asarray(encode_texts(chunks), dtype=np.float32) if chunks else None
    rendered = [j for j, p in enumerate(pages) if p.image is not None]
    image_vecs = (
        np.asarray(encode_images([pages[j].image for j in rendered]), dtype=np.float32)
        if rendered
        else None
    )
    owners = np.asarray(owner)
    page_vecs = []
    for j in range(len(pages)):
        text_vec = mean_unit(text_vecs[owners == j]) if j in owner else None  # type: ignore[index]
        if j in rendered:
            image_vec = image_vecs[rendered.index(j)]  # type: ignore[index]
            page_vecs.append(fuse(image_vec, text_vec, text_weight))
        else:  # text_weight == 1 and the page has text: it was not rendered
            page_vecs.append(unit(text_vec))  # type: ignore[arg-type]
    return mean_unit(np.stack(page_vecs))
