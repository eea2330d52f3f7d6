"""TwelveLabs Marengo Embed 2.7 on Bedrock: bodies, sync/async routing, output, token bounds.

Facts used (AWS Bedrock user guide, "TwelveLabs Marengo Embed 2.7", page
model-parameters-marengo,
https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-marengo.html):

- Model id ``twelvelabs.marengo-embed-2-7-v1:0``. ``InvokeModel`` is offered for
  **inference profiles** (``us.twelvelabs.marengo-embed-2-7-v1:0``, ...) and takes text
  and image only; ``StartAsyncInvoke`` is offered for the **base model** and takes
  video, audio, image and text, writing its output to ``s3OutputDataConfig``.
- Body (``InvokeModel`` body or ``modelInput``): ``inputType`` (``text``, ``image``,
  ``audio``, ``video``); text: ``inputText`` and ``textTruncate`` (``end``, the default,
  cuts the end; ``none`` errors when the text exceeds the limit); media: ``mediaSource``
  with ``base64String`` or ``s3Location`` (``uri``, ``bucketOwner``); audio/video:
  ``startSec``, ``lengthSec``, ``useFixedLengthSec`` (2..10 s per clip; default: video
  cut at shot boundaries, audio in equal clips near 10 s), video ``minClipSec`` (1..5)
  and ``embeddingOption`` (``visual-text``, ``visual-image``, ``audio``; default all).
  There is no purpose/input-type and no output-size parameter.
- Limits: text 77 tokens; image 5 MB; video and audio from S3 up to 2 GB (video up to
  2 hours); inline media must keep the request body under Bedrock's 25 MB invocation
  quota.
- Response: one object per vector, ``{"embedding", "embeddingOption", "startSec",
  "endSec"}`` (clips of audio/video carry their offsets; ``embeddingOption`` for video).
- Size: 1024 (the Marengo Embed 3.0 page: "reduced from 1024 to 512").

Not in the AWS page, taken from public client code (litellm's Bedrock Marengo
transformation; an AWS-hosted demo reading job output) and marked as such: the list of
vectors comes wrapped as ``{"data": [...]}`` (a bare ``{"embedding": ...}`` object is
accepted too), and an async job writes ``output.json`` (same ``{"data": [...]}`` shape)
under the output URI ``GetAsyncInvoke`` reports. The page's examples carry typos (an
inline video under ``s3Location``, an S3 video with ``inputType: image``); the parameter
tables are followed instead.

Neither the tokenizer nor its kind is documented, so the 77-token limit is bounded, not
counted: tokens are at most the UTF-8 bytes plus two special tokens (true of byte-level
BPE and byte-fallback tokenizers), and at least the CLIP-style pre-tokenizer pieces
(words, single digits, punctuation runs) plus two, when the tokenizer is CLIP-like, as
the 77-token context suggests. Above the upper bound a text *may* be truncated; above
the lower bound it *likely* is.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import numpy as np

from audit.embedders.base import EmbeddingError
from audit.embedders.bedrock._async import AsyncSettings, split_prefix, start_and_wait
from audit.embedders.bedrock._family import (
    BedrockFamily,
    Jobs,
    Settings,
    choice,
    refuse_max_tokens,
)
from audit.embedders.bedrock._media import audio_format, encode_inline, media_seconds, video_format
from audit.embedders.bedrock._models import (
    BodyOptions,
    ModelSpec,
    Parsed,
    Part,
    check_vector,
    is_inference_profile,
    mean_of_units,
)
from audit.embedders.bedrock._text import Finding, bounded_finding
from audit.embedders.bedrock._transport import Transport
from audit.items import Item, ItemError

log = logging.getLogger(__name__)

# AWS user guide "TwelveLabs Marengo Embed 2.7" (model-parameters-marengo).
MARENGO_27 = "twelvelabs.marengo-embed-2-7-v1:0"
# The Bedrock page names no image formats; PNG and JPEG are sent as-is and anything else
# is re-encoded to PNG, the conservative choice.
MARENGO_IMAGE_FORMATS = ("png", "jpeg")
MARENGO_TEXT_TOKENS = 77
MARENGO_TRUNCATE = {"END": "end", "NONE": "none"}
VIDEO_EMBEDDINGS = ("visual-text", "visual-image", "audio")
MAX_IMAGE_BYTES = 5_000_000
MAX_MEDIA_SECONDS = 7200.0
CLIP_SECONDS = (2.0, 10.0)
ASYNC_WHY = "path (Marengo embeds audio and video only with StartAsyncInvoke)"
_BATCH_WHY = (
    "path (Marengo embeds audio/video only with StartAsyncInvoke, and text/image too "
    "when the model id is not an inference profile such as "
    "us.twelvelabs.marengo-embed-2-7-v1:0)"
)
_SPECIAL_TOKENS = 2
# CLIP's pre-tokenizer, with \p{L} spelled as [^\W\d_] for the standard re module.
_PIECES = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+")


def marengo_body(part: Part, opts: BodyOptions) -> dict[str, Any]:
    """The ``InvokeModel`` body (or async ``modelInput``) for one part."""
    if part.kind == "text":
        return {"inputType": "text", "inputText": part.value, "textTruncate": opts.truncation_mode}
    if part.source == "s3":
        source: dict[str, Any] = {"s3Location": {"uri": part.value}}
    else:
        source = {"base64String": part.value}
    body: dict[str, Any] = {"inputType": part.kind, "mediaSource": source}
    if part.kind in ("audio", "video") and opts.clip_seconds is not None:
        body["useFixedLengthSec"] = opts.clip_seconds
    if part.kind == "video":
        body["embeddingOption"] = [opts.video_embedding]
    return body


def parse_marengo(
    spec: ModelSpec, payload: Any, *, item_id: str, dim: int, option: str | None
) -> np.ndarray:
    """The item's vector: its one vector, or the mean of its unit clip vectors.

    ``option`` keeps only the video vectors of that ``embeddingOption``.

    Raises
    ------
    EmbeddingError
        Naming the item, for a malformed answer, no vector of ``option``, or a vector
        of the wrong size.
    """
    try:
        if isinstance(payload, dict) and "data" in payload:
            entries = payload["data"]
        elif isinstance(payload, dict) and "embedding" in payload:
            entries = [payload]
        else:
            raise KeyError("data")
        if not isinstance(entries, list):
            raise TypeError("data is not a list")
        if option is not None:
            entries = [e for e in entries if e.get("embeddingOption") == option]
        vectors = [check_vector(e["embedding"], item_id, dim, spec) for e in entries]
    except (KeyError, TypeError, AttributeError) as exc:
        raise EmbeddingError(
            f"{spec.model_id} returned a malformed answer for item {item_id!r} "
            f"(missing or wrong field: {exc})"
        ) from exc
    if not vectors:
        what = f" with embeddingOption {option!r}" if option else ""
        raise EmbeddingError(f"{spec.model_id} returned no vector{what} for item {item_id!r}")
    return mean_of_units(vectors)


def run_job(
    transport: Transport,
    spec: ModelSpec,
    model_input: dict[str, Any],
    item_id: str,
    settings: AsyncSettings,
    *,
    dim: int,
    option: str | None,
) -> Parsed:
    """One ``StartAsyncInvoke`` job (base model id), waited for; its ``output.json`` pooled.

    Raises
    ------
    EmbeddingError
        Naming the item: job failed or timed out, output missing or malformed.
    """
    arn, job = start_and_wait(transport, spec.model_id, model_input, item_id, settings)
    requested = settings.require_output([item_id], ASYNC_WHY)
    uri = job.get("outputDataConfig", {}).get("s3OutputDataConfig", {}).get("s3Uri", requested)
    payload = _read_output(transport, uri, arn.rsplit("/", 1)[-1], item_id)
    return Parsed(parse_marengo(spec, payload, item_id=item_id, dim=dim, option=option))


def _read_output(transport: Transport, uri: str, job_id: str, item_id: str) -> Any:
    """The ``output.json`` of a job: under the reported URI, in its job-id folder if needed."""
    split = split_prefix(uri)
    if split is None:
        raise EmbeddingError(f"async job for item {item_id!r} reported output URI {uri!r}")
    bucket, prefix = split
    if job_id not in prefix.split("/"):
        prefix = f"{prefix}/{job_id}" if prefix else job_id
    s3 = transport.s3
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
        keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith("output.json")]
    if len(keys) != 1:
        found = "no output.json" if not keys else f"{len(keys)} output.json files"
        raise EmbeddingError(
            f"async job for item {item_id!r} completed but {found} under s3://{bucket}/{prefix}/"
        )
    text = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read().decode("utf-8")
    try:
        return json.loads(text)
    except ValueError:
        raise EmbeddingError(
            f"async output for item {item_id!r} is not JSON: s3://{bucket}/{keys[0]}"
        ) from None


def token_bounds(text: str) -> tuple[int, int]:
    """``(lower, upper)`` bounds of the tokens of ``text`` (see the module docstring)."""
    lower = len(_PIECES.findall(text.lower())) + _SPECIAL_TOKENS
    upper = len(text.encode("utf-8")) + _SPECIAL_TOKENS
    return lower, upper


def media_info(item: Item, data: bytes) -> tuple[str, float | None]:
    """Format and local duration of an audio/video item, never refusing the format.

    The Bedrock page lists no audio/video formats for Marengo, so an unrecognised
    container is sent as-is (the service decides); its duration is then unknown.

    Raises
    ------
    ItemError
        When the duration is known and over the documented 2 hours.
    """
    try:
        fmt = audio_format(item, data) if item.modality == "audio" else video_format(item, data)
    except ItemError:
        fmt = ""
    seconds = media_seconds(data, fmt) if fmt else None
    if seconds is not None and seconds > MAX_MEDIA_SECONDS:
        raise ItemError(
            item.id, f"{item.modality} is {seconds:.0f} s, over Marengo's documented 2 hours"
        )
    return fmt, seconds


class Marengo(BedrockFamily):
    """Marengo 2.7: text/image through an inference profile, audio/video as async jobs."""

    name = "marengo"
    # 1024-d: the AWS page of Marengo Embed 3.0 (model-parameters-marengo-3) says its
    # "embedding dimension [was] reduced from 1024 to 512"; the 2.7 page states no size.
    models = (
        ModelSpec(
            MARENGO_27,
            "marengo",
            (1024,),
            frozenset({"text", "image", "video", "audio"}),
            MARENGO_IMAGE_FORMATS,
        ),
    )
    truncation = MARENGO_TRUNCATE
    max_image_bytes = MAX_IMAGE_BYTES
    async_jobs = True
    async_why = _BATCH_WHY
    s3_sources = True

    def options(
        self, max_tokens: int | None, video_embedding: str | None, clip_seconds: float | None
    ) -> tuple[int | None, str | None, float | None]:
        refuse_max_tokens(max_tokens)
        video_embedding = (video_embedding or "visual-text").lower()
        choice("video_embedding", video_embedding, VIDEO_EMBEDDINGS)
        low, high = CLIP_SECONDS
        if clip_seconds is not None and not low <= clip_seconds <= high:
            raise ValueError(f"clip_seconds must be in [{low:g}, {high:g}], got {clip_seconds}")
        return max_tokens, video_embedding, clip_seconds

    def sync_invoke(self, model_id: str, spec: ModelSpec) -> bool:
        # InvokeModel takes inference profiles, StartAsyncInvoke base models.
        return is_inference_profile(model_id, spec)

    def params(self, emb: Settings) -> dict[str, Any]:
        return {
            "text_truncate": emb.wire_truncation,
            "video_embedding": emb.video_embedding,
            "clip_seconds": emb.clip_seconds,
            "clip_pool": "mean",
        }

    def goes_async(self, kind: str, mode: str, sync_invoke: bool) -> bool:
        # audio/video only through StartAsyncInvoke; text/image synchronously only
        # through an inference profile
        return kind in ("audio", "video") or not (sync_invoke and mode != "always")

    def s3_part(self, item: Item, uri: str, key: str, image_detail: str) -> Part:
        # Marengo's mediaSource carries no format: the service reads the object.
        return Part(item.modality, uri, source="s3")  # type: ignore[arg-type]

    def media_job(
        self, item: Item, emb: Settings, mode: str
    ) -> tuple[Part | None, str | None, bool]:
        if mode == "never":
            return None, item.id, False
        data = item.read_bytes()
        fmt, seconds = media_info(item, data)
        value = encode_inline(item, data, emb.media.max_inline_bytes)
        kind = "audio" if item.modality == "audio" else "video"
        return Part(kind, value, fmt, seconds=seconds), None, True

    def refusal(self, modality: str, refused: list[str]) -> str:
        return (
            f"{len(refused)} {modality} item(s) refused: Marengo embeds audio and video only "
            f"through StartAsyncInvoke, which async_mode=never turns off: {', '.join(refused)}"
        )

    def check_async(self, emb: Settings, items: list[Item], jobs: Jobs, mode: str) -> None:
        if not (emb.sync_invoke and mode != "always") and mode == "never" and jobs:
            raise ValueError(
                f"{len(jobs)} item(s) ({', '.join(items[j[0]].id for j in jobs[:10])}) need "
                "StartAsyncInvoke: Marengo's InvokeModel is offered for inference profiles "
                f"only (e.g. us.{emb.spec.model_id}), and async_mode=never refuses async jobs"
            )

    def body(self, part: Part, opts: BodyOptions) -> dict[str, Any]:
        return marengo_body(part, opts)

    def async_request(
        self, part: Part, opts: BodyOptions, emb: Settings
    ) -> tuple[dict[str, Any], str, str]:
        return marengo_body(part, opts), emb.async_model_id, "marengo-async"

    def parse(self, emb: Settings, req: Any, payload: Any) -> list[Parsed]:
        option = _option(emb, req)
        vector = parse_marengo(emb.spec, payload, item_id=req.ids[0], dim=emb.dim, option=option)
        return [Parsed(vector)]

    def run_async(self, emb: Settings, transport: Any, req: Any) -> list[Parsed]:
        option = _option(emb, req)
        return [
            run_job(
                transport, emb.spec, req.body, req.ids[0], emb.segments, dim=emb.dim, option=option
            )
        ]

    def limit(self, max_tokens: int | None) -> str | None:
        return f"{MARENGO_TEXT_TOKENS} tokens"

    def text_finding(
        self, item_id: str, text: str, mode: str, max_tokens: int | None
    ) -> Finding | None:
        lower, upper = token_bounds(text)
        return bounded_finding(
            item_id,
            MARENGO_TEXT_TOKENS,
            lower,
            upper,
            lambda level: (
                f"text {level} over Marengo's documented 77-token limit (tokenizer "
                f"not documented: between {lower} and {upper} tokens); textTruncate={mode}"
            ),
        )


def _option(emb: Settings, req: Any) -> str | None:
    """The ``embeddingOption`` read from a video's answer (None for other parts)."""
    return (emb.video_embedding or "visual-text") if req.parts[0].kind == "video" else None
