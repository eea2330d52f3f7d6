"""Helpers shared by the document, video and audio paths of the backends."""

from __future__ import annotations

import io
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from audit.items import Item, ItemError

# Embedding callables the modality modules receive, so they never import LocalEmbedder.
TextEncoder = Callable[[list[str]], np.ndarray]
ImageEncoder = Callable[[list[Any]], np.ndarray]  # list of RGB PIL images

K = TypeVar("K")
V = TypeVar("V")

_WORD = re.compile(r"\w", re.UNICODE)


class LRUDict(OrderedDict[K, V], Generic[K, V]):
    """A dict that forgets its least recently set entries beyond ``maxsize``."""

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.maxsize:
            self.popitem(last=False)


def media_source(item: Item) -> str | io.BytesIO:
    """What PyAV / pypdfium2 open: the file path (no full read into memory) or the bytes."""
    if isinstance(item.content, bytes):
        return io.BytesIO(item.content)
    return str(Path(item.content))


def has_words(text: str) -> bool:
    """True when ``text`` holds at least one letter or digit (not only punctuation/space)."""
    return bool(_WORD.search(text))


def unit(v: np.ndarray) -> np.ndarray:
    """L2-normalise one vector (float32)."""
    v = np.asarray(v, dtype=np.float32)
    return v / np.float32(np.linalg.norm(v))


def fuse(primary: np.ndarray, secondary: np.ndarray | None, weight: float) -> np.ndarray:
    """Weighted sum of two unit vectors, re-normalised.

    Returns ``unit((1 - weight) * unit(primary) + weight * unit(secondary))``; when
    ``secondary`` is ``None`` (e.g. no speech, no text layer) the result is ``unit(primary)``.
    """
    p = unit(primary)
    if secondary is None:
        return p
    return unit((1.0 - weight) * p + weight * unit(secondary))


def mean_unit(rows: np.ndarray) -> np.ndarray:
    """Mean-pool unit rows, then re-normalise (the pooling rule for pages and frames)."""
    return unit(np.asarray(rows, dtype=np.float32).mean(axis=0))


def check_weight(name: str, value: float) -> float:
    """Validate a fusion weight in [0, 1]."""
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)


# PDFium is not thread-safe; hosted backends prepare items on thread pools.
PDFIUM_LOCK = threading.Lock()


def render_pdf_pages(item: Item, max_pages: int, dpi: int) -> tuple[list[bytes], int]:
    """PNG bytes of a PDF's first ``max_pages`` pages at ``dpi``, and its page count.

    Raises
    ------
    ItemError
        Naming the item, when the PDF does not open, has no pages or a page fails.
    """
    import pypdfium2 as pdfium

    pngs: list[bytes] = []
    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(item.read_bytes())
        except pdfium.PdfiumError as exc:
            raise ItemError(item.id, f"PDF does not open: {exc}") from exc
        try:
            n_pages = len(pdf)
            if n_pages == 0:
                raise ItemError(item.id, "PDF has no pages")
            for index in range(min(n_pages, max_pages)):
                page = pdf[index]
                image = page.render(scale=dpi / 72).to_pil()
                buf = io.BytesIO()
                image.save(buf, format="PNG")
                pngs.append(buf.getvalue())
                page.close()
        except pdfium.PdfiumError as exc:
            raise ItemError(item.id, f"PDF page does not render: {exc}") from exc
        finally:
            pdf.close()
    return pngs, n_pages
