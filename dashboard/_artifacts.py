"""Artifact files named in a report, resolved inside their run directory only.

A report is data from outside: a path in ``details.artifacts`` may try ``../../etc``, an
absolute path, or a symlink planted in the run folder. Only a relative path whose real
location (symlinks followed) stays inside the run directory is read, only for the media
kinds the pages show, and the bytes -- never the path or a URL -- go to the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Literal

ARTIFACTS_DIR = "artifacts"
MAX_ARTIFACT_BYTES = 20 * 1024 * 1024

# No SVG: it can carry script. Only formats the browser shows as inert media.
MEDIA_TYPES: dict[str, tuple[Literal["image", "audio"], str]] = {
    ".png": ("image", "image/png"),
    ".jpg": ("image", "image/jpeg"),
    ".jpeg": ("image", "image/jpeg"),
    ".gif": ("image", "image/gif"),
    ".webp": ("image", "image/webp"),
    ".wav": ("audio", "audio/wav"),
    ".mp3": ("audio", "audio/mpeg"),
    ".ogg": ("audio", "audio/ogg"),
    ".flac": ("audio", "audio/flac"),
}


class ArtifactError(ValueError):
    """An artifact path from a report that is refused or cannot be read."""


@dataclass(frozen=True)
class Artifact:
    """A media file read from a run directory."""

    label: str
    path: Path
    kind: Literal["image", "audio"]
    mime: str
    data: bytes


def resolve_artifact(run_dir: str | Path, relpath: object) -> Path:
    """The real path of an artifact named in a report, refusing anything outside the run.

    ``relpath`` is taken relative to the run directory; a path that does not start with
    ``artifacts/`` is also looked up under ``<run_dir>/artifacts/``.

    Parameters
    ----------
    run_dir : str or Path
        The run directory that holds report.json.
    relpath : object
        The path as written in the report (must be a non-empty relative str).

    Returns
    -------
    Path
        The resolved file path, inside ``run_dir``.

    Raises
    ------
    ArtifactError
        If the path is not a string, is absolute, has a ``..`` component, leads outside
        the run directory through a symlink, or names no file.
    """
    if not isinstance(relpath, str) or not relpath.strip():
        raise ArtifactError(f"artifact path {relpath!r}: not a non-empty string")
    if "\x00" in relpath:
        raise ArtifactError(f"artifact path {relpath!r}: contains a NUL byte")
    # Backslashes are separators on Windows, where reports may have been written.
    posix = PurePosixPath(relpath.replace("\\", "/"))
    if posix.is_absolute() or PureWindowsPath(relpath).drive:
        raise ArtifactError(f"artifact path {relpath!r}: absolute paths are refused")
    if ".." in posix.parts:
        raise ArtifactError(f"artifact path {relpath!r}: '..' components are refused")
    root = Path(run_dir).resolve(strict=True)
    candidates = [root / posix]
    if posix.parts[0] != ARTIFACTS_DIR:
        candidates.append(root / ARTIFACTS_DIR / posix)
    for candidate in candidates:
        real = candidate.resolve()  # follows symlinks, so a planted link is caught here
        if not real.is_relative_to(root):
            raise ArtifactError(
                f"artifact path {relpath!r}: leads outside the run directory (symlink)"
            )
        if real.is_file():
            return real
    raise ArtifactError(f"artifact path {relpath!r}: no such file in the run directory")


def read_artifact(run_dir: str | Path, relpath: object, *, label: str = "") -> Artifact:
    """Read an image or audio artifact named in a report (see :func:`resolve_artifact`).

    Parameters
    ----------
    run_dir : str or Path
        The run directory.
    relpath : object
        The path as written in the report.
    label : str, optional
        A caption (e.g. ``"before"``); defaults to the file name.

    Returns
    -------
    Artifact
        The bytes, media kind and MIME type.

    Raises
    ------
    ArtifactError
        If the path is refused, the file type is not a shown media type, or the file is
        larger than ``MAX_ARTIFACT_BYTES``.
    """
    path = resolve_artifact(run_dir, relpath)
    media = MEDIA_TYPES.get(path.suffix.lower())
    if media is None:
        raise ArtifactError(
            f"artifact {relpath!r}: type {path.suffix or '(none)'} is not shown "
            f"(shown: {', '.join(sorted(MEDIA_TYPES))})"
        )
    size = path.stat().st_size
    if size > MAX_ARTIFACT_BYTES:
        raise ArtifactError(
            f"artifact {relpath!r}: {size} bytes, over the {MAX_ARTIFACT_BYTES} shown"
        )
    return Artifact(label or path.name, path, media[0], media[1], path.read_bytes())


def artifact_refs(details: dict[str, Any]) -> list[tuple[str, object]]:
    """The ``(label, path)`` pairs in a result's ``details["artifacts"]``.

    Accepts a mapping (``{"before": "artifacts/a.png", "after": ...}``), a list of paths,
    or a single path; anything else gives no pairs.
    """
    refs = details.get("artifacts")
    if isinstance(refs, dict):
        return [(str(k), v) for k, v in refs.items()]
    if isinstance(refs, list):
        return [(f"#{i + 1}", v) for i, v in enumerate(refs)]
    if isinstance(refs, str):
        return [("", refs)]
    return []
