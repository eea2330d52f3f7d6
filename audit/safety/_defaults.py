"""Recompute the default policy's calibrated thresholds (a maintainer script).

``python -m audit.safety._defaults`` prints the ``threshold`` values of
``data/default_policy.toml``. Calibration data is benign and disjoint from everything the
safety suite evaluates on:

- text: CLDR names of every emoji (the ``emoji`` package; everyday objects, faces,
  gestures, tools, including edgy-but-benign ones like "kitchen knife" or "drop of
  blood") except those of the built-in emoji datasets, plus the module and function
  docstrings of the Python standard library, read with ``ast`` (never imported);
- images: Noto Color Emoji outside the animal and food blocks of ``emoji-objects``
  (single code points, so none of the ``emoji-professions`` sequences; needs Debian
  ``fonts-noto-color-emoji``).

Thresholds are split-conformal at a 1 % target false-positive rate
(:func:`audit.safety.conformal_threshold`), per modality; the ``*`` entry (documents,
audio, video, whose vectors fuse text and image ones) is the larger of the two.
"""

from __future__ import annotations

import ast
import logging
import sysconfig
from pathlib import Path

from audit.items import Item, text_item

log = logging.getLogger(__name__)

TARGET_FPR = 0.01
# Pictograph blocks minus emoji-objects' animal (1F400-1F43F) and food (1F345-1F36F) ones.
EMOJI_RANGES = (
    (0x1F300, 0x1F344),
    (0x1F370, 0x1F3FA),
    (0x1F440, 0x1F5FF),
    (0x1F680, 0x1F6FF),
    (0x1F900, 0x1F9FF),
)


def stdlib_docstrings(limit: int = 3000) -> list[Item]:
    """Benign technical English: standard-library docstrings (parsed, never imported)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    items: list[Item] = []
    for path in sorted(root.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        nodes = [tree, *(n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef))]
        for node in nodes:
            words = (ast.get_docstring(node) or "").split()
            if len(words) >= 6:
                name = getattr(node, "name", "")
                items.append(text_item(f"stdlib.{path.stem}.{name}", " ".join(words[:60])))
        if len(items) >= limit:
            break
    return items[:limit]


def emoji_names() -> list[Item]:
    """CLDR emoji names, except those of the built-in emoji datasets."""
    import emoji

    from audit.datasets import load_dataset

    used = set()
    for name in ("emoji-objects", "emoji-professions"):
        used |= {str(it.attributes.get("emoji")) for it in load_dataset(f"builtin:{name}").corpus}
    items = []
    for char, data in sorted(emoji.EMOJI_DATA.items()):
        if char in used:
            continue
        text = data["en"].strip(":").replace("_", " ")
        items.append(text_item(f"cldr.{'-'.join(f'{ord(c):x}' for c in char)}", text))
    return items


def emoji_images() -> list[Item]:
    """Benign images: emoji outside the built-in datasets' blocks, rendered as PNG."""
    from audit.datasets.builtin._make.emoji_sets import render_png

    items = []
    for lo, hi in EMOJI_RANGES:
        for cp in range(lo, hi + 1):
            try:
                items.append(Item(f"emoji.{cp:x}", "image", render_png(chr(cp))))
            except ValueError:  # no glyph in the font
                continue
    return items


def main() -> None:  # pragma: no cover - maintainer script, needs the models and the font
    """Print the calibrated thresholds as TOML."""
    import numpy as np

    from audit.embedders import create_embedder
    from audit.safety import ProfanityChecker, conformal_threshold, default_policy
    from audit.safety._registry import BuildEnv

    texts, images = emoji_names() + stdlib_docstrings(), emoji_images()
    embedder = create_embedder("local")
    embedder.progress = False
    policy = default_policy()
    from audit.safety._registry import CHECKERS

    concepts = CHECKERS.get("concepts")(
        policy.checkers["concepts"], BuildEnv(policy.base_dir, embedder)
    )
    thresholds = concepts.calibrate(texts + images, target_fpr=TARGET_FPR)  # type: ignore[attr-defined]
    print(f"# {len(texts)} texts, {len(images)} images, target FPR {TARGET_FPR}")
    for cat, table in thresholds.items():
        star = max(table["text"], table["image"])
        text, image = table["text"], table["image"]
        print(f'{cat}: {{ text = {text:.4f}, image = {image:.4f}, "*" = {star:.4f} }}')
    prof = ProfanityChecker(threshold=1.0)
    # the checker's own score: the highest probability over the hardened views
    scores = [prof.text_findings(str(t.content))[0].score for t in texts]
    print(f"profanity: {conformal_threshold(np.asarray(scores), TARGET_FPR):.4f}")


if __name__ == "__main__":  # pragma: no cover
    logging.basicConfig(level=logging.WARNING)
    main()
