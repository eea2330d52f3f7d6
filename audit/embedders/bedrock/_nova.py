"""Amazon Nova Multimodal Embeddings on Bedrock: the ``nova`` family.

Request bodies follow the AWS documentation field for field
(``/work/shared/reference/nova-mme-api.md``): ``SINGLE_EMBEDDING`` through ``InvokeModel``
for one text, image, document page, or audio/video up to 30 s; ``SEGMENTED_EMBEDDING``
through ``StartAsyncInvoke`` for longer media (and every text/audio/video item with
``async_mode=always``), pooled by :func:`audit.embedders.bedrock._async.run_segmented`.
"""

from __future__ import annotations

from typing import Any

from audit.embedders.bedrock._async import AsyncSettings, run_segmented
from audit.embedders.bedrock._family import BedrockFamily, Settings
from audit.embedders.bedrock._media import SYNC_MAX_SECONDS, encode_inline, media_info
from audit.embedders.bedrock._models import (
    NOVA_AUDIO_FORMATS,
    NOVA_IMAGE_FORMATS,
    NOVA_VIDEO_FORMATS,
    BodyOptions,
    ModelSpec,
    Parsed,
    Part,
    check_vector,
    parse_answer,
)
from audit.embedders.bedrock._text import Finding
from audit.items import Item, ItemError

NOVA_MME = "amazon.nova-2-multimodal-embeddings-v1:0"
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
# Documented text limit (characters); longer text is truncated by the service per
# truncationMode, which we report rather than cut silently ourselves.
NOVA_TEXT_CHAR_LIMIT = 8192
_SUFFIX = {"jpg": "jpeg", "mpg": "mpg"}


def media_params(part: Part, opts: BodyOptions) -> dict[str, Any]:
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


def segmented_body(part: Part, opts: BodyOptions, settings: AsyncSettings) -> dict[str, Any]:
    """The ``modelInput`` of one ``StartAsyncInvoke`` call (``SEGMENTED_EMBEDDING``)."""
    entry = media_params(part, opts)
    kind = next(iter(entry))
    if kind == "text":
        entry[kind]["segmentationConfig"] = {"maxLengthChars": settings.segment_chars}
    else:
        entry[kind]["segmentationConfig"] = {"durationSeconds": settings.segment_seconds}
    params = {"embeddingPurpose": opts.embedding_purpose, "embeddingDimension": opts.dim}
    return {
        "schemaVersion": NOVA_SCHEMA_VERSION,
        "taskType": "SEGMENTED_EMBEDDING",
        "segmentedEmbeddingParams": params | entry,
    }


