"""Bedrock embedding models: what each accepts, and its request and response shapes.

One :class:`ModelSpec` per supported model id. Request bodies follow the AWS
documentation field for field (Nova and Titan: ``/work/shared/reference/nova-mme-api.md``;
Cohere Embed v4: :mod:`audit.embedders.bedrock._cohere`; TwelveLabs Marengo Embed 2.7:
:mod:`audit.embedders.bedrock._marengo`); the parsers turn a response into float vectors
and check their length, naming the item.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from audit.embedders.base import EmbeddingError

NOVA_MME = "amazon.nova-2-multimodal-embeddings-v1:0"
TITAN_TEXT_V2 = "amazon.titan-embed-text-v2:0"
TITAN_MM_G1 = "amazon.titan-embed-image-v1"
# AWS user guide "Cohere Embed v4" (model-parameters-embed-v4): code samples use this id.
COHERE_V4 = "cohere.embed-v4:0"
# AWS user guide "TwelveLabs Marengo Embed 2.7" (model-parameters-marengo).
MARENGO_27 = "twelvelabs.marengo-embed-2-7-v1:0"

Family = Literal["nova", "titan-text", "titan-mm", "cohere", "marengo"]

NOVA_SCHEMA_VERSION = "nova-multimodal-embed-v1"
NOVA_INDEX_PURPOSES = ("GENERIC_INDEX", "CLASSIFICATION", "CLUSTERING")
NOVA_QUERY_PURPOSES = (
    "GENERIC_RETRIEVAL",
    "TEXT_RETRIEVAL",
    "IMAGE_RETRIEVAL",
    "VIDEO_RETRIEVAL",
    "DOCUMENT_RETRIEVAL",
    "AUDIO_RETRIEVAL",
    "CLASSIFICATION",
    "CLUSTERING",
)
NOVA_TRUNCATION_MODES = ("END", "START", "NONE")
NOVA_DETAIL_LEVELS = ("STANDARD_IMAGE", "DOCUMENT_IMAGE")
NOVA_VIDEO_MODES = ("AUDIO_VIDEO_COMBINED", "AUDIO_VIDEO_SEPARATE")
NOVA_IMAGE_FORMATS = ("png", "jpeg", "gif", "webp")
NOVA_AUDIO_FORMATS = ("mp3", "wav", "ogg")
NOVA_VIDEO_FORMATS = ("mp4", "mov", "mkv", "webm", "flv", "mpeg", "mpg", "wmv", "3gp")
TITAN_MM_IMAGE_FORMATS = ("png", "jpeg")
# Cohere v4: "png, jpeg, webp, or gif ... up to 5 MB" (model-parameters-embed-v4).
COHERE_IMAGE_FORMATS = ("png", "jpeg", "webp", "gif")
# Marengo 2.7: the Bedrock page names no image formats; PNG and JPEG are sent as-is and
# anything else is re-encoded to PNG, the conservative choice.
MARENGO_IMAGE_FORMATS = ("png", "jpeg")
# Documented text limit (characters); longer text is truncated by the service per
# truncationMode, which we report rather than cut silently ourselves.
NOVA_TEXT_CHAR_LIMIT = 8192


@dataclass(frozen=True)
class ModelSpec:
    """What one Bedrock embedding model accepts.

    Attributes
    ----------
    model_id : str
        The base model id.
    family : {"nova", "titan-text", "titan-mm", "cohere", "marengo"}
        Which request/response shape it speaks.
    dims : tuple of int
        Output sizes the service computes (``embeddingDimension`` / ``dimensions`` /
        ``outputEmbeddingLength``), largest first; the first is the native size.
    modalities : frozenset of str
        Item modalities the backend can send to it (documents go as page images).
    image_formats : tuple of str
        Image formats sent as-is; others are re-encoded to PNG on the client.
    """

    model_id: str
    family: Family
    dims: tuple[int, ...]
    modalities: frozenset[str]
    image_formats: tuple[str, ...] = ()

    @property
    def native_dim(self) -> int:
        """The largest (default) output size."""
        return self.dims[0]


MODELS: dict[str, ModelSpec] = {
    NOVA_MME: ModelSpec(
        NOVA_MME,
        "nova",
        (3072, 1024, 384, 256),
        frozenset({"text", "image", "document", "video", "audio"}),
        NOVA_IMAGE_FORMATS,
    ),
    TITAN_TEXT_V2: ModelSpec(TITAN_TEXT_V2, "titan-text", (1024, 512, 256), frozenset({"text"})),
    TITAN_MM_G1: ModelSpec(
        TITAN_MM_G1,
        "titan-mm",
        (1024, 384, 256),
        frozenset({"text", "image", "document"}),
        TITAN_MM_IMAGE_FORMATS,
    ),
    # output_dimension 256 | 512 | 1024 | 1536, default 1536 (model-parameters-embed-v4)
    COHERE_V4: ModelSpec(
        COHERE_V4,
        "cohere",
        (1536, 1024, 512, 256),
        frozenset({"text", "image", "document"}),
        COHERE_IMAGE_FORMATS,
    ),
    # 1024-d: the AWS page of Marengo Embed 3.0 (model-parameters-marengo-3) says its
    # "embedding dimension [was] reduced from 1024 to 512"; the 2.7 page states no size.
    MARENGO_27: ModelSpec(
        MARENGO_27,
        "marengo",
        (1024,),
        frozenset({"text", "image", "video", "audio"}),
        MARENGO_IMAGE_FORMATS,
    ),
}


def resolve_model(model_id: str) -> ModelSpec:
    """Find the spec of a model id, a cross-region profile id or a foundation-model ARN.

    ``us.amazon.nova-2-...`` (inference profile) and
    ``arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-2-...`` resolve to the
    base model's spec; the id itself is still what is sent.

    Raises
    ------
    ValueError
        For an unknown model, naming the closest supported ids.
    """
    base = model_id.rsplit("/", 1)[-1]
    for known, spec in MODELS.items():
        if base == known or base.endswith("." + known):
            return spec
    close = difflib.get_close_matches(base, list(MODELS), n=2, cutoff=0.4)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise ValueError(
        f"unsupported Bedrock model id {model_id!r}{hint} (supported: {', '.join(MODELS)})"
    )


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


def request_body(spec: ModelSpec, part: Part, opts: BodyOptions) -> dict[str, Any]:
    """The JSON body of one ``InvokeModel`` call for ``part`` (Nova and Titan models)."""
    if spec.family not in ("nova", "titan-text", "titan-mm"):
        raise AssertionError(f"{spec.family} bodies are built by their own module")
    if spec.family == "nova":
        return _nova_body(part, opts)
    if spec.family == "titan-text":
        if part.kind != "text":
            raise AssertionError(f"titan-text got a {part.kind} part")  # filtered earlier
        return {"inputText": part.value, "dimensions": opts.dim, "normalize": True}
    key = {"text": "inputText", "image": "inputImage"}[part.kind]
    return {key: part.value, "embeddingConfig": {"outputEmbeddingLength": opts.dim}}


def nova_media_params(part: Part, opts: BodyOptions) -> dict[str, Any]:
    """The modality entry of Nova's ``single``/``segmentedEmbeddingParams`` for ``part``."""
    if part.kind == "text":
        if part.source == "s3":
            text = {"truncationMode": opts.truncation_mode, "source": part.source_object()}
        else:
            text = {"truncationMode": opts.truncation_mode, "value": part.value}
        return {"text": text}
    if part.kind == "image":
        return {
            "image": {
                "format": part.format,
                "detailLevel": part.detail_level,
                "source": part.source_object(),
            }
        }
    if part.kind == "audio":
        return {"audio": {"format": part.format, "source": part.source_object()}}
    return {
        "video": {
            "format": part.format,
            "source": part.source_object(),
            "embeddingMode": opts.video_mode,
        }
    }


