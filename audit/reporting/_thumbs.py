"""Before/after thumbnails of red-team examples for the audit report.

A red-team result names its example images in ``details["artifacts"]``
(``{"obj.melon before": "artifacts/redteam/...-before.png", "obj.melon after": ...}``).
Those paths come from a report, so they are data from outside: only a relative path whose
real location stays inside the run folder is read (the rule of the dashboard's
``dashboard/_artifacts.py``), only up to :data:`MAX_INPUT_BYTES`, and each image is
decoded and re-encoded by Pillow as a small PNG, so whatever the file held, only a PNG of
at most :data:`THUMB_PX` pixels a side reaches the page (as a ``data:`` URI: the report
stays one self-contained file).
"""

from __future__ import annotations

import base64
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from audit.report import Report

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_PAIRS",
    "THUMB_PX",
    "Thumb",
    "ThumbError",
    "png_data_uri",
    "thumbnails",
]

log = logging.getLogger(__name__)

#: At most this many before/after pairs in a report (the first ones in result order).
MAX_PAIRS = 6
#: Largest side of a thumbnail, in pixels.
THUMB_PX = 224
#: Artifact files larger than this are not read.
MAX_INPUT_BYTES = 20 * 1024 * 1024
#: Images with more pixels than this are refused before decoding (decompression bombs).
MAX_INPUT_PIXELS = 40_000_000
_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")


class ThumbError(ValueError):
    """An artifact that is refused or cannot be read as an image."""


@dataclass(frozen=True)
class Thumb:
    """One adversarial example: the clean input and the attacked one.

    Attributes
    ----------
    id : str
        ``thumb-<result index>-<n>``: stable for anchors.
    caption : str
        Plain text naming the attack, variant/defense, budget and item (report strings:
        the renderer escapes it).
    before_uri, after_uri : str
        ``data:image/png;base64,...`` of the re-encoded images.
    """

    id: str
    caption: str
    before_uri: str
    after_uri: str


def _resolve(run_dir: Path, relpath: object) -> Path:
    """The real path of an artifact, refusing anything outside ``run_dir``."""
    if not isinstance(relpath, str) or not relpath.strip() or "\x00" in relpath:
        raise ThumbError(f"artifact path {relpath!r}: not a plain non-empty string")
    posix = PurePosixPath(relpath.replace("\\", "/"))
    if posix.is_absolute() or PureWindowsPath(relpath).drive:
        raise ThumbError(f"artifact path {relpath!r}: absolute paths are refused")
    if ".." in posix.parts:
        raise ThumbError(f"artifact path {relpath!r}: '..' components are refused")
    root = run_dir.resolve(strict=True)
    candidates = [root / posix]
    if posix.parts[0] != "artifacts":  # as the dashboard reads it: also under artifacts/
        candidates.append(root / "artifacts" / posix)
    for candidate in candidates:
        real = candidate.resolve()  # follows symlinks, so a planted link is caught here
        if not real.is_relative_to(root):
            raise ThumbError(f"artifact path {relpath!r}: leads outside the run directory")
        if real.is_file():
            return real
    raise ThumbError(f"artifact path {relpath!r}: no such file in the run directory")


def png_data_uri(path: Path) -> str:
    """Decode an image file and re-encode it as a PNG thumbnail ``data:`` URI.

    Raises
    ------
    ThumbError
        If the file is too large, not an image Pillow reads in :data:`_FORMATS`, or has
        more than :data:`MAX_INPUT_PIXELS` pixels.
    """
    from PIL import Image, UnidentifiedImageError

    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise ThumbError(f"{path.name}: {size} bytes, over the {MAX_INPUT_BYTES} read")
    try:
        with Image.open(io.BytesIO(path.read_bytes()), formats=_FORMATS) as img:
            if img.width * img.height > MAX_INPUT_PIXELS:
                raise ThumbError(f"{path.name}: {img.width}x{img.height} pixels, too large")
            img.load()
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ThumbError(f"{path.name}: not a readable image ({exc})") from exc
    # Small inputs (attack crops are 32-64 px) are scaled up without smoothing, so the
    # perturbation stays visible instead of being blurred away.
    scale = THUMB_PX / max(img.width, img.height)
    new = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.LANCZOS
    img = img.resize(new, resample)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _pairs(artifacts: object) -> list[tuple[str, object, object]]:
    """``(item, before, after)`` from a ``details["artifacts"]`` mapping."""
    if not isinstance(artifacts, dict):
        return []
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    for key, path in artifacts.items():
        label = str(key)
        for suffix, into in (("before", before), ("after", after)):
            if label == suffix or label.endswith(" " + suffix):
                into[label[: -len(suffix)].strip()] = path
    return [(item, before[item], after[item]) for item in before if item in after]


def _where(details: dict) -> str:
    eps, budget = details.get("eps_255"), details.get("budget")
    if isinstance(eps, int | float) and not isinstance(eps, bool):
        return f"eps {eps:g}/255"
    if isinstance(budget, int | float) and not isinstance(budget, bool):
        return f"budget {budget:g}"
    return ""


def thumbnails(report: Report, run_dir: Path | None) -> list[Thumb]:
    """Before/after thumbnails of the run's red-team examples (at most :data:`MAX_PAIRS`).

    An attack writes its files once and several of its metrics point at them: each set of
    files is shown once. An artifact that is refused or unreadable is logged as a warning
    naming the result and the reason, and left out (the report says how many are shown).

    Parameters
    ----------
    report : Report
        The run's report.
    run_dir : Path or None
        The run folder holding ``artifacts/``; None (a report rendered without its
        folder) gives no thumbnails.

    Returns
    -------
    list of Thumb
    """
    if run_dir is None:
        return []
    out: list[Thumb] = []
    seen: set[str] = set()
    for i, r in enumerate(report.results):
        if r.suite != "redteam":
            continue
        refs = r.details.get("artifacts")
        key = json.dumps(refs, sort_keys=True, default=str)
        if not refs or key in seen:
            continue
        seen.add(key)
        defense = r.details.get("defense")
        series = f"{r.variant} · {defense}" if isinstance(defense, str) else r.variant
        head = " · ".join(p for p in (r.check, series, _where(r.details)) if p)
        for n, (item, before, after) in enumerate(_pairs(refs)):
            if len(out) >= MAX_PAIRS:
                return out
            try:
                uris = [png_data_uri(_resolve(Path(run_dir), p)) for p in (before, after)]
            except ThumbError as exc:
                log.warning("results[%d] %s: artifact not shown: %s", i, r.check, exc)
                continue
            caption = f"{head} · {item}" if item else head
            out.append(Thumb(f"thumb-{i}-{n + 1}", caption, uris[0], uris[1]))
    return out
