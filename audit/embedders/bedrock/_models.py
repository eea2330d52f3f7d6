"""What every Bedrock family shares: model specs, request parts, answers, vector checks.

A family's own request bodies and parsers live in its module (``_nova``, ``_titan_text``,
``_titan_mm``, ``_cohere``, ``_marengo``; see :mod:`._family`); the helpers here turn an
answer into float vectors and check their length, naming the item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from audit.embedders.base import EmbeddingError

# Nova's formats: also what the shared media reader (:mod:`._media`) recognises.
NOVA_IMAGE_FORMATS = ("png", "jpeg", "gif", "webp")
NOVA_AUDIO_FORMATS = ("mp3", "wav", "ogg")
NOVA_VIDEO_FORMATS = ("mp4", "mov", "mkv", "webm", "flv", "mpeg", "mpg", "wmv", "3gp")


@dataclass(frozen=True)
class ModelSpec:
    """What one Bedrock embedding model accepts.

    Attributes
    ----------
    model_id : str
        The base model id.
    family : str
        The registered family (:mod:`._families`) whose request/response shape it speaks.
    dims : tuple of int
        Output sizes the service computes (``embeddingDimension`` / ``dimensions`` /
        ``outputEmbeddingLength``), largest first; the first is the native size.
    modalities : frozenset of str
        Item modalities the backend can send to it (documents go as page images).
    image_formats : tuple of str
        Image formats sent as-is; others are re-encoded to PNG on the client.
    """

    model_id: str
    family: str
    dims: tuple[int, ...]
    modalities: frozenset[str]
    image_formats: tuple[str, ...] = ()

    @property
    def native_dim(self) -> int:
        """The largest (default) output size."""
        return self.dims[0]


@dataclass(frozen=True)
class Part:
    """One request's content: a text, or one media blob already base64-encoded.

    Attributes
    ----------
    kind : {"text", "image", "audio", "video"}
        What the request carries (a document page is an ``image``).
    value : str
        The text, or the base64 of the media bytes.
    format : str
        Media format as the API spells it (empty for text).
    detail_level : str
        Nova image detail level (``STANDARD_IMAGE`` or ``DOCUMENT_IMAGE``).
    source : {"bytes", "s3"}
        Whether ``value`` is base64 bytes (or the text) or an ``s3://bucket/key`` URI.
    seconds : float or None
        Duration of audio/video where known locally (for the usage counters).
    page : int or None
        1-based page number when the part is a rendered document page.
    """

    kind: Literal["text", "image", "audio", "video"]
    value: str
    format: str = ""
    detail_level: str = "STANDARD_IMAGE"
    source: Literal["bytes", "s3"] = "bytes"
    seconds: float | None = None
    page: int | None = None

    def source_object(self) -> dict[str, Any]:
        """The API's SourceObject: ``{"bytes": ...}`` or ``{"s3Location": {"uri": ...}}``."""
        if self.source == "s3":
            return {"s3Location": {"uri": self.value}}
        return {"bytes": self.value}


@dataclass(frozen=True)
class BodyOptions:
    """The output-changing request settings of one embedder, as the API spells them.

    ``embedding_purpose`` is Nova's ``embeddingPurpose`` or Cohere's ``input_type``;
    ``truncation_mode`` is Nova's ``truncationMode``, Cohere's ``truncate`` or Marengo's
    ``textTruncate``.
    """

    dim: int
    embedding_purpose: str
    truncation_mode: str = "END"
    video_mode: str = "AUDIO_VIDEO_COMBINED"
    max_tokens: int | None = None
    video_embedding: str = "visual-text"
    clip_seconds: float | None = None


@dataclass(frozen=True)
class Parsed:
    """One response: the vector and, for Nova text, the reported ``truncatedCharLength``."""

    vector: np.ndarray
    truncated_char_length: int | None = None


def parse_answer(
    spec: ModelSpec, item_id: str, read: Callable[[], tuple[list[np.ndarray], int | None]]
) -> Parsed:
    """The :class:`Parsed` of one answer: ``read()`` gives its vectors and reported
    truncation; several vectors are pooled by :func:`mean_of_units`.

    Raises
    ------
    EmbeddingError
        Naming the item, when ``read`` misses a field (KeyError, TypeError).
    """
    try:
        vectors, truncated = read()
    except (KeyError, TypeError) as exc:
        raise EmbeddingError(
            f"{spec.model_id} returned a malformed answer for item {item_id!r} "
            f"(missing or wrong field: {exc})"
        ) from exc
    return Parsed(mean_of_units(vectors), truncated)


def parse_embedding(spec: ModelSpec, payload: Any, *, item_id: str, dim: int) -> Parsed:
    """The answer ``{"embedding": [...]}`` (Titan models), its size checked."""
    return parse_answer(
        spec, item_id, lambda: ([check_vector(payload["embedding"], item_id, dim, spec)], None)
    )


def mean_of_units(vectors: list[np.ndarray]) -> np.ndarray:
    """The one vector, or the mean of the L2-normalised vectors (each weighs the same)."""
    if len(vectors) == 1:
        return vectors[0]
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN rows are caught downstream
        unit = [v / np.linalg.norm(v) for v in vectors]
    return np.mean(unit, axis=0).astype(np.float32)


def check_vector(values: Any, item_id: str, dim: int, spec: ModelSpec) -> np.ndarray:
    """``values`` as float32; an :class:`EmbeddingError` naming the item unless ``dim`` long."""
    try:
        # None (JSON null) becomes NaN here and is reported by the base's NaN check.
        vec = np.asarray(values, dtype=np.float64).astype(np.float32)
    except (TypeError, ValueError) as exc:
        raise EmbeddingError(
            f"{spec.model_id} returned a non-numeric embedding for item {item_id!r}"
        ) from exc
    if vec.shape != (dim,):
        raise EmbeddingError(
            f"{spec.model_id} returned a vector of shape {vec.shape} for item {item_id!r}; "
            f"expected ({dim},)"
        )
    return vec


def is_inference_profile(model_id: str, spec: ModelSpec) -> bool:
    """Whether ``model_id`` names a cross-region inference profile (``us.<model-id>``, ...).

    Foundation-model ids and ARNs are not profiles; a profile ARN
    (``arn:...:inference-profile/us.<model-id>``) is.
    """
    base = model_id.rsplit("/", 1)[-1]
    return base != spec.model_id and base.endswith("." + spec.model_id)
