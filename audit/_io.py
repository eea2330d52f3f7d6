"""Atomic file writes shared by reports, comparisons, plans and CI files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

__all__ = ["save_json_model", "write_atomic"]


class _JsonModel(Protocol):
    def model_dump_json(self, *, indent: int | None = None) -> str: ...


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temp file and a rename (no half-written file).

    Parent folders are created. Returns the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; CI artifacts are read by other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_json_model(model: _JsonModel, path: str | Path) -> Path:
    """Write a pydantic model as pretty-printed JSON, atomically."""
    return write_atomic(path, model.model_dump_json(indent=2) + "\n")
