"""``python -m audit.datasets.builtin._make [NAME ...]``: regenerate built-in datasets."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path


def _makers() -> dict[str, Callable[[], Path]]:
    from audit.datasets.builtin._make import emoji_sets, gendered, speech, text_sets, video

    return {
        "emoji-professions": emoji_sets.make_professions,
        "emoji-objects": emoji_sets.make_objects,
        "speech": speech.make_speech,
        "passages": text_sets.make_passages,
        "documents": text_sets.make_documents,
        "video": video.make_video,
        "gendered-sentences": gendered.make_gendered_sentences,
    }


def main(argv: list[str] | None = None) -> int:
    makers = _makers()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"some of {', '.join(makers)} (default: all)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in makers]
    if unknown:
        parser.error(f"unknown dataset(s) {unknown}; choose from {list(makers)}")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in args.names or list(makers):
        logging.info("made %s", makers[name]())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
