"""``multimodalembedding@001`` request bodies and answers, built and read offline.

Request (REST ``:predict``; Google's samples: "The model supports only 1 instance per
request")::

    {"instances": [{"text": "..."} | {"image": {"bytesBase64Encoded": "..."}}
                   | {"video": {"bytesBase64Encoded": "...",
                                "videoSegmentConfig": {"startOffsetSec": 0,
                                                       "endOffsetSec": 120,
                                                       "intervalSec": 16}}}],
     "parameters": {"dimension": 128 | 256 | 512 | 1408}}

Answer: ``{"predictions": [{"textEmbedding": [...]} | {"imageEmbedding": [...]} |
{"videoEmbeddings": [{"startOffsetSec", "endOffsetSec", "embedding"}]}]}``.

Pooling to one vector per item: a document is the mean of its unit page vectors; a video
is the mean of its unit segment vectors weighted by segment length (all windows
together), so a video's vector does not depend on how it was cut into requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from audit.embedders.base import EmbeddingError
from audit.embedders.google._media import (
    MediaSettings,
    image_b64,
    inline_b64,
    pdf_pages,
    video_format,
    video_seconds,
    video_windows,
)
from audit.embedders.google._transport import Request
from audit.items import BadItemsError, Item, ItemError

_ANSWER_KEY = {"text": "textEmbedding", "image": "imageEmbedding", "video": "videoEmbeddings"}


class Prepared(list[Request]):
    """The requests of one embed call, and what was left out of each item.

    Attributes
    ----------
    pages_cut : dict
        Item id -> (embedded, total) PDF pages.
    video_cut : dict
        Item id -> total seconds (only the first ``video_max_seconds`` are sent).
    """

    def __init__(
        self,
        requests: list[Request],
        pages_cut: dict[str, tuple[int, int]],
        video_cut: dict[str, float],
    ) -> None:
        super().__init__(requests)
        self.pages_cut = pages_cut
        self.video_cut = video_cut

    @property
    def requests(self) -> list[Request]:
        """The requests, in order."""
        return list(self)


def plain(value: Any) -> Any:
    """Protobuf ``Value`` containers (proto-plus maps and lists) as dicts, lists and floats.

    proto-plus keeps NaN/inf as floats, where JSON serialisation of the message would fail,
    so an unusable answer is named as such rather than as a client error.
    """
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(v) for v in value]
    return value


def kind_of(req: Request) -> str:
    """``text``, ``image`` or ``video``: what the request's one instance carries."""
    (key,) = req.body["instances"][0].keys()
    return key


def prepare(items: Sequence[Item], dim: int, settings: MediaSettings) -> Prepared:
    """Requests for every item; every bad item is reported at once (:class:`ItemError`)."""
    requests: list[Request] = []
    errors: list[ItemError] = []
    pages_cut: dict[str, tuple[int, int]] = {}
    video_cut: dict[str, float] = {}

    def add(i: int, label: str, instance: dict[str, Any], units: dict[str, int | float]) -> None:
        body = {"instances": [instance], "parameters": {"dimension": dim}}
        requests.append(Request((i,), label, body, units))

    for i, item in enumerate(items):
        try:
            if item.modality == "text":
                text = str(item.content)
                add(i, item.id, {"text": text}, {"text_chars": len(text)})
            elif item.modality == "image":
                b64 = image_b64(item, item.read_bytes(), settings)
                add(i, item.id, {"image": {"bytesBase64Encoded": b64}}, {"images": 1})
            elif item.modality == "document":
                pngs, n_pages = pdf_pages(item, settings)
                if n_pages > len(pngs):
                    pages_cut[item.id] = (len(pngs), n_pages)
                for p, png in enumerate(pngs):
                    b64 = image_b64(item, png, settings, f"page {p + 1} as PNG")
                    label = f"{item.id} page {p + 1}"
                    add(i, label, {"image": {"bytesBase64Encoded": b64}}, {"images": 1})
            elif item.modality == "video":
                data = item.read_bytes()
                video_format(item, data)
                seconds = video_seconds(item, data)
                windows, cut = video_windows(seconds, settings)
                if cut:
                    video_cut[item.id] = seconds
                b64 = inline_b64(item, data, settings.max_inline_bytes, "video")
                for w in windows:
                    video = {
                        "bytesBase64Encoded": b64,
                        "videoSegmentConfig": {
                            "startOffsetSec": w.start,
                            "endOffsetSec": w.end,
                            "intervalSec": settings.video_interval,
                        },
                    }
                    label = f"{item.id} [{w.start}-{w.end}s]"
                    add(i, label, {"video": video}, {"media_seconds": w.seconds})
            else:
                raise ItemError(item.id, f"multimodalembedding does not embed {item.modality}")
        except ItemError as exc:
            errors.append(exc)
    if errors:
        raise BadItemsError(errors)
    return Prepared(requests, pages_cut, video_cut)


def parse(req: Request, prediction: Any, dim: int, model: str) -> list[tuple[float, np.ndarray]]:
    """``(weight, vector)`` pairs of one answer, each checked; errors name the request."""
    kind = kind_of(req)
    key = _ANSWER_KEY[kind]
    if not isinstance(prediction, dict) or key not in prediction:
        raise EmbeddingError(f"{model} answered no {key} for {req.label!r}")
    if kind != "video":
        return [(1.0, _vector(prediction[key], dim, model, req.label))]
    segments = prediction[key]
    if not isinstance(segments, list) or not segments:
        raise EmbeddingError(f"{model} answered no video segments for {req.label!r}")
    out = []
    for n, seg in enumerate(segments):
        where = f"{req.label} segment {n}"
        if not isinstance(seg, dict) or "embedding" not in seg:
            raise EmbeddingError(f"{model} answered a malformed video segment for {where!r}")
        weight = float(seg.get("endOffsetSec", 0)) - float(seg.get("startOffsetSec", 0))
        out.append((max(weight, 0.0), _vector(seg["embedding"], dim, model, where)))
    return out


def _vector(values: Any, dim: int, model: str, where: str) -> np.ndarray:
    try:
        vec = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise EmbeddingError(f"{model} answered non-numeric values for {where!r}") from None
    if vec.shape != (dim,):
        raise EmbeddingError(
            f"{model} answered a vector of shape {vec.shape} for {where!r}; expected ({dim},)"
        )
    if not np.isfinite(vec).all():
        raise EmbeddingError(f"{model} answered NaN/inf values for {where!r}")
    return vec


def pool(parts: Sequence[tuple[float, np.ndarray]]) -> np.ndarray:
    """One raw row: the part itself, or the weighted mean of unit parts (equal weights if
    every weight is zero)."""
    if len(parts) == 1:
        return parts[0][1]  # raw: the caller checks zero rows and normalises
    weights = np.array([w for w, _ in parts], dtype=np.float64)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        units = np.stack([v / np.linalg.norm(v) for _, v in parts]).astype(np.float64)
    return (weights[:, None] * units).sum(axis=0).astype(np.float32) / np.float32(weights.sum())
