"""Items: the unit of content every embedder consumes, and their validated loading.

An :class:`Item` is ``(id, modality, content, attributes)``. ``content`` is a ``str`` for
text and a path or ``bytes`` for every other modality. Loading validates size, decoding,
decompression bombs and modality; a batch reports every bad item at once through
:class:`BadItemsError`, so one run shows the user all that must be fixed.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

Modality = Literal["text", "image", "document", "video", "audio"]
MODALITIES: tuple[str, ...] = get_args(Modality)

# Limits chosen to stay well inside a 24 GiB machine while admitting real content;
# all are overridable through ``ItemLimits``.
DEFAULT_MAX_BYTES = {
    "text": 1_000_000,  # characters of UTF-8 text
    "image": 50 * 2**20,
    "document": 200 * 2**20,
    "video": 2 * 2**30,
    "audio": 500 * 2**20,
}
# Pillow's own default bomb guard is ~89 Mpx (warns) / 179 Mpx (errors); be stricter,
# an embedder never needs more than a few megapixels.
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000

_MAGIC: dict[str, tuple[bytes, ...]] = {
    "document": (b"%PDF-",),
    "audio": (b"RIFF", b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"OggS", b"fLaC"),
}


class ItemError(ValueError):
    """One item failed validation.

    Parameters
    ----------
    item_id : str
        The id of the offending item.
    reason : str
        Why it was rejected, in words a user can act on.
    """

    def __init__(self, item_id: str, reason: str) -> None:
        self.item_id = item_id
        self.reason = reason
        super().__init__(f"item {item_id!r}: {reason}")


class BadItemsError(ValueError):
    """Several items of one batch failed validation; lists every one of them."""

    def __init__(self, errors: Sequence[ItemError]) -> None:
        self.errors = list(errors)
        lines = "\n".join(f"  - {e.item_id}: {e.reason}" for e in self.errors)
        super().__init__(f"{len(self.errors)} bad item(s):\n{lines}")


@dataclass(frozen=True)
class ItemLimits:
    """Size limits applied when loading items."""

    max_bytes: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_MAX_BYTES))
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS


@dataclass(frozen=True)
class Item:
    """One piece of content to embed.

    Parameters
    ----------
    id : str
        Unique id within its dataset.
    modality : {"text", "image", "document", "video", "audio"}
        What the content is.
    content : str, pathlib.Path or bytes
        The text itself for ``text``; a file path or raw bytes otherwise.
    attributes : dict
        Group labels (e.g. ``gender``, ``skin_tone``, ``voice``) and free metadata.
    """

    id: str
    modality: Modality
    content: str | Path | bytes
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise ItemError(
                str(self.id), f"unknown modality {self.modality!r}; use one of {MODALITIES}"
            )
        if self.modality == "text" and not isinstance(self.content, str):
            raise ItemError(str(self.id), "text content must be str")
        if self.modality != "text" and not isinstance(self.content, str | Path | bytes):
            raise ItemError(str(self.id), f"{self.modality} content must be a path or bytes")

    def read_bytes(self) -> bytes:
        """Return the raw content: UTF-8 for text, file or inline bytes otherwise."""
        if self.modality == "text":
            assert isinstance(self.content, str)
            try:
                return self.content.encode("utf-8")
            except UnicodeEncodeError as exc:  # a lone surrogate (U+D800) has no UTF-8
                raise ItemError(self.id, _unicode_reason(exc)) from exc
        if isinstance(self.content, bytes):
            return self.content
        try:
            return Path(self.content).read_bytes()
        except OSError as exc:
            raise ItemError(self.id, f"cannot read {self.content}: {exc.strerror}") from exc

    def content_sha256(self) -> str:
        """SHA-256 of the content bytes: the content half of the cache key."""
        return hashlib.sha256(self.read_bytes()).hexdigest()


def text_item(id: str, text: str, **attributes: Any) -> Item:
    """Shorthand for a text item."""
    return Item(id=id, modality="text", content=text, attributes=attributes)


def check_item(item: Item, limits: ItemLimits | None = None) -> None:
    """Validate one item's content; raise :class:`ItemError` naming the reason.

    Text must be non-empty valid text; images must decode and stay under the pixel
    limit (decompression bombs are refused before full decoding); documents and audio
    must carry their format's signature; documents must open in PDFium and audio and
    video in PyAV, with a first decodable frame (:mod:`audit._media_checks`: headers
    only); every file must exist and stay under the size limit.
    """
    limits = limits or ItemLimits()
    max_bytes = limits.max_bytes.get(item.modality, DEFAULT_MAX_BYTES[item.modality])
    if item.modality == "text":
        assert isinstance(item.content, str)
        if not item.content.strip():
            raise ItemError(item.id, "empty text")
        if len(item.content) > max_bytes:
            raise ItemError(item.id, f"text is {len(item.content)} characters (limit {max_bytes})")
        try:
            item.content.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ItemError(item.id, _unicode_reason(exc)) from exc
        return
    if isinstance(item.content, str | Path):
        path = Path(item.content)
        if not path.is_file():
            raise ItemError(item.id, f"file not found: {path}")
        size = path.stat().st_size
    else:
        size = len(item.content)
    if size == 0:
        raise ItemError(item.id, "empty content")
    if size > max_bytes:
        raise ItemError(item.id, f"{size} bytes exceeds the {item.modality} limit {max_bytes}")
    if item.modality == "image":
        _check_image(item, limits.max_image_pixels)
    elif item.modality in _MAGIC:
        head = _head(item)
        if not head.startswith(_MAGIC[item.modality]) and not (
            item.modality == "audio" and head[4:8] == b"ftyp"
        ):
            raise ItemError(item.id, f"not a recognised {item.modality} file (bad signature)")
    from audit._media_checks import check_media

    check_media(item)  # opens headers: truncated PDF/WAV, undecodable audio/video


def _unicode_reason(exc: UnicodeEncodeError) -> str:
    bad = exc.object[exc.start : exc.end]
    codes = ", ".join(f"U+{ord(c):04X}" for c in bad[:4])
    return f"text is not valid Unicode ({exc.reason}: {codes} at character {exc.start})"


def _head(item: Item, n: int = 16) -> bytes:
    if isinstance(item.content, bytes):
        return item.content[:n]
    with open(item.content, "rb") as fh:
        return fh.read(n)


def _check_image(item: Item, max_pixels: int) -> None:
    from PIL import Image

    data = item.read_bytes()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
                if w * h > max_pixels:
                    raise ItemError(
                        item.id, f"image is {w}x{h} = {w * h} pixels (limit {max_pixels})"
                    )
                img.verify()  # checks structure without decoding all pixels
    except ItemError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ItemError(item.id, f"decompression bomb refused: {exc}") from exc
    except Exception as exc:  # Pillow raises many types for corrupt files
        raise ItemError(item.id, f"image does not decode: {exc}") from exc


def validate_items(items: Iterable[Item], limits: ItemLimits | None = None) -> list[Item]:
    """Validate a batch; raise one :class:`BadItemsError` listing every bad item.

    Duplicate ids within the batch are reported too, since caches and reports key on them.
    """
    items = list(items)
    errors: list[ItemError] = []
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            errors.append(ItemError(item.id, "duplicate id in batch"))
        seen.add(item.id)
        try:
            check_item(item, limits)
        except ItemError as exc:
            errors.append(exc)
    if errors:
        raise BadItemsError(errors)
    return items


def load_image(item: Item, limits: ItemLimits | None = None) -> Any:
    """Decode an image item to an RGB ``PIL.Image`` after validation."""
    from PIL import Image

    if item.modality != "image":
        raise ItemError(item.id, f"expected an image, got modality {item.modality!r}")
    limits = limits or ItemLimits()
    check_item(item, limits)
    img = Image.open(io.BytesIO(item.read_bytes()))
    try:
        img.load()
    except Exception as exc:
        raise ItemError(item.id, f"image does not decode: {exc}") from exc
    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB")
