"""The ``multimodalembedding@001`` half of the Google stand-in: strict body checks, answers.

Validates a ``:predict`` body against the documented schema (Vertex "Get multimodal
embeddings" and the multimodal embeddings API reference): exactly one instance; only
``text``/``image``/``video``; ``image`` one of ``bytesBase64Encoded``/``gcsUri`` (plus
``mimeType``) in BMP/GIF/JPEG/PNG up to 20 MB; ``video`` with optional
``videoSegmentConfig`` (integers, ``intervalSec >= 4``); ``parameters.dimension`` in
{128, 256, 512, 1408} and 1408 whenever a video is present (the docs say the dimension
applies to text and image only; whether the service rejects or ignores it for video is not
documented, this stand-in rejects it). Text over 32 words is shortened, as the docs say
the model does. Vectors are hash-seeded per (kind, dimension, content), so a size served by
the service differs from a client-side truncation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import math
from typing import Any

MM = "multimodalembedding@001"
MM_DIMS = {128, 256, 512, 1408}
MM_TEXT_WORDS = 32
IMAGE_LIMIT = 20_000_000
IMAGE_SIGNATURES = (b"BM", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
DEFAULT_SEGMENT = {"startOffsetSec": 0, "endOffsetSec": 120, "intervalSec": 16}


class Invalid(Exception):
    """A body the real service would refuse with 400 INVALID_ARGUMENT."""


def keys(obj: Any, where: str, allowed: set[str], required: frozenset[str] = frozenset()) -> dict:
    """Refuse unknown and missing fields, as Google's JSON parser does."""
    if not isinstance(obj, dict):
        raise Invalid(f"{where} must be an object")
    unknown = set(obj) - allowed
    if unknown:
        raise Invalid(
            f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}" at {where}'
        )
    missing = required - set(obj)
    if missing:
        raise Invalid(f"{where}: required field(s) {sorted(missing)} missing")
    return obj


def integral(value: Any, where: str) -> int:
    """A JSON number with an integer value (protobuf sends 128 as 128.0)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise Invalid(f"{where} must be an integer, got {value!r}")
    return int(value)


def shorten(text: str, words: int) -> tuple[str, bool]:
    """The stand-in's token rule: whitespace words; longer text keeps the first ``words``."""
    parts = text.split()
    return (" ".join(parts[:words]), True) if len(parts) > words else (text, False)


def video_seconds(data: bytes) -> float:
    """Duration of a video, read with PyAV."""
    import av

    with av.open(io.BytesIO(data)) as container:
        return container.duration / 1_000_000


def segments(seconds: float, config: dict[str, int]) -> list[tuple[int, int]]:
    """``[start, end)`` segments the service answers: one per ``intervalSec``."""
    stop = min(config["endOffsetSec"], math.ceil(seconds))
    out = []
    s = config["startOffsetSec"]
    while s < stop:
        out.append((s, min(s + config["intervalSec"], stop)))
        s += config["intervalSec"]
    return out


def _b64(src: dict[str, Any], where: str) -> bytes:
    if ("bytesBase64Encoded" in src) == ("gcsUri" in src):
        raise Invalid(f"{where}: exactly one of bytesBase64Encoded, gcsUri is required")
    if "gcsUri" in src:
        raise Invalid(f"{where}.gcsUri: no Cloud Storage is reachable from this stand-in")
    value = src["bytesBase64Encoded"]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise Invalid(f"{where}.bytesBase64Encoded is not valid base64") from exc


def answer_multimodal(body: Any, vector: Any) -> dict[str, Any]:
    """The prediction for a valid body; ``vector(kind, dim, content)`` makes the vectors."""
    keys(body, "request", {"instances", "parameters"}, frozenset({"instances"}))
    instances = body["instances"]
    if not isinstance(instances, list) or len(instances) != 1:
        raise Invalid("the model supports only 1 instance per request")
    inst = keys(instances[0], "instances[0]", {"text", "image", "video"})
    if not inst:
        raise Invalid("instances[0]: one of text, image, video is required")
    params = keys(body.get("parameters", {}), "parameters", {"dimension"})
    dim = integral(params.get("dimension", 1408), "parameters.dimension")
    if dim not in MM_DIMS:
        raise Invalid(f"parameters.dimension {dim} is not one of {sorted(MM_DIMS)}")
    prediction: dict[str, Any] = {}
    if "text" in inst:
        if not isinstance(inst["text"], str) or not inst["text"].strip():
            raise Invalid("instances[0].text must be a non-empty string")
        text, _ = shorten(inst["text"], MM_TEXT_WORDS)
        prediction["textEmbedding"] = vector("text", dim, text)
    if "image" in inst:
        img = keys(
            inst["image"], "instances[0].image", {"bytesBase64Encoded", "gcsUri", "mimeType"}
        )
        data = _b64(img, "instances[0].image")
        if len(data) > IMAGE_LIMIT:
            raise Invalid(f"image is {len(data)} bytes, over {IMAGE_LIMIT}")
        if not data.startswith(IMAGE_SIGNATURES):
            raise Invalid("image must be BMP, GIF, JPG or PNG")
        prediction["imageEmbedding"] = vector("image", dim, hashlib.sha256(data).hexdigest())
    if "video" in inst:
        if dim != 1408:
            raise Invalid("parameters.dimension applies to text and image only; video is 1408")
        vid = keys(
            inst["video"],
            "instances[0].video",
            {"bytesBase64Encoded", "gcsUri", "videoSegmentConfig"},
        )
        data = _b64(vid, "instances[0].video")
        cfg_in = keys(
            vid.get("videoSegmentConfig", {}),
            "instances[0].video.videoSegmentConfig",
            {"startOffsetSec", "endOffsetSec", "intervalSec"},
        )
        cfg = {
            k: integral(cfg_in.get(k, v), f"videoSegmentConfig.{k}")
            for k, v in DEFAULT_SEGMENT.items()
        }
        if cfg["intervalSec"] < 4:
            raise Invalid("videoSegmentConfig.intervalSec: the minimal interval is 4 seconds")
        if not 0 <= cfg["startOffsetSec"] < cfg["endOffsetSec"]:
            raise Invalid("videoSegmentConfig: startOffsetSec must be < endOffsetSec")
        try:
            seconds = video_seconds(data)
        except Exception as exc:
            raise Invalid("video does not decode") from exc
        digest = hashlib.sha256(data).hexdigest()
        prediction["videoEmbeddings"] = [
            {
                "startOffsetSec": s,
                "endOffsetSec": e,
                "embedding": vector("video", 1408, f"{digest}:{s}-{e}"),
            }
            for s, e in segments(seconds, cfg)
        ]
    return prediction
