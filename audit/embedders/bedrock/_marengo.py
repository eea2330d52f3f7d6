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
from audit.embedders.bedrock._media import audio_format, media_seconds, video_format
from audit.embedders.bedrock._models import (
    BodyOptions,
    ModelSpec,
    Parsed,
    Part,
    check_vector,
    mean_of_units,
)
from audit.embedders.bedrock._transport import Transport
from audit.items import Item, ItemError

log = logging.getLogger(__name__)

MARENGO_TEXT_TOKENS = 77
MARENGO_TRUNCATE = {"END": "end", "NONE": "none"}
VIDEO_EMBEDDINGS = ("visual-text", "visual-image", "audio")
MAX_IMAGE_BYTES = 5_000_000
MAX_MEDIA_SECONDS = 7200.0
CLIP_SECONDS = (2.0, 10.0)
ASYNC_WHY = "path (Marengo embeds audio and video only with StartAsyncInvoke)"
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


def run_async(
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
