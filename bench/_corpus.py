"""Real sentences for benchmarks: license and copyright texts every Debian system ships."""

from __future__ import annotations

import re
from pathlib import Path

LICENSES = Path("/usr/share/common-licenses")
DOCS = Path("/usr/share/doc")


def real_sentences(n: int) -> list[str]:
    """``n`` distinct sentences (8-60 words) from Debian's license and copyright files.

    Raises
    ------
    RuntimeError
        If the machine does not have enough license text.
    """
    seen: dict[str, None] = {}
    files = sorted(LICENSES.glob("*")) + sorted(DOCS.glob("*/copyright"))
    for path in files:
        if not path.is_file():
            continue
        text = re.sub(r"\s+", " ", path.read_text(encoding="utf-8", errors="replace"))
        for sent in re.split(r"(?<=[.;:])\s+", text):
            words = sent.split()
            if 8 <= len(words) <= 60:
                seen.setdefault(sent.strip(), None)
            if len(seen) >= n:
                return list(seen)
    raise RuntimeError(f"only {len(seen)} sentences in {LICENSES} and {DOCS}; need {n}")
