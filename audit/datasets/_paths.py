"""Resolve file references from dataset files safely inside the dataset's folder."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath

# "s3://x", "https://x", "file:///x": a dataset file names local files only.
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class UnsafePathError(ValueError):
    """A referenced path is absolute, a URL, or leaves the dataset root."""


def resolve_inside(root: Path, reference: str) -> Path:
    """Resolve ``reference`` relative to ``root`` and refuse anything outside ``root``.

    Absolute paths (POSIX or Windows style), URLs and paths whose real location (after
    ``..`` and symbolic links) is outside ``root`` are refused, so that a dataset file
    cannot make the tool read arbitrary files.

    Parameters
    ----------
    root : pathlib.Path
        The dataset folder.
    reference : str
        The path as written in the dataset file.

    Returns
    -------
    pathlib.Path
        The resolved absolute path (it may not exist; callers report missing files).

    Raises
    ------
    UnsafePathError
        With the reason, for absolute paths, URLs and escapes from ``root``.
    """
    if not isinstance(reference, str) or not reference.strip():
        raise UnsafePathError("empty path")
    if "\x00" in reference:
        raise UnsafePathError("path contains a NUL byte")
    if _URL.match(reference):
        raise UnsafePathError(f"URLs are not allowed, give a path inside the dataset: {reference}")
    if (
        PurePosixPath(reference).is_absolute()
        or PureWindowsPath(reference).is_absolute()
        or PureWindowsPath(reference).drive
    ):
        raise UnsafePathError(f"absolute paths are not allowed: {reference}")
    real_root = root.resolve()
    target = (real_root / reference).resolve()
    if not target.is_relative_to(real_root):
        how = " through a symbolic link" if ".." not in PurePosixPath(reference).parts else ""
        raise UnsafePathError(f"path escapes the dataset folder{how}: {reference}")
    return target
