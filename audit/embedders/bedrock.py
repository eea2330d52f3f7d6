"""Amazon Bedrock embedders: Nova Multimodal Embeddings, Titan Text V2, Titan Multimodal G1.

Spec: ``bedrock:<model-id>[?option=value&...]``, e.g.
``bedrock:amazon.nova-2-multimodal-embeddings-v1:0?dim=1024&region=us-east-1``.
See docs/embedders.md ("## bedrock:") for the options, the purpose mapping and limits.

One ``InvokeModel`` call per item (per page for documents), run on a small thread pool,
results kept in input order. Media is prepared and checked on the client first (format,
duration, 25 MB inline limit), so bad items fail before anything is sent.

Sizes: ``dim`` is the size *requested from the service*, and enters the fingerprint (so
the cache key). ``embed(dim=k)`` with k a size the service serves sends
``embeddingDimension=k`` through a sibling embedder whose fingerprint carries k; any
other k is a client-side truncation of the ``dim``-sized vector.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.embedders._bedrock_async import AsyncSettings, run_segmented, segmented_body
from audit.embedders._bedrock_media import (
    INLINE_LIMIT_BYTES,
    SYNC_MAX_SECONDS,
    MediaSettings,
    document_parts,
    encode_inline,
    image_part,
    media_info,
)
from audit.embedders._bedrock_models import (
    NOVA_DETAIL_LEVELS,
    NOVA_INDEX_PURPOSES,
    NOVA_MME,
    NOVA_QUERY_PURPOSES,
    NOVA_TEXT_CHAR_LIMIT,
    NOVA_TRUNCATION_MODES,
    NOVA_VIDEO_MODES,
    BodyOptions,
    ModelSpec,
    Parsed,
    Part,
    parse_response,
    request_body,
    resolve_model,
)
from audit.embedders._bedrock_s3 import embed_with_s3, is_s3_item, s3_part
from audit.embedders._bedrock_transport import (
    BedrockCallError,
    RetryPolicy,
    Transport,
    failure_of,
)
from audit.embedders._usage import BudgetExceededError, Usage
from audit.embedders.base import BaseEmbedder, EmbeddingError, Purpose
from audit.items import BadItemsError, Item, ItemError

__all__ = [
    "AsyncSettings",
    "BedrockCallError",
    "BedrockEmbedder",
    "BudgetExceededError",
    "RetryPolicy",
    "from_spec",
]

log = logging.getLogger(__name__)


@dataclass
class _Shared:
    """State an embedder shares with its per-dimension siblings."""

    transport: Transport
    notes: dict[str, list[str]] = field(default_factory=dict)
    siblings: dict[int, BedrockEmbedder] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class BedrockEmbedder(BaseEmbedder):
    """Embeddings from Amazon Bedrock through boto3's ``bedrock-runtime`` client.

    Parameters
    ----------
    model_id : str
        ``amazon.nova-2-multimodal-embeddings-v1:0`` (text, image, document, video,
        audio), ``amazon.titan-embed-text-v2:0`` (text) or ``amazon.titan-embed-image-v1``
        (text, image, document); cross-region profile ids and model ARNs also resolve.
    dim : int, optional
        Size requested from the service (Nova 3072/1024/384/256, Titan Text V2
        1024/512/256, Titan MM G1 1024/384/256). Default: the model's largest.
    region, endpoint_url, profile : str, optional
        Client settings; unset values come from boto3's standard configuration
        (``AWS_REGION``, ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``, ...). Region falls back
        to us-east-1. Credentials always come from boto3's standard chain.
    index_purpose, query_purpose : str
        Nova ``embeddingPurpose`` for ``purpose="index"`` / ``"query"``. Index: one of
        GENERIC_INDEX (default), CLASSIFICATION, CLUSTERING. Query: GENERIC_RETRIEVAL
        (default, for mixed indexes) or the retrieval purpose matching what the queries
        search (IMAGE_RETRIEVAL, DOCUMENT_RETRIEVAL, VIDEO_RETRIEVAL, ...).
    truncation : {"END", "START", "NONE"}
        Nova text ``truncationMode``.
    image_detail : {"STANDARD_IMAGE", "DOCUMENT_IMAGE"}
        Nova ``detailLevel`` for image items (document pages always use DOCUMENT_IMAGE).
    video_mode : {"AUDIO_VIDEO_COMBINED", "AUDIO_VIDEO_SEPARATE"}
        Nova video ``embeddingMode``; SEPARATE's two vectors are averaged.
    doc_max_pages, doc_dpi : int
        PDF pages embedded per document (the rest are reported, not sent) and the
        rendering resolution.
    max_inline_bytes : int
        Inline request limit, after base64 (default 25,000,000).
    max_workers : int
        Concurrent requests.
    retry : RetryPolicy, optional
        Backoff policy for transient errors.
    connect_timeout, read_timeout : float
        Socket timeouts per attempt, in seconds.
    client : object, optional
        A prebuilt ``bedrock-runtime`` client (otherwise built on first use).
    max_requests : int, optional
        Request budget of this embedder and its siblings (attempts, retries included);
        a batch that would exceed it fails before sending (:class:`BudgetExceededError`).
    async_mode : {"auto", "always", "never"}
        Which audio/video/text items use the asynchronous segmented path (Nova only);
        see :class:`~audit.embedders._bedrock_async.AsyncSettings`.
    s3_output : str, optional
        ``s3://bucket[/prefix]`` for async job output (required when a job runs).
    segment_seconds, segment_chars : int
        Nova ``segmentationConfig`` for media (1..30 s) and text (800..50,000 chars).
    async_timeout, poll_interval : float
        Most seconds to wait per async job, and the first wait between status polls.
    """

    batch_size = 64

    def __init__(
        self,
        model_id: str = NOVA_MME,
        *,
        dim: int | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        index_purpose: str = "GENERIC_INDEX",
        query_purpose: str = "GENERIC_RETRIEVAL",
        truncation: str = "END",
        image_detail: str = "STANDARD_IMAGE",
        video_mode: str = "AUDIO_VIDEO_COMBINED",
        doc_max_pages: int = 16,
        doc_dpi: int = 150,
        max_inline_bytes: int = INLINE_LIMIT_BYTES,
        max_workers: int = 4,
        retry: RetryPolicy | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        client: Any = None,
        max_requests: int | None = None,
        async_mode: str = "auto",
        s3_output: str | None = None,
        segment_seconds: int = 30,
        segment_chars: int = 32_000,
        async_timeout: float = 3600.0,
        poll_interval: float = 2.0,
    ) -> None:
        super().__init__()
        self.spec: ModelSpec = resolve_model(model_id)
        self.model_id = model_id
        self.name = f"bedrock:{model_id}"
        self.modalities = self.spec.modalities
        _choice("index_purpose", index_purpose, NOVA_INDEX_PURPOSES)
        _choice("query_purpose", query_purpose, NOVA_QUERY_PURPOSES)
        _choice("truncation", truncation, NOVA_TRUNCATION_MODES)
        _choice("image_detail", image_detail, NOVA_DETAIL_LEVELS)
        _choice("video_mode", video_mode, NOVA_VIDEO_MODES)
        if not 1 <= doc_max_pages <= 1000:
            raise ValueError(f"doc_max_pages must be in [1, 1000], got {doc_max_pages}")
        if not 36 <= doc_dpi <= 600:
            raise ValueError(f"doc_dpi must be in [36, 600], got {doc_dpi}")
        self.index_purpose = index_purpose
        self.query_purpose = query_purpose
        self.truncation = truncation
        self.image_detail = image_detail
        self.video_mode = video_mode
        self.segments = AsyncSettings(
            async_mode,
            s3_output,
            segment_seconds,
            segment_chars,
            async_timeout,
            poll_interval,
            max(poll_interval, 30.0),
        )
        self.media = MediaSettings(
            self.spec.image_formats, image_detail, doc_max_pages, doc_dpi, max_inline_bytes
        )
        self._shared = _Shared(
            Transport(
                region=region,
                endpoint_url=endpoint_url,
                profile=profile,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_workers=max_workers,
                retry=retry or RetryPolicy(),
                client=client,
                usage=Usage(max_requests),
            )
        )
        self._set_dim(self.spec.native_dim if dim is None else dim)

    def _set_dim(self, dim: int) -> None:
        if dim not in self.spec.dims:
            raise ValueError(
                f"dim {dim!r} is not a size {self.spec.model_id} serves; "
                f"use one of {list(self.spec.dims)}"
            )
        self.dim = int(dim)
        self.matryoshka_dims = tuple(d for d in self.spec.dims if d <= self.dim)
        # Everything that changes the vectors; the fingerprint (cache key) hashes it.
        params: dict[str, Any] = {"model_id": self.model_id, "dimension": self.dim}
        if self.spec.family == "nova":
            params |= {
                "index_purpose": self.index_purpose,
                "query_purpose": self.query_purpose,
                "truncation": self.truncation,
                "image_detail": self.image_detail,
                "video_mode": self.video_mode,
                # segmented (async) items: segment size and the pooling rule
                "async_mode": self.segments.mode,
                "segment_seconds": self.segments.segment_seconds,
                "segment_chars": self.segments.segment_chars,
                "segment_pool": "mean",
            }
        elif self.spec.family == "titan-text":
            params["normalize"] = True
        if "document" in self.modalities:
            params |= {
                "doc_max_pages": self.media.doc_max_pages,
                "doc_dpi": self.media.doc_dpi,
                "doc_pool": "mean",
            }
        self.params = params

    # -- public API -----------------------------------------------------------------
    @property
    def notes(self) -> dict[str, list[str]]:
        """Per-item notes: text over the documented limit, service truncation, pages left out."""
        return self._shared.notes

    @property
    def usage(self) -> dict[str, int | float | None]:
        """Request and cost counters so far (shared with siblings), and ``max_requests``."""
        return self._shared.transport.usage.as_dict()

    @property
    def served_dims(self) -> tuple[int, ...]:
        """Sizes the service computes itself (requested, never truncated client-side)."""
        return self.spec.dims

    def at_dim(self, dim: int) -> BedrockEmbedder:
        """The sibling embedder that requests ``dim`` from the service.

        It shares this one's client, thread pool and notes; its fingerprint includes
        ``dim``, so ``CachedEmbedder(emb.at_dim(1024), path)`` caches 1024-d answers
        apart from 3072-d ones.
        """
        if dim == self.dim:
            return self
        with self._shared.lock:
            sibling = self._shared.siblings.get(int(dim))
            if sibling is None:
                sibling = copy.copy(self)
                sibling._set_dim(dim)
                self._shared.siblings[int(dim)] = sibling
        return sibling

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Embed ``items``; a ``dim`` the service serves is requested, not truncated.

        See :meth:`audit.embedders.base.BaseEmbedder.embed` for the contract.
        """
        if dim is not None and dim != self.dim and dim in self.spec.dims and dim < self.dim:
            return self.at_dim(int(dim)).embed(items, purpose=purpose)
        if any(is_s3_item(it) for it in items):
            return embed_with_s3(self, items, purpose, dim)
        return super().embed(items, purpose=purpose, dim=dim)

    def describe(self) -> dict[str, Any]:
        """What the report records: model, sizes, output-changing params, client settings."""
        out = super().describe()
        out["model_id"] = self.model_id
        out["served_dims"] = list(self.spec.dims)
        out["client"] = self._shared.transport.describe()
        out["usage"] = self.usage
        return out

    def close(self) -> None:
        """Release the request thread pool."""
        self._shared.transport.close()

    # -- the hook -------------------------------------------------------------------
    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        jobs, segmented = self._prepare(items)
        embedding_purpose = self.index_purpose if purpose == "index" else self.query_purpose
        opts = BodyOptions(self.dim, embedding_purpose, self.truncation, self.video_mode)
        transport = self._shared.transport
        transport.usage.check_room(len(jobs), f"a batch of {len(items)} {modality} item(s)")

        def call(n: int) -> Parsed:
            i, part = jobs[n]
            item = items[i]
            if n in segmented:
                body = segmented_body(part, opts, self.segments)
                answer = run_segmented(
                    transport, self.model_id, body, item.id, self.segments, self.dim
                )
            else:
                raw = transport.invoke(self.model_id, request_body(self.spec, part, opts), item.id)
                answer = parse_response(self.spec, raw, item_id=item.id, dim=self.dim)
            _count(transport.usage, part)
            return answer

        results = transport.map(call, list(range(len(jobs))))
        over = [r for r in results if isinstance(r, BudgetExceededError)]
        if over:
            raise over[0]
        failures = [f for f in map(failure_of, results) if f is not None]
        if failures:
            raise BedrockCallError(self.model_id, failures)
        errors = [r for r in results if isinstance(r, BaseException)]
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise EmbeddingError("; ".join(str(e) for e in errors)) from errors[0]
        parsed = [r for r in results if isinstance(r, Parsed)]
        return self._pool(items, jobs, parsed)

    def _prepare(self, items: list[Item]) -> tuple[list[tuple[int, Part]], set[int]]:
        """Request parts for every item, and which of them go async; bad items at once."""
        jobs: list[tuple[int, Part]] = []
        segmented: set[int] = set()
        errors: list[ItemError] = []
        too_long: list[str] = []
        mode = self.segments.mode if self.spec.family == "nova" else "never"
        for i, item in enumerate(items):
            try:
                if is_s3_item(item):
                    part = s3_part(item, self.spec.family, self.image_detail)
                    if mode == "always" and part.kind != "image":
                        segmented.add(len(jobs))
                    jobs.append((i, part))
                elif item.modality == "text":
                    if mode == "always":
                        segmented.add(len(jobs))
                    jobs.append((i, Part("text", str(item.content))))
                elif item.modality == "image":
                    jobs.append(
                        (i, image_part(item, item.read_bytes(), self.media, self.image_detail))
                    )
                elif item.modality == "document":
                    parts, n_pages = document_parts(item, self.media)
                    if n_pages > len(parts):
                        self._note(item.id, f"embedded {len(parts)} of {n_pages} pages")
                    jobs.extend((i, p) for p in parts)
                else:
                    data = item.read_bytes()
                    fmt, seconds = media_info(item, data)
                    over = seconds is not None and seconds > SYNC_MAX_SECONDS
                    if over and mode == "never":
                        too_long.append(f"{item.id} ({seconds:.1f} s)")
                        continue
                    if mode == "always" or over:
                        segmented.add(len(jobs))
                    kind = "audio" if item.modality == "audio" else "video"
                    value = encode_inline(item, data, self.media.max_inline_bytes)
                    jobs.append((i, Part(kind, value, fmt, seconds=seconds)))
            except ItemError as exc:
                errors.append(exc)
        if errors:
            raise BadItemsError(errors)
        if too_long:
            raise ValueError(
                f"{len(too_long)} {items[0].modality} item(s) are over the {SYNC_MAX_SECONDS:g} s "
                f"a synchronous Bedrock request accepts: {', '.join(too_long)}. Use Nova's "
                "asynchronous segmented path (async_mode=auto and ?s3_output=s3://bucket/prefix)"
                " or split the media into clips of at most 30 s."
            )
        if segmented:
            self.segments.require_output(
                [_label(items[jobs[n][0]], jobs[n][1]) for n in sorted(segmented)]
            )
        self._report_long_text(items)
        return jobs, segmented

    def _pool(
        self, items: list[Item], jobs: list[tuple[int, Part]], parsed: list[Parsed]
    ) -> np.ndarray:
        """One vector per item: the mean of unit page vectors for multi-page documents."""
        per_item: dict[int, list[np.ndarray]] = {}
        cut: list[str] = []
        for (i, _), answer in zip(jobs, parsed, strict=True):
            per_item.setdefault(i, []).append(answer.vector)
            if answer.truncated_char_length is not None:
                cut.append(items[i].id)
                self._note(
                    items[i].id,
                    f"service truncated the text (truncatedCharLength="
                    f"{answer.truncated_char_length}, truncationMode={self.truncation})",
                )
        if cut:
            log.warning(
                "bedrock %s truncated %d text item(s): %s", self.model_id, len(cut), _ids(cut)
            )
        out = np.empty((len(items), self.dim), dtype=np.float32)
        for i, vectors in per_item.items():
            if len(vectors) == 1:
                out[i] = vectors[0]  # raw: the base checks NaN/zero and normalises
            else:
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[i] = np.mean([v / np.linalg.norm(v) for v in vectors], axis=0)
        return out

    def _report_long_text(self, items: list[Item]) -> None:
        if self.spec.family != "nova":
            return
        long_ids = [
            it.id
            for it in items
            if it.modality == "text" and len(str(it.content)) > NOVA_TEXT_CHAR_LIMIT
        ]
        for item_id in long_ids:
            self._note(item_id, f"text over the documented {NOVA_TEXT_CHAR_LIMIT:,} characters")
        if long_ids:
            log.warning(
                "bedrock %s: %d text item(s) over the documented %d characters "
                "(truncationMode=%s decides what the service does): %s",
                self.model_id,
                len(long_ids),
                NOVA_TEXT_CHAR_LIMIT,
                self.truncation,
                _ids(long_ids),
            )

    def _note(self, item_id: str, note: str) -> None:
        with self._shared.lock:
            notes = self._shared.notes.setdefault(item_id, [])
            if note not in notes:
                notes.append(note)


def _label(item: Item, part: Part) -> str:
    return f"{item.id} ({part.seconds:.1f} s)" if part.seconds is not None else item.id


def _count(usage: Usage, part: Part) -> None:
    """Content units of one answered part (what Bedrock bills)."""
    if part.kind == "text":
        usage.add(text_chars=len(part.value) if part.source == "bytes" else 0)
    elif part.kind == "image":
        usage.add(images=1)
    elif part.seconds is not None:
        usage.add(media_seconds=part.seconds)


def _choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def _ids(ids: Sequence[str], limit: int = 10) -> str:
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def from_spec(arg: str | None) -> BedrockEmbedder:
    """Build a :class:`BedrockEmbedder` from the part of the spec after ``bedrock:``.

    ``<model-id>[?option=value&...]``; an empty model id means Nova. Options are listed
    in docs/embedders.md; credentials are never accepted here.
    """
    from audit.embedders._bedrock_spec import parse_options

    model, _, query = (arg or "").partition("?")
    kwargs = parse_options(query)
    return BedrockEmbedder(model.strip() or NOVA_MME, **kwargs)
