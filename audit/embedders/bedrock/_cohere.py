"""Cohere Embed v4 on Bedrock: request bodies, batching, response parsing, token bounds.

Facts used (AWS Bedrock user guide, "Cohere Embed v4", page model-parameters-embed-v4,
https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed-v4.html):

- ``InvokeModel`` body: ``input_type`` (required: ``search_document``, ``search_query``,
  ``classification``, ``clustering``), one of ``texts`` (strings), ``images`` (data-URI
  base64 images) or ``inputs`` (items with a ``content`` list of ``{"type": "text",
  "text"}`` / ``{"type": "image_url", "image_url": {"url": data-URI}}`` parts, for
  interleaved page-like content); ``embedding_types`` (``float``, ``int8``, ``uint8``,
  ``binary``, ``ubinary``; default float), ``output_dimension`` (256, 512, 1024, 1536;
  default 1536), ``max_tokens`` (truncation budget per input, up to ~128,000) and
  ``truncate`` (``NONE`` errors on over-length input, ``LEFT`` drops tokens from the
  start, ``RIGHT`` from the end). ``texts`` and ``images`` are never sent together.
- Limits: at most 96 texts, 96 images or 96 ``inputs`` items per call; "request size cap:
  ~20 MB total payload"; image files png, jpeg, webp or gif, up to 5 MB each; about
  128k input tokens; an image costs about ``pixels / 784 * 4`` tokens.
- Response: one vector per text or ``inputs`` item, in order. With a single embedding
  type, ``{"id", "embeddings": [[...]], "response_type": "embeddings_floats", "texts" |
  "inputs"}``; with several, ``{"embeddings": {"float": [[...]], ...}, "response_type":
  "embeddings_by_type", ...}``. Third-party clients report the by-type shape even for
  ``["float"]``, so both are accepted.

Sources disagree on one detail: the rendered HTML page writes ``"image_url":
"data:..."`` (a string) while the page's markdown source and its examples use
``"image_url": {"url": "data:..."}`` (Cohere's own API shape); the object form is sent.

The tokenizer is not available offline, so over-length text is bounded, not counted:
a subword tokenizer emits at most one token per UTF-8 byte, so text of at most
``limit - 2`` bytes is certainly within the limit; the guide's "1 token is about 4
characters" (Cohere Embed v3 page) gives the estimate used for "likely truncated".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from audit.embedders.base import EmbeddingError
from audit.embedders.bedrock._family import (
    BedrockFamily,
    Jobs,
    Planned,
    Settings,
    refuse_clip_options,
)
from audit.embedders.bedrock._models import BodyOptions, ModelSpec, Parsed, Part, check_vector
from audit.embedders.bedrock._text import Finding, bounded_finding
from audit.items import ItemError

# AWS user guide "Cohere Embed v4" (model-parameters-embed-v4): code samples use this id.
COHERE_V4 = "cohere.embed-v4:0"
# Cohere v4: "png, jpeg, webp, or gif ... up to 5 MB" (model-parameters-embed-v4).
COHERE_IMAGE_FORMATS = ("png", "jpeg", "webp", "gif")

COHERE_INPUT_TYPES = ("search_document", "search_query", "classification", "clustering")
# Our truncation option names the end that is cut; Cohere's LEFT/RIGHT are accepted too.
COHERE_TRUNCATE = {
    "END": "RIGHT",
    "RIGHT": "RIGHT",
    "START": "LEFT",
    "LEFT": "LEFT",
    "NONE": "NONE",
}
MAX_ITEMS_PER_CALL = 96
# "~20 MB total payload": the decimal reading, the smaller one, so no batch is over.
MAX_REQUEST_BYTES = 20_000_000
MAX_IMAGE_BYTES = 5_000_000
MAX_TOKENS = 128_000
CHARS_PER_TOKEN = 4
_SPECIAL_TOKENS = 2
# Bytes of a body besides its list entries (keys, input_type, sizes): a generous bound.
_BODY_OVERHEAD = 512


def data_uri(part: Part) -> str:
    """``data:image/<format>;base64,...`` of an image part."""
    return f"data:image/{part.format};base64,{part.value}"


def field_of(part: Part) -> str:
    """Which list a part goes in: ``texts``, ``images`` or ``inputs`` (document pages)."""
    if part.kind == "text":
        return "texts"
    return "inputs" if part.page is not None else "images"


def entry_of(part: Part) -> Any:
    """The list element that carries ``part``."""
    field = field_of(part)
    if field == "texts":
        return part.value
    if field == "images":
        return data_uri(part)
    return {"content": [{"type": "image_url", "image_url": {"url": data_uri(part)}}]}


def cohere_body(parts: Sequence[Part], opts: BodyOptions) -> dict[str, Any]:
    """The ``InvokeModel`` body embedding ``parts`` (all of one :func:`field_of`)."""
    fields = {field_of(p) for p in parts}
    if len(fields) != 1 or not 1 <= len(parts) <= MAX_ITEMS_PER_CALL:
        raise AssertionError(f"a Cohere request holds 1..96 parts of one kind, got {fields}")
    body: dict[str, Any] = {"input_type": opts.embedding_purpose}
    body[fields.pop()] = [entry_of(p) for p in parts]
    body["embedding_types"] = ["float"]
    body["output_dimension"] = opts.dim
    body["truncate"] = opts.truncation_mode
    if opts.max_tokens is not None:
        body["max_tokens"] = opts.max_tokens
    return body


def batch_jobs(parts: Sequence[Part], item_ids: Sequence[str]) -> list[list[int]]:
    """Group part indices into requests: one kind each, at most 96, under the size cap.

    Order is kept within each kind, so the i-th vector of an answer maps back to the
    i-th part of its request.

    Raises
    ------
    ItemError
        When one part alone would make a request over the ~20 MB payload cap.
    """
    overhead = _BODY_OVERHEAD
    groups: dict[str, list[list[int]]] = {}
    sizes: dict[str, int] = {}
    for i, part in enumerate(parts):
        size = len(json.dumps(entry_of(part), separators=(",", ":"))) + 1
        if overhead + size > MAX_REQUEST_BYTES:
            raise ItemError(
                item_ids[i],
                f"{field_of(part)[:-1]} of {size:,} bytes makes a Cohere request over the "
                f"documented ~20 MB payload cap ({MAX_REQUEST_BYTES:,} bytes)",
            )
        field = field_of(part)
        batches = groups.setdefault(field, [])
        if (
            not batches
            or len(batches[-1]) >= MAX_ITEMS_PER_CALL
            or sizes[field] + size > MAX_REQUEST_BYTES
        ):
            batches.append([])
            sizes[field] = overhead
        batches[-1].append(i)
        sizes[field] += size
    return [batch for batches in groups.values() for batch in batches]


def parse_cohere(
    spec: ModelSpec, payload: Any, *, item_ids: Sequence[str], dim: int
) -> list[np.ndarray]:
    """One vector per part of a request, in order; errors name the items.

    Raises
    ------
    EmbeddingError
        For a malformed answer, a vector count other than the request's, or a vector of
        the wrong size.
    """
    try:
        embeddings = payload["embeddings"]
        rows = embeddings["float"] if isinstance(embeddings, dict) else embeddings
        if not isinstance(rows, list):
            raise TypeError("embeddings is not a list")
    except (KeyError, TypeError) as exc:
        raise EmbeddingError(
            f"{spec.model_id} returned a malformed answer for item(s) {_names(item_ids)} "
            f"(missing or wrong field: {exc})"
        ) from exc
    if len(rows) != len(item_ids):
        raise EmbeddingError(
            f"{spec.model_id} returned {len(rows)} vector(s) for a request of "
            f"{len(item_ids)} part(s): {_names(item_ids)}"
        )
    return [
        check_vector(row, item_id, dim, spec) for row, item_id in zip(rows, item_ids, strict=True)
    ]


def token_bounds(text: str) -> tuple[int, int]:
    """``(estimate, upper bound)`` of the tokens of ``text`` (special tokens included)."""
    upper = len(text.encode("utf-8")) + _SPECIAL_TOKENS
    estimate = -(-len(text) // CHARS_PER_TOKEN) + _SPECIAL_TOKENS
    return estimate, upper


def _names(item_ids: Sequence[str], limit: int = 5) -> str:
    unique = list(dict.fromkeys(item_ids))
    more = f" and {len(unique) - limit} more" if len(unique) > limit else ""
    return ", ".join(repr(i) for i in unique[:limit]) + more


class Cohere(BedrockFamily):
    """Cohere Embed v4: up to 96 texts, images or pages per request; input types."""

    name = "cohere"
    # output_dimension 256 | 512 | 1024 | 1536, default 1536 (model-parameters-embed-v4)
    models = (
        ModelSpec(
            COHERE_V4,
            "cohere",
            (1536, 1024, 512, 256),
            frozenset({"text", "image", "document"}),
            COHERE_IMAGE_FORMATS,
        ),
    )
    truncation = COHERE_TRUNCATE
    purpose_choices = (COHERE_INPUT_TYPES, COHERE_INPUT_TYPES)
    purpose_defaults = ("search_document", "search_query")
    purpose_case = staticmethod(str.lower)
    purpose_params = ("index_input_type", "query_input_type")
    batch_size = MAX_ITEMS_PER_CALL  # one full request per chunk
    max_image_bytes = MAX_IMAGE_BYTES

    def options(
        self, max_tokens: int | None, video_embedding: str | None, clip_seconds: float | None
    ) -> tuple[int | None, str | None, float | None]:
        if max_tokens is not None and not 1 <= max_tokens <= MAX_TOKENS:
            raise ValueError(f"max_tokens must be in [1, {MAX_TOKENS}], got {max_tokens}")
        refuse_clip_options(video_embedding, clip_seconds)
        return max_tokens, None, None

    def params(self, emb: Settings) -> dict[str, Any]:
        return {
            "truncate": emb.wire_truncation,
            "max_tokens": emb.max_tokens,
            "embedding_types": ["float"],
        }

    def body(self, part: Part, opts: BodyOptions) -> dict[str, Any]:
        return cohere_body([part], opts)

    def plan(
        self, jobs: Jobs, segmented: set[int], opts: BodyOptions, emb: Settings, ids: list[str]
    ) -> list[Planned]:
        groups = batch_jobs([p for _, p in jobs], ids)
        return [
            (g, cohere_body([jobs[n][1] for n in g], opts), emb.model_id, "sync") for g in groups
        ]

    def parse(self, emb: Settings, req: Any, payload: Any) -> list[Parsed]:
        vectors = parse_cohere(emb.spec, payload, item_ids=list(req.ids), dim=emb.dim)
        return [Parsed(v) for v in vectors]

    def limit(self, max_tokens: int | None) -> str | None:
        return f"{max_tokens or MAX_TOKENS:,} tokens"

    def text_finding(
        self, item_id: str, text: str, mode: str, max_tokens: int | None
    ) -> Finding | None:
        limit = max_tokens or MAX_TOKENS
        estimate, upper = token_bounds(text)
        return bounded_finding(
            item_id,
            limit,
            estimate,
            upper,
            lambda level: (
                f"text {level} over the {limit:,}-token limit (tokenizer not "
                f"available offline: at most {upper:,} tokens by UTF-8 bytes, about "
                f"{estimate:,} at 4 characters per token); truncate={mode}"
            ),
        )
