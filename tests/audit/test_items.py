import io
import struct
import zlib

import pytest
from PIL import Image

from audit.items import (
    BadItemsError,
    Item,
    ItemError,
    ItemLimits,
    load_image,
    text_item,
    validate_items,
)


def _png(w: int = 8, h: int = 8) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (255, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def _bomb_png(w: int, h: int) -> bytes:
    """A tiny PNG whose header claims w x h pixels (the decompression-bomb shape)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    raw = zlib.compress(b"\0" * (w + 1) * 4)  # deliberately short: never fully decoded
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def test_valid_items_pass(tmp_path):
    p = tmp_path / "a.png"
    p.write_bytes(_png())
    items = [text_item("t", "hello"), Item("i", "image", p), Item("j", "image", _png())]
    assert validate_items(items) == items
    assert load_image(items[1]).size == (8, 8)


def test_batch_error_names_every_bad_item(tmp_path):
    items = [
        text_item("ok", "fine"),
        text_item("empty", "   "),
        Item("corrupt", "image", b"\x89PNG not really"),
        Item("missing", "image", tmp_path / "nope.png"),
        Item("bomb", "image", _bomb_png(20_000, 20_000)),
        Item("pdf", "document", b"hello, not a pdf"),
        Item("surrogate", "text", "bad \ud800 text"),
        text_item("ok", "duplicate id"),
    ]
    with pytest.raises(BadItemsError) as info:
        validate_items(items)
    errors = {e.item_id: e.reason for e in info.value.errors}
    assert set(errors) == {"empty", "corrupt", "missing", "bomb", "pdf", "surrogate", "ok"}
    assert "pixels" in errors["bomb"]
    assert "decode" in errors["corrupt"]
    assert "not found" in errors["missing"]
    assert "signature" in errors["pdf"]
    assert "duplicate" in errors["ok"]
    msg = str(info.value)
    for item_id in errors:
        assert item_id in msg


def test_size_limit_and_wrong_modality():
    limits = ItemLimits(max_bytes={"text": 5, "image": 10})
    with pytest.raises(BadItemsError) as info:
        validate_items([text_item("long", "x" * 6), Item("img", "image", _png())], limits)
    assert {e.item_id for e in info.value.errors} == {"long", "img"}
    with pytest.raises(ItemError, match="unknown modality"):
        Item("x", "smell", b"..")  # type: ignore[arg-type]
    with pytest.raises(ItemError, match="expected an image"):
        load_image(text_item("t", "not an image"))


def test_content_hash_is_of_the_bytes(tmp_path):
    import hashlib

    data = _png()
    p = tmp_path / "a.png"
    p.write_bytes(data)
    assert Item("a", "image", p).content_sha256() == hashlib.sha256(data).hexdigest()
    assert Item("b", "image", data).content_sha256() == hashlib.sha256(data).hexdigest()