def _nova_body(part: Part, opts: BodyOptions) -> dict[str, Any]:
    params: dict[str, Any] = {
        "embeddingPurpose": opts.embedding_purpose,
        "embeddingDimension": opts.dim,
    }
    params |= nova_media_params(part, opts)
    return {
        "schemaVersion": NOVA_SCHEMA_VERSION,
        "taskType": "SINGLE_EMBEDDING",
        "singleEmbeddingParams": params,
    }


@dataclass(frozen=True)
class Parsed:
    """One response: the vector and, for Nova text, the reported ``truncatedCharLength``."""

    vector: np.ndarray
    truncated_char_length: int | None = None


def parse_response(spec: ModelSpec, payload: Any, *, item_id: str, dim: int) -> Parsed:
    """Extract the embedding of one response and check its size.

    ``AUDIO_VIDEO_SEPARATE`` answers carry an audio and a video vector; they are averaged
    after L2 normalisation so each stream weighs the same.

    Raises
    ------
    EmbeddingError
        Naming the item, for a malformed answer or a vector that is not ``dim`` long.
    """
    truncated: int | None = None
    try:
        if spec.family == "nova":
            entries = payload["embeddings"]
            if not isinstance(entries, list) or not entries:
                raise KeyError("embeddings")
            vectors = [check_vector(e["embedding"], item_id, dim, spec) for e in entries]
            lengths = [e["truncatedCharLength"] for e in entries if "truncatedCharLength" in e]
            truncated = int(lengths[0]) if lengths else None
        else:
            vectors = [check_vector(payload["embedding"], item_id, dim, spec)]
    except (KeyError, TypeError) as exc:
        raise EmbeddingError(
            f"{spec.model_id} returned a malformed answer for item {item_id!r} "
            f"(missing or wrong field: {exc})"
        ) from exc
    return Parsed(mean_of_units(vectors), truncated)


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
