"""Amazon Bedrock embedders: Nova MME, Titan Text V2 and MM G1, Cohere Embed v4, Marengo 2.7.

Spec: ``bedrock:<model-id>[?option=value&...]``, e.g.
``bedrock:amazon.nova-2-multimodal-embeddings-v1:0?dim=1024&region=us-east-1``.
See docs/embedders.md ("## bedrock:") for the options, the purpose mapping and limits.

Items become request parts on the client first (format, duration, size limits, PDF
pages), so bad items fail before anything is sent; parts become requests (one
``InvokeModel`` per part, up to 96 texts/images/pages per Cohere request, or one
``StartAsyncInvoke`` job for Nova's segmented path and Marengo's audio/video), run on a
small thread pool with results kept in input order. :meth:`BedrockEmbedder.plan_usage`
counts the same requests without sending them.

Sizes: ``dim`` is the size *requested from the service*, and enters the fingerprint (so
the cache key). ``embed(dim=k)`` with k a size the service serves sends k through a
sibling embedder whose fingerprint carries k; any other k is a client-side truncation of
the ``dim``-sized vector.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.embedders import _bedrock_cohere as cohere
from audit.embedders._bedrock_async import AsyncSettings
from audit.embedders._bedrock_media import INLINE_LIMIT_BYTES, MediaSettings
from audit.embedders._bedrock_models import (
    NOVA_DETAIL_LEVELS,
    NOVA_MME,
    NOVA_TEXT_CHAR_LIMIT,
    NOVA_VIDEO_MODES,
    BodyOptions,
    ModelSpec,
    Parsed,
    Part,
    is_inference_profile,
    resolve_model,
)
from audit.embedders._bedrock_options import choice, family_options, purposes, wire_truncation
from audit.embedders._bedrock_plan import build_requests, plan_counts, run_request
from audit.embedders._bedrock_prepare import prepare
from audit.embedders._bedrock_s3 import batches, check_s3_batch, embed_with_s3, is_s3_item
from audit.embedders._bedrock_text import TruncationLog, check_texts, limit_of
from audit.embedders._bedrock_transport import (
    BedrockCallError,
    RetryPolicy,
    Transport,
    failure_of,
)
from audit.embedders._usage import BudgetExceededError, Usage, UsageCounts
from audit.embedders.base import (
    BaseEmbedder,
    EmbeddingError,
    Purpose,
    check_request,
    keep_finished,
)
from audit.items import Item, validate_items

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
    truncation: TruncationLog = field(default_factory=TruncationLog)
    siblings: dict[int, BedrockEmbedder] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class BedrockEmbedder(BaseEmbedder):
    """Embeddings from Amazon Bedrock through boto3's ``bedrock-runtime`` client.

    Parameters
    ----------
    model_id : str
        ``amazon.nova-2-multimodal-embeddings-v1:0`` (text, image, document, video,
        audio), ``amazon.titan-embed-text-v2:0`` (text), ``amazon.titan-embed-image-v1``
        (text, image, document), ``cohere.embed-v4:0`` (text, image, document) or
        ``twelvelabs.marengo-embed-2-7-v1:0`` (text, image, video, audio; give the
        inference profile, e.g. ``us.twelvelabs.marengo-embed-2-7-v1:0``, for synchronous
        text/image); cross-region profile ids and model ARNs also resolve.
    dim : int, optional
        Size requested from the service (Nova 3072/1024/384/256, Titan Text V2
        1024/512/256, Titan MM G1 1024/384/256, Cohere v4 1536/1024/512/256, Marengo
        1024). Default: the model's largest.
    region, endpoint_url, profile : str, optional
        Client settings; unset values come from boto3's standard configuration
        (``AWS_REGION``, ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``, ...). Region falls back
        to us-east-1. Credentials always come from boto3's standard chain.
    index_purpose, query_purpose : str, optional
        What ``purpose="index"`` / ``"query"`` send. Nova ``embeddingPurpose``: index
        GENERIC_INDEX (default), CLASSIFICATION or CLUSTERING; query GENERIC_RETRIEVAL
        (default, for mixed indexes) or the retrieval purpose matching what the queries
        search (IMAGE_RETRIEVAL, ...). Cohere ``input_type``: search_document /
        search_query by default, or classification, clustering. Titan and Marengo have
        no such parameter (giving one is an error).
    truncation : str
        Which end of over-long text the service cuts: ``END`` (default), ``START`` or
        ``NONE`` (refuse). Sent as Nova ``truncationMode``, Cohere ``truncate`` (END ->
        RIGHT, START -> LEFT; LEFT/RIGHT accepted) or Marengo ``textTruncate`` (end,
        none; START is not offered).
    image_detail : {"STANDARD_IMAGE", "DOCUMENT_IMAGE"}
        Nova ``detailLevel`` for image items (document pages always use DOCUMENT_IMAGE).
    video_mode : {"AUDIO_VIDEO_COMBINED", "AUDIO_VIDEO_SEPARATE"}
        Nova video ``embeddingMode``; SEPARATE's two vectors are averaged.
    max_tokens : int, optional
        Cohere ``max_tokens`` (truncation budget per input, 1..128,000; unset: not sent).
    video_embedding : {"visual-text", "visual-image", "audio"}, optional
        Marengo ``embeddingOption`` requested for video items (default visual-text, the
        one for text-to-video search); the item's vector is the mean of its clips'.
    clip_seconds : float, optional
        Marengo ``useFixedLengthSec`` for audio/video (2..10; unset: the service's
        default segmentation).
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
        Which items take the asynchronous path (Nova, Marengo); see
        :class:`~audit.embedders._bedrock_async.AsyncSettings` and docs/embedders.md.
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
        index_purpose: str | None = None,
        query_purpose: str | None = None,
        truncation: str = "END",
        image_detail: str = "STANDARD_IMAGE",
        video_mode: str = "AUDIO_VIDEO_COMBINED",
        max_tokens: int | None = None,
        video_embedding: str | None = None,
        clip_seconds: float | None = None,
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
        family = self.spec.family
        self.index_purpose, self.query_purpose = purposes(self.spec, index_purpose, query_purpose)
        self.truncation = truncation.upper()
        self.wire_truncation = wire_truncation(family, self.truncation)
        choice("image_detail", image_detail, NOVA_DETAIL_LEVELS)
        choice("video_mode", video_mode, NOVA_VIDEO_MODES)
        self.max_tokens, self.video_embedding, self.clip_seconds = family_options(
            family, max_tokens, video_embedding, clip_seconds
        )
        if not 1 <= doc_max_pages <= 1000:
            raise ValueError(f"doc_max_pages must be in [1, 1000], got {doc_max_pages}")
        if not 36 <= doc_dpi <= 600:
            raise ValueError(f"doc_dpi must be in [36, 600], got {doc_dpi}")
        self.image_detail = image_detail
        self.video_mode = video_mode
        # Marengo: InvokeModel takes inference profiles, StartAsyncInvoke base models.
        self.sync_invoke = family != "marengo" or is_inference_profile(model_id, self.spec)
        self.async_model_id = (
            self.spec.model_id if is_inference_profile(model_id, self.spec) else model_id
        )
        if family == "cohere":
            self.batch_size = cohere.MAX_ITEMS_PER_CALL  # one full request per chunk
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
        family = self.spec.family
        if family == "nova":
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
        elif family == "titan-text":
            params["normalize"] = True
        elif family == "cohere":
            params |= {
                "index_input_type": self.index_purpose,
                "query_input_type": self.query_purpose,
                "truncate": self.wire_truncation,
                "max_tokens": self.max_tokens,
                "embedding_types": ["float"],
            }
        elif family == "marengo":
            params |= {
                "text_truncate": self.wire_truncation,
                "video_embedding": self.video_embedding,
                "clip_seconds": self.clip_seconds,
                "clip_pool": "mean",
            }
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
        """Per-item notes: text over (or maybe over) a limit, truncation, pages left out."""
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
        if self._sibling_for(dim) is not None:
            return self._sibling_for(dim).embed(items, purpose=purpose)  # type: ignore[union-attr]
        if any(is_s3_item(it) for it in items):
            return embed_with_s3(self, items, purpose, dim)
        return super().embed(items, purpose=purpose, dim=dim)

    def plan_usage(
        self, items: Sequence[Item], *, purpose: str = "index", dim: int | None = None
    ) -> UsageCounts:
        """What :meth:`embed` would send for ``items``, counted without sending anything.

        No client is built and no credentials are needed: the same checks, parts,
        batching and request bodies as ``embed`` are computed locally (files are read,
        PDF pages rendered, durations measured), then counted. ``requests``,
        ``async_jobs``, ``text_chars``, ``images``, ``media_seconds`` and ``bytes_sent``
        (exact body bytes) equal the counters of a run in which every request succeeds at
        its first attempt. Not planned, because they depend on the service: ``retries``
        and ``throttles`` (a throttled request is sent again: one more request and its
        bytes), and ``polls`` of async jobs. Items a cache would serve are counted too:
        plan the cache misses to price a cached run.

        Raises
        ------
        BadItemsError, ValueError
            Exactly when ``embed`` would refuse the items before sending.
        """
        items = list(items)
        sibling = self._sibling_for(dim)
        if sibling is not None:
            return sibling.plan_usage(items, purpose=purpose)
        if any(is_s3_item(it) for it in items):
            check_s3_batch(self, items, purpose, dim)
            chunks = batches(items, self.batch_size)
        else:
            check_request(self, items, purpose, dim)
            validate_items(items, self.limits)
            chunks = batches(items, self.batch_size, self.modality_batch_size)
        return plan_counts(self, items, chunks, self.body_options(purpose))

    def body_options(self, purpose: str) -> BodyOptions:
        """The request settings for ``purpose``, as the API spells them."""
        embedding_purpose = self.index_purpose if purpose == "index" else self.query_purpose
        return BodyOptions(
            self.dim,
            embedding_purpose or "",
            self.wire_truncation,
            self.video_mode,
            self.max_tokens,
            self.video_embedding or "visual-text",
            self.clip_seconds,
        )

    def describe(self) -> dict[str, Any]:
        """What the report records: model, sizes, params, client, usage, truncation."""
        out = super().describe()
        out["model_id"] = self.model_id
        out["served_dims"] = list(self.spec.dims)
        out["client"] = self._shared.transport.describe()
        out["usage"] = self.usage
        out["truncation"] = self._shared.truncation.as_dict(
            limit_of(self.spec.family, self.max_tokens), self.wire_truncation
        )
        return out

    def close(self) -> None:
        """Release the request thread pool."""
        self._shared.transport.close()

    # -- the hook -------------------------------------------------------------------
    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        opts = self.body_options(purpose)
        jobs, segmented = prepare(self, items, record=True)
        requests = build_requests(self, items, jobs, segmented, opts)
        self._record_texts(items)
        transport = self._shared.transport
        transport.usage.check_room(len(requests), f"a batch of {len(items)} {modality} item(s)")
        results = transport.map(lambda req: run_request(self, req, items, jobs, opts), requests)
        parsed: list[Parsed | None] = [None] * len(jobs)
        for req, answers in zip(requests, results, strict=True):
            if not isinstance(answers, BaseException):
                for n, answer in zip(req.jobs, answers, strict=True):
                    parsed[n] = answer
        error = _batch_error(self.model_id, results)
        if error is None:
            return self._pool(items, jobs, parsed)  # type: ignore[arg-type]
        # Answers paid for survive the failure: an item whose every request was answered
        # leaves with the error, and the cache keeps it.
        unanswered = {jobs[n][0] for n, answer in enumerate(parsed) if answer is None}
        done = [i for i in range(len(items)) if i not in unanswered]
        if done:
            kept = [(n, job) for n, job in enumerate(jobs) if job[0] not in unanswered]
            rows = self._pool(items, [job for _, job in kept], [parsed[n] for n, _ in kept])  # type: ignore[misc]
            keep_finished(error, items, done, rows[done])
        raise error

    def _sibling_for(self, dim: int | None) -> BedrockEmbedder | None:
        """The sibling that requests ``dim``, when the service serves it below ``self.dim``."""
        if dim is not None and dim != self.dim and dim in self.spec.dims and dim < self.dim:
            return self.at_dim(int(dim))
        return None

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
                self._shared.truncation.add("reported", items[i].id)
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

    def _record_texts(self, items: list[Item]) -> None:
        """Note and count text over (or maybe over) the model's limit; log one warning."""
        findings = check_texts(
            self.spec.family, items, mode=self.wire_truncation, max_tokens=self.max_tokens
        )
        for finding in findings:
            self._note(finding.item_id, finding.note)
            self._shared.truncation.add(finding.level, finding.item_id)
        over = [f.item_id for f in findings if f.level == "over"]
        if over:
            log.warning(
                "bedrock %s: %d text item(s) over the documented %d characters "
                "(truncationMode=%s decides what the service does): %s",
                self.model_id,
                len(over),
                NOVA_TEXT_CHAR_LIMIT,
                self.truncation,
                _ids(over),
            )
        likely = [f.item_id for f in findings if f.level == "likely"]
        possible = [f.item_id for f in findings if f.level == "possible"]
        if likely or possible:
            log.warning(
                "bedrock %s: %d text item(s) likely and %d possibly over the limit of %s "
                "(truncation=%s decides what the service does; see emb.notes): %s",
                self.model_id,
                len(likely),
                len(possible),
                limit_of(self.spec.family, self.max_tokens),
                self.wire_truncation,
                _ids(likely + possible),
            )

    def _note(self, item_id: str, note: str) -> None:
        with self._shared.lock:
            notes = self._shared.notes.setdefault(item_id, [])
            if note not in notes:
                notes.append(note)


def _batch_error(model_id: str, results: Sequence[object]) -> BaseException | None:
    """The error a batch's results raise: the first budget error, else every call failure
    together, else the other errors; None when every request was answered."""
    over = [r for r in results if isinstance(r, BudgetExceededError)]
    if over:
        return over[0]
    failures = [f for f in map(failure_of, results) if f is not None]
    if failures:
        return BedrockCallError(model_id, failures)
    errors = [r for r in results if isinstance(r, BaseException)]
    if len(errors) == 1:
        return errors[0]
    if errors:
        error = EmbeddingError("; ".join(str(e) for e in errors))
        error.__cause__ = errors[0]
        return error
    return None


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
