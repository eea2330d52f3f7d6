"""Cohere Embed v4 and TwelveLabs Marengo Embed 2.7 bodies for the Bedrock stand-in.

Validation follows the AWS Bedrock user guide pages "Cohere Embed v4"
(model-parameters-embed-v4) and "TwelveLabs Marengo Embed 2.7" (model-parameters-marengo)
strictly: an unknown or missing field, a bad enum, texts and images together, more than
96 entries, an image over 5 MB, a body over ~20 MB (Cohere), a video/audio input to
``InvokeModel`` or a base model id on ``InvokeModel`` (Marengo), or text over the limit
with truncation off -> :class:`~bedrock_standin.Invalid` (400 ValidationException).

The stand-in's "tokenizer" (the real ones are not available offline) counts CLIP-style
pieces (words, single digits, punctuation runs) plus two special tokens, for both models;
truncation keeps the first (or last) pieces, joined by spaces. Vectors:
``reference_vector(model, input_type, content, dim)`` with content ``text:<kept text>``,
``image:<base64>`` or ``inputs:<canonical JSON of the content parts>`` (Cohere),
``text:<kept text>``, ``image:<base64>``, ``<option><clip>:<base64>`` (Marengo), so
tests compute expected vectors independently of the client.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
import wave
from typing import Any

import bedrock_standin as base
from bedrock_standin import COHERE, MARENGO, Invalid, _dimension, _enum, _keys, _vec

COHERE_MAX_ITEMS = 96
COHERE_MAX_BODY = 20_000_000
COHERE_MAX_TOKENS = 128_000
IMAGE_MAX_BYTES = 5_000_000
MARENGO_TOKENS = 77
IMAGE_SIGNATURES = {
    "png": base.SIGNATURES["png"],
    "jpeg": base.SIGNATURES["jpeg"],
    "gif": base.SIGNATURES["gif"],
    "webp": base.SIGNATURES["webp"],
}
_PIECES = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+")
_DATA_URI = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,(.*)$", re.DOTALL)


def tokens(text: str) -> list[str]:
    """The stand-in's tokens of ``text`` (special tokens not included)."""
    return _PIECES.findall(text.lower())


def truncated(text: str, limit: int, mode: str) -> str:
    """``text`` as the stand-in embeds it: whole, or cut to ``limit - 2`` pieces.

    ``mode``: ``RIGHT``/``end`` keep the start, ``LEFT`` keeps the end, ``NONE``/``none``
    refuse over-long text.
    """
    pieces = tokens(text)
    if len(pieces) + 2 <= limit:
        return text
    if mode in ("NONE", "none"):
        raise Invalid(f"input of {len(pieces) + 2} tokens is over the limit of {limit}")
    keep = limit - 2
    return " ".join(pieces[:keep] if mode in ("RIGHT", "end") else pieces[-keep:])


# -- Cohere Embed v4 ------------------------------------------------------------------
def cohere(body: dict[str, Any], raw: str, *, by_type: bool = False) -> dict[str, Any]:
    """Validate a Cohere Embed v4 body and answer it (``by_type``: the dict-shaped answer)."""
    if len(raw.encode()) > COHERE_MAX_BODY:
        raise Invalid(f"request body is over {COHERE_MAX_BODY} bytes")
    allowed = {
        "input_type",
        "texts",
        "images",
        "inputs",
        "embedding_types",
        "output_dimension",
        "max_tokens",
        "truncate",
    }
    _keys(body, "body", allowed, {"input_type"})
    input_type = _enum(
        body["input_type"],
        "input_type",
        {"search_document", "search_query", "classification", "clustering"},
    )
    lists = [k for k in ("texts", "images", "inputs") if k in body]
    if len(lists) != 1:
        raise Invalid(f"exactly one of texts, images, inputs is required, got {lists}")
    kind = lists[0]
    entries = body[kind]
    if not isinstance(entries, list) or not 1 <= len(entries) <= COHERE_MAX_ITEMS:
        raise Invalid(f"{kind} must be a list of 1 to {COHERE_MAX_ITEMS} entries")
    types = body.get("embedding_types", ["float"])
    if not isinstance(types, list) or not types:
        raise Invalid("embedding_types must be a non-empty list")
    for t in types:
        _enum(t, "embedding_types", {"float", "int8", "uint8", "binary", "ubinary"})
    dim = _dimension(body.get("output_dimension", 1536), "output_dimension", {256, 512, 1024, 1536})
    limit = body.get("max_tokens", COHERE_MAX_TOKENS)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= COHERE_MAX_TOKENS:
        raise Invalid(f"max_tokens must be an integer in [1, {COHERE_MAX_TOKENS}]")
    mode = _enum(body.get("truncate", "NONE"), "truncate", {"NONE", "LEFT", "RIGHT"})
    contents = [
        _cohere_content(kind, e, f"{kind}[{n}]", limit, mode) for n, e in enumerate(entries)
    ]
    vectors = [_vec(COHERE, input_type, c, dim) for c in contents]
    answer: dict[str, Any] = {"id": "standin-" + str(len(raw))}
    if len(types) == 1 and not by_type:
        answer |= {"embeddings": vectors, "response_type": "embeddings_floats"}
    else:
        # only float vectors are computed; other types are echoed as float-shaped lists
        answer |= {"embeddings": {t: vectors for t in types}, "response_type": "embeddings_by_type"}
    if kind in ("texts", "inputs"):
        answer[kind] = entries
    return answer


