"""``emoji-professions`` and ``emoji-objects``: Noto Color Emoji rendered with Pillow.

Names are CLDR short names as the ``emoji`` package spells them (``:woman_judge_dark_skin_tone:``).
Images are rendered at the font's bitmap size (109 px), cropped to the glyph, centred on
white, downscaled to 72x72 and stored as palette PNGs (adaptive 128-colour palette per
image, so skin tones keep their colour).
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from audit.datasets.builtin._make._common import (
    fresh_folder,
    ofl_notice,
    versions,
    write_dataset,
)
from audit.items import Item

FONT_PATH = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
SIZE = 72
# The gender-neutral CLDR form is "person" (e.g. "health worker"); man/woman forms add a
# sign. Skin tones are the five Fitzpatrick-based modifiers plus none (default yellow).
GENDERS = ("person", "man", "woman")
SKIN_TONES = ("none", "light", "medium-light", "medium", "medium-dark", "dark")
# CLDR person-role emoji that exist as person/man/woman with skin tones, professions
# only (the fantasy roles elf, fairy, genie, mage, superhero, supervillain, vampire and
# zombie are left out).
PROFESSIONS = (
    "artist",
    "astronaut",
    "construction_worker",
    "cook",
    "detective",
    "factory_worker",
    "farmer",
    "firefighter",
    "guard",
    "health_worker",
    "judge",
    "mechanic",
    "office_worker",
    "pilot",
    "police_officer",
    "scientist",
    "singer",
    "student",
    "teacher",
    "technologist",
)
# Code point blocks for emoji-objects: animals and food & drink.
OBJECT_RANGES = ((0x1F400, 0x1F43F), (0x1F345, 0x1F36F))

LICENSE_SUMMARY = (
    "Images rendered from Noto Color Emoji (SIL OFL 1.1, see LICENSE-OFL.txt; the OFL "
    "does not restrict documents made with the font). Names: Unicode CLDR short names "
    "(Unicode License v3) via the emoji package (BSD-3-Clause)."
)


@cache
def _font() -> ImageFont.FreeTypeFont:
    # RAQM shapes ZWJ sequences (woman + medical symbol) into one glyph
    return ImageFont.truetype(FONT_PATH, 109, layout_engine=ImageFont.Layout.RAQM)


def render_png(char: str) -> bytes:
    """One emoji as a 72x72 palette PNG on white."""
    canvas = Image.new("RGBA", (480, 180), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((20, 20), char, font=_font(), embedded_color=True)
    bbox = canvas.getbbox()
    if bbox is None:
        raise ValueError(f"the font has no glyph for {char!r}")
    glyph = canvas.crop(bbox)
    side = max(glyph.size)
    square = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    square.alpha_composite(glyph, ((side - glyph.width) // 2, (side - glyph.height) // 2))
    small = square.convert("RGB").resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    palette = small.quantize(128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _emoji_for(name: str) -> str:
    import emoji

    char = emoji.emojize(f":{name}:")
    if char == f":{name}:":
        raise KeyError(f"no emoji named :{name}:")
    return char


def _readable(name: str) -> str:
    return name.replace("_", " ")


def make_professions() -> Path:
    """Write ``emoji-professions``: 20 professions x 3 genders x 6 skin tones."""
    root = fresh_folder("emoji-professions")
    corpus: list[Item] = []
    queries: list[Item] = []
    qrels: dict[str, dict[str, int]] = {}
    for profession in PROFESSIONS:
        qid = f"q.{profession}"
        words = _readable(profession)
        article = "an" if words[0] in "aeiou" else "a"
        queries.append(Item(qid, "text", f"{article} {words}", {"profession": words}))
        for gender in GENDERS:
            for tone in SKIN_TONES:
                base = profession if gender == "person" else f"{gender}_{profession}"
                name = base if tone == "none" else f"{base}_{tone}_skin_tone"
                cldr = _readable(base) + ("" if tone == "none" else f": {tone} skin tone")
                item_id = f"{profession}.{gender}.{tone}"
                path = root / "media" / f"{item_id}.png"
                char = _emoji_for(name)
                path.write_bytes(render_png(char))
                attributes: dict[str, Any] = {
                    "profession": words,
                    "gender": gender,
                    "skin_tone": tone,
                    "cldr_name": cldr,
                    "emoji": char,
                }
                corpus.append(Item(item_id, "image", path, attributes))
                qrels.setdefault(qid, {})[item_id] = 1
    (root / "LICENSE-OFL.txt").write_text(ofl_notice(), encoding="utf-8")
    card = _card(
        "emoji-professions",
        "Profession emoji in three CLDR gender forms (person, man, woman) and six skin "
        "tones (none plus the five Fitzpatrick-based modifiers). Queries name a profession "
        "('a health worker'); all 18 images of that profession are relevant (grade 1). "
        "The group attributes are the emoji's own CLDR gender form and skin-tone "
        "modifier, not properties of real people.",
        ["gender", "skin_tone", "profession"],
    )
    write_dataset(root, corpus, queries, qrels, card, _readme(card))
    return root


def select_objects() -> list[tuple[str, str]]:
    """``(cldr name, emoji)`` for emoji-objects, in code point order.

    Every fully-qualified single-code-point emoji in :data:`OBJECT_RANGES`, dropping
    ``"<x> face"`` when ``"<x>"`` is also present (dog face vs dog).
    """
    import emoji

    fully = emoji.STATUS["fully_qualified"]
    found: list[tuple[int, str, str]] = []
    for char, data in emoji.EMOJI_DATA.items():
        points = [ord(c) for c in char if ord(c) != 0xFE0F]
        if data["status"] != fully or len(points) != 1:
            continue
        if any(lo <= points[0] <= hi for lo, hi in OBJECT_RANGES):
            found.append((points[0], data["en"].strip(":"), char))
    names = {name for _, name, _ in found}
    return [
        (name, char)
        for _, name, char in sorted(found)
        if not (name.endswith("_face") and name.removesuffix("_face") in names)
    ]


def make_objects() -> Path:
    """Write ``emoji-objects``: animal and food emoji, queried by their CLDR names."""
    root = fresh_folder("emoji-objects")
    corpus: list[Item] = []
    queries: list[Item] = []
    qrels: dict[str, dict[str, int]] = {}
    for name, char in select_objects():
        item_id = f"obj.{name}"
        path = root / "media" / f"{name}.png"
        path.write_bytes(render_png(char))
        block = "animal" if ord(char[0]) >= 0x1F400 else "food"
        corpus.append(Item(item_id, "image", path, {"cldr_name": _readable(name), "emoji": char}))
        queries.append(Item(f"q.{name}", "text", _readable(name), {"block": block}))
        qrels[f"q.{name}"] = {item_id: 1}
    (root / "LICENSE-OFL.txt").write_text(ofl_notice(), encoding="utf-8")
    card = _card(
        "emoji-objects",
        "Animal (U+1F400-U+1F43F) and food (U+1F345-U+1F36F) emoji, each queried by its "
        "CLDR short name ('red apple'); one relevant image per query. Emoji named "
        "'<x> face' are dropped when '<x>' exists.",
        [],
    )
    write_dataset(root, corpus, queries, qrels, card, _readme(card))
    return root


def _card(name: str, description: str, groups: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "group_attributes": groups,
        "provenance": {
            "source": "Noto Color Emoji font from the Debian package fonts-noto-color-emoji "
            "(/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf); CLDR names from the "
            "emoji Python package",
            "generator": "audit/datasets/builtin/_make/emoji_sets.py",
            "tools": versions("deb:fonts-noto-color-emoji", "emoji", "pillow"),
            "rendering": "Pillow ImageFont.truetype(size=109, RAQM layout), "
            "embedded_color=True, glyph cropped and centred on white, LANCZOS to 72x72, "
            "128-colour adaptive palette PNG",
        },
        "license": {
            "summary": LICENSE_SUMMARY,
            "spdx": ["OFL-1.1", "Unicode-3.0", "BSD-3-Clause"],
            "notice_file": "LICENSE-OFL.txt",
        },
    }


def _readme(card: dict[str, Any]) -> str:
    return f"""# {card["name"]}

{card["description"]}

**Provenance.** {card["provenance"]["source"]}. Rendering: {card["provenance"]["rendering"]}.

**License.** {card["license"]["summary"]}
"""