class Nova(BedrockFamily):
    """Nova MME: text, image, document, audio, video; purposes; segmented async jobs."""

    name = "nova"
    models = (
        ModelSpec(
            NOVA_MME,
            "nova",
            (3072, 1024, 384, 256),
            frozenset({"text", "image", "document", "video", "audio"}),
            NOVA_IMAGE_FORMATS,
        ),
    )
    purpose_choices = (NOVA_INDEX_PURPOSES, NOVA_QUERY_PURPOSES)
    purpose_defaults = ("GENERIC_INDEX", "GENERIC_RETRIEVAL")
    async_jobs = True
    s3_sources = True
    text_char_limit = NOVA_TEXT_CHAR_LIMIT

    def params(self, emb: Settings) -> dict[str, Any]:
        return {
            "truncation": emb.truncation,
            "image_detail": emb.image_detail,
            "video_mode": emb.video_mode,
            # segmented (async) items: segment size and the pooling rule
            "async_mode": emb.segments.mode,
            "segment_seconds": emb.segments.segment_seconds,
            "segment_chars": emb.segments.segment_chars,
            "segment_pool": "mean",
        }

    def image_detail(self, detail: str) -> str:
        return detail

    def goes_async(self, kind: str, mode: str, sync_invoke: bool) -> bool:
        return kind != "image" and mode == "always"

    def s3_part(self, item: Item, uri: str, key: str, image_detail: str) -> Part:
        suffix = key.rsplit(".", 1)[-1].lower() if "." in key else ""
        fmt = _SUFFIX.get(suffix, suffix)
        allowed = {
            "image": NOVA_IMAGE_FORMATS,
            "audio": NOVA_AUDIO_FORMATS,
            "video": NOVA_VIDEO_FORMATS,
        }[item.modality]
        if fmt not in allowed:
            raise ItemError(
                item.id,
                f"the S3 key's extension {suffix!r} is not a {item.modality} format Nova "
                f"accepts ({', '.join(allowed)}); the format is read from the key",
            )
        return Part(item.modality, uri, fmt, image_detail, source="s3")  # type: ignore[arg-type]

    def media_job(
        self, item: Item, emb: Settings, mode: str
    ) -> tuple[Part | None, str | None, bool]:
        data = item.read_bytes()
        fmt, seconds = media_info(item, data)
        over = seconds is not None and seconds > SYNC_MAX_SECONDS
        if over and mode == "never":
            return None, f"{item.id} ({seconds:.1f} s)", False
        kind = "audio" if item.modality == "audio" else "video"
        value = encode_inline(item, data, emb.media.max_inline_bytes)
        return Part(kind, value, fmt, seconds=seconds), None, mode == "always" or over

    def refusal(self, modality: str, refused: list[str]) -> str:
        return (
            f"{len(refused)} {modality} item(s) are over the {SYNC_MAX_SECONDS:g} s "
            f"a synchronous Bedrock request accepts: {', '.join(refused)}. Use Nova's "
            "asynchronous segmented path (async_mode=auto and ?s3_output=s3://bucket/prefix)"
            " or split the media into clips of at most 30 s."
        )

    def body(self, part: Part, opts: BodyOptions) -> dict[str, Any]:
        params: dict[str, Any] = {
            "embeddingPurpose": opts.embedding_purpose,
            "embeddingDimension": opts.dim,
        }
        params |= media_params(part, opts)
        return {
            "schemaVersion": NOVA_SCHEMA_VERSION,
            "taskType": "SINGLE_EMBEDDING",
            "singleEmbeddingParams": params,
        }

    def async_request(
        self, part: Part, opts: BodyOptions, emb: Settings
    ) -> tuple[dict[str, Any], str, str]:
        return segmented_body(part, opts, emb.segments), emb.model_id, "nova-async"

    def parse(self, emb: Settings, req: Any, payload: Any) -> list[Parsed]:
        """``AUDIO_VIDEO_SEPARATE`` answers carry an audio and a video vector; they are
        averaged after L2 normalisation so each stream weighs the same."""
        item_id, spec, dim = req.ids[0], emb.spec, emb.dim

        def read() -> tuple[list[Any], int | None]:
            entries = payload["embeddings"]
            if not isinstance(entries, list) or not entries:
                raise KeyError("embeddings")
            vectors = [check_vector(e["embedding"], item_id, dim, spec) for e in entries]
            lengths = [e["truncatedCharLength"] for e in entries if "truncatedCharLength" in e]
            return vectors, int(lengths[0]) if lengths else None

        return [parse_answer(spec, item_id, read)]

    def run_async(self, emb: Settings, transport: Any, req: Any) -> list[Parsed]:
        return [run_segmented(transport, req.model_id, req.body, req.ids[0], emb.segments, emb.dim)]

    def limit(self, max_tokens: int | None) -> str | None:
        return f"{NOVA_TEXT_CHAR_LIMIT:,} characters"

    def text_finding(
        self, item_id: str, text: str, mode: str, max_tokens: int | None
    ) -> Finding | None:
        if len(text) > NOVA_TEXT_CHAR_LIMIT:
            return Finding(
                item_id, "over", f"text over the documented {NOVA_TEXT_CHAR_LIMIT:,} characters"
            )
        return None