def _cohere_content(kind: str, entry: Any, where: str, limit: int, mode: str) -> str:
    if kind == "texts":
        if not isinstance(entry, str) or not entry:
            raise Invalid(f"{where} must be a non-empty string")
        return "text:" + truncated(entry, limit, mode)
    if kind == "images":
        return "image:" + _data_uri(entry, where)
    item = _keys(entry, where, {"content"}, {"content"})
    parts = item["content"]
    if not isinstance(parts, list) or not parts:
        raise Invalid(f"{where}.content must be a non-empty list")
    canonical = []
    for n, part in enumerate(parts):
        at = f"{where}.content[{n}]"
        if not isinstance(part, dict) or part.get("type") not in ("text", "image_url"):
            raise Invalid(f"{at}.type must be text or image_url")
        if part["type"] == "text":
            _keys(part, at, {"type", "text"}, {"type", "text"})
            if not isinstance(part["text"], str) or not part["text"]:
                raise Invalid(f"{at}.text must be a non-empty string")
            canonical.append(["text", part["text"]])
        else:
            _keys(part, at, {"type", "image_url"}, {"type", "image_url"})
            url = part["image_url"]
            # the guide shows both {"url": "data:..."} (markdown source) and a bare string
            if isinstance(url, dict):
                url = _keys(url, f"{at}.image_url", {"url"}, {"url"})["url"]
            canonical.append(["image", _data_uri(url, f"{at}.image_url")])
    return "inputs:" + json.dumps(canonical)


def _data_uri(value: Any, where: str) -> str:
    match = _DATA_URI.match(value) if isinstance(value, str) else None
    if match is None:
        raise Invalid(f"{where} must be a data:image/<png|jpeg|gif|webp>;base64,... URI")
    fmt, b64 = match.groups()
    data = _b64(b64, where)
    if len(data) > IMAGE_MAX_BYTES:
        raise Invalid(f"{where}: image is over {IMAGE_MAX_BYTES} bytes")
    if not data.startswith(IMAGE_SIGNATURES[fmt]):
        raise Invalid(f"{where}: content is not {fmt}")
    return b64


