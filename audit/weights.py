"""Weight files are verified by sha256 before anything loads them."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


class WeightsError(RuntimeError):
    """A weight file is missing or its sha256 does not match the pinned value."""


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, streamed in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def verify_weights(path: str | Path, expected_sha256: str | None) -> str:
    """Check ``path`` against its pinned hash and return the actual hash.

    Parameters
    ----------
    path : str or Path
        The weight file.
    expected_sha256 : str or None
        The pinned hash; ``None`` means "not pinned" (the hash is still computed and
        returned so the report can record what was loaded).

    Raises
    ------
    WeightsError
        If the file is missing or its hash differs from the pinned one.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(
            f"weight file not found: {path} (is the package that ships it installed?)"
        )
    actual = sha256_file(path)
    if expected_sha256 is not None and actual != expected_sha256.lower():
        raise WeightsError(
            f"sha256 mismatch for {path}: expected {expected_sha256}, got {actual}; "
            "refusing to load weights that are not the pinned ones"
        )
    log.debug("verified %s (%s)", path, actual)
    return actual
