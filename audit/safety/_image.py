"""Image checkers: known-bad perceptual-hash lists, and NudeNet nudity detection."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audit.safety._checker import ImageChecker
from audit.safety._decision import Finding
from audit.safety._hashing import DEFAULT_MAX_DISTANCE, HASH_BITS, image_hash
from audit.safety._hashlist import HashList
from audit.weights import verify_weights

log = logging.getLogger(__name__)

#: sha256 of the detector shipped in the nudenet 3.4.2 wheel (nudenet/320n.onnx).
NUDENET_SHA256 = "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f"
#: NudeNet labels of exposed sexual body parts (covered parts, faces, feet are not unsafe).
EXPOSED_LABELS: tuple[str, ...] = (
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "BUTTOCKS_EXPOSED",
    "ANUS_EXPOSED",
)


class HashListChecker(ImageChecker):
    """Match images against known-bad perceptual-hash lists.

    Score = ``1 - distance / bits`` of the nearest entry (1.0 for an exact match); a hit is
    a distance at most ``max_distance[algorithm]``. With ``mirror`` the horizontally
    flipped image is matched too (a mirror is a cheap, common evasion).

    Parameters
    ----------
    lists : sequence of HashList
        The lists; each may use its own algorithm.
    max_distance : mapping, optional
        Algorithm -> largest Hamming distance that matches (default: PDQ 31, pHash 10).
    mirror : bool
        Also match the mirrored image.
    """

    name = "hashlist"

    def __init__(
        self,
        lists: Sequence[HashList],
        *,
        max_distance: Mapping[str, int] | None = None,
        mirror: bool = True,
    ) -> None:
        self.lists = list(lists)
        self.max_distance = {**DEFAULT_MAX_DISTANCE, **dict(max_distance or {})}
        for alg, d in self.max_distance.items():
            if alg not in HASH_BITS or not isinstance(d, int) or not 0 <= d < HASH_BITS[alg]:
                raise ValueError(f"max_distance[{alg!r}] must be an int in [0, bits), got {d!r}")
        self.mirror = mirror

    def describe(self) -> dict[str, Any]:
        return {
            "lists": [
                {"name": hl.name, "algorithm": hl.algorithm, "entries": len(hl)}
                for hl in self.lists
            ],
            "max_distance": dict(self.max_distance),
            "mirror": self.mirror,
        }

    def image_findings(self, image: Any) -> list[Finding]:
        from PIL import ImageOps

        views = [("", image)] + ([(" (mirrored)", ImageOps.mirror(image))] if self.mirror else [])
        hashes: dict[tuple[str, str], bytes] = {}
        best: dict[str, Finding] = {}
        for hl in self.lists:
            for label, view in views:
                key = (label, hl.algorithm)
                if key not in hashes:
                    hashes[key] = image_hash(view, hl.algorithm)
                match = hl.nearest(hashes[key])
                if match is None:
                    continue
                limit = self.max_distance[hl.algorithm]
                finding = Finding(
                    category=match.category,
                    score=1.0 - match.distance / hl.bits,
                    hit=match.distance <= limit,
                    reason=(
                        f"{hl.algorithm} distance {match.distance} (limit {limit}) to entry "
                        f"{match.ref} of {match.list_name}{label}"
                    ),
                )
                old = best.get(match.category)
                if old is None or (finding.hit, finding.score) > (old.hit, old.score):
                    best[match.category] = finding
        return list(best.values())


def nudenet_file() -> Path:
    """Path of the detector the nudenet wheel ships (found without importing nudenet)."""
    import importlib.util

    spec = importlib.util.find_spec("nudenet")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the nudity checker needs the package nudenet==3.4.2")
    return Path(next(iter(spec.submodule_search_locations))) / "320n.onnx"


class NudityChecker(ImageChecker):
    """Exposed-nudity detection with NudeNet's YOLO detector (ONNX, CPU).

    Score = the highest detection confidence among ``labels``; a hit is a score at or
    above ``threshold``. The detector file is verified by sha256 before it loads.

    Parameters
    ----------
    threshold : float
        Confidence at or above which a detection counts (NudeNet reports from 0.2).
    labels : iterable of str
        NudeNet classes that count (default :data:`EXPOSED_LABELS`).
    category : str
        Policy category of a hit.
    model_path : str or Path, optional
        Detector file (default: the one in the nudenet wheel).
    expected_sha256 : str or None
        Pinned hash of the detector (``None`` skips the pin, for a user-supplied model).
    """

    name = "nudity"

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        labels: Iterable[str] = EXPOSED_LABELS,
        category: str = "sexual",
        model_path: str | Path | None = None,
        expected_sha256: str | None = NUDENET_SHA256,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"nudity threshold must be in (0, 1], got {threshold!r}")
        self.threshold = float(threshold)
        self.labels = tuple(labels)
        self.category = category
        self.model_path = Path(model_path) if model_path else None
        self.expected_sha256 = expected_sha256
        self._detector: Any = None

    def describe(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "labels": list(self.labels),
            "model_sha256": (self.expected_sha256),
        }

    @property
    def detector(self) -> Any:
        """NudeNet's ``NudeDetector`` (verified and loaded on first use)."""
        if self._detector is None:
            path = self.model_path or nudenet_file()
            verify_weights(path, self.expected_sha256)
            from nudenet import NudeDetector

            self._detector = NudeDetector(model_path=str(path))
        return self._detector

    def image_findings(self, image: Any) -> list[Finding]:
        # NudeNet's own path for files: OpenCV's BGR channel order
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8)[:, :, ::-1])
        detections = self.detector.detect(bgr)
        scored = [d for d in detections if d["class"] in self.labels]
        if not scored:
            return [Finding(self.category, 0.0, False, "no exposed-nudity detection")]
        top = max(scored, key=lambda d: d["score"])
        score = float(top["score"])
        return [
            Finding(
                self.category,
                score,
                score >= self.threshold,
                f"NudeNet {top['class']} confidence {score:.2f} (threshold {self.threshold})",
            )
        ]