def _b64(value: str, where: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(f"{where} is not valid base64") from exc


# -- TwelveLabs Marengo Embed 2.7 -------------------------------------------------------
def marengo_sync(body: dict[str, Any]) -> dict[str, Any]:
    """Answer an ``InvokeModel`` body (text and image only)."""
    if isinstance(body, dict) and body.get("inputType") in ("video", "audio"):
        raise Invalid("InvokeModel supports text and image input only; use StartAsyncInvoke")
    return {"data": marengo_lines(body)}


def marengo_lines(body: Any) -> list[dict[str, Any]]:
    """Validate a Marengo body (any input type); the output vector objects."""
    if not isinstance(body, dict):
        raise Invalid("body must be a JSON object")
    kind = _enum(body.get("inputType"), "inputType", {"text", "image", "audio", "video"})
    if kind == "text":
        _keys(body, "body", {"inputType", "inputText", "textTruncate"}, {"inputType", "inputText"})
        text = body["inputText"]
        if not isinstance(text, str) or not text:
            raise Invalid("inputText must be a non-empty string")
        mode = _enum(body.get("textTruncate", "end"), "textTruncate", {"end", "none"})
        return [
            {"embedding": _vec(MARENGO, "", "text:" + truncated(text, MARENGO_TOKENS, mode), 1024)}
        ]
    media_keys = {"startSec", "lengthSec", "useFixedLengthSec"}
    allowed = {"inputType", "mediaSource"} | (
        set()
        if kind == "image"
        else media_keys | ({"minClipSec", "embeddingOption"} if kind == "video" else set())
    )
    _keys(body, "body", allowed, {"inputType", "mediaSource"})
    b64, data = _media_source(body["mediaSource"])
    if kind == "image":
        if len(data) > IMAGE_MAX_BYTES:
            raise Invalid(f"image is over {IMAGE_MAX_BYTES} bytes")
        if not any(data.startswith(sig) for sigs in IMAGE_SIGNATURES.values() for sig in sigs):
            raise Invalid("mediaSource is not an image")
        return [{"embedding": _vec(MARENGO, "", "image:" + b64, 1024)}]
    step = body.get("useFixedLengthSec")
    if step is not None and (not isinstance(step, int | float) or not 2 <= step <= 10):
        raise Invalid("useFixedLengthSec must be a number in [2, 10]")
    if "minClipSec" in body and body["minClipSec"] not in (1, 2, 3, 4, 5):
        raise Invalid("minClipSec must be an integer in [1, 5]")
    for key in ("startSec", "lengthSec"):
        if key in body and (not isinstance(body[key], int | float) or body[key] < 0):
            raise Invalid(f"{key} must be a number >= 0")
    clips = _clips(kind, data, step)
    if kind == "audio":
        return [
            {"embedding": _vec(MARENGO, "", f"audio{i}:{b64}", 1024), "startSec": a, "endSec": b}
            for i, (a, b) in enumerate(clips)
        ]
    options = body.get("embeddingOption", ["visual-text", "visual-image", "audio"])
    if not isinstance(options, list) or not options:
        raise Invalid("embeddingOption must be a non-empty list")
    for option in options:
        _enum(option, "embeddingOption", {"visual-text", "visual-image", "audio"})
    return [
        {
            "embedding": _vec(MARENGO, "", f"{option}{i}:{b64}", 1024),
            "embeddingOption": option,
            "startSec": a,
            "endSec": b,
        }
        for i, (a, b) in enumerate(clips)
        for option in options
    ]


def _media_source(source: Any) -> tuple[str, bytes]:
    src = _keys(source, "mediaSource", {"base64String", "s3Location"})
    if len(src) != 1:
        raise Invalid("mediaSource: exactly one of base64String, s3Location is required")
    if "s3Location" in src:
        loc = _keys(src["s3Location"], "mediaSource.s3Location", {"uri", "bucketOwner"}, {"uri"})
        if base.s3_reader is None:
            raise Invalid("mediaSource: no S3 reachable by this stand-in")
        data = base.s3_reader(loc["uri"])
        return base64.b64encode(data).decode(), data
    b64 = src["base64String"]
    if not isinstance(b64, str) or len(b64) > base.INLINE_LIMIT:
        raise Invalid(f"base64String must be a string of at most {base.INLINE_LIMIT} bytes")
    return b64, _b64(b64, "mediaSource.base64String")


def _clips(kind: str, data: bytes, step: float | None) -> list[tuple[float, float]]:
    """Clip spans: WAV by duration (fixed ``step``, or equal clips near 10 s for audio);
    other media (duration unknown here) is one clip."""
    seconds = None
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        with wave.open(io.BytesIO(data)) as w:
            seconds = w.getnframes() / w.getframerate()
    if seconds is None:
        return [(0.0, 0.0)]
    if step is None:
        n = max(1, round(seconds / 10)) if kind == "audio" else 1
        step = seconds / n
    n = max(1, math.ceil(seconds / step - 1e-9))
    return [(i * step, min(seconds, (i + 1) * step)) for i in range(n)]
