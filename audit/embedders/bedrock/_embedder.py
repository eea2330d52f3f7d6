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

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from audit.embedders._usage import Usage
from audit.embedders.bedrock._async import AsyncSettings
from audit.embedders.bedrock._families import family_of, resolve_model
from audit.embedders.bedrock._family import BedrockFamily, choice
from audit.embedders.bedrock._media import INLINE_LIMIT_BYTES, MediaSettings
from audit.embedders.bedrock._models import BodyOptions, ModelSpec, Parsed, is_inference_profile
from audit.embedders.bedrock._nova import NOVA_DETAIL_LEVELS, NOVA_MME, NOVA_VIDEO_MODES
from audit.embedders.bedrock._prepare import prepare
from audit.embedders.bedrock._requests import Request, build_requests, send_request
from audit.embedders.bedrock._s3 import check_s3_batch, is_s3_item
from audit.embedders.bedrock._text import TruncationLog, check_texts
from audit.embedders.bedrock._transport import BedrockCallError, Transport
from audit.embedders.hosted import (
    CallFailure,
    HostedEmbedder,
    RetryPolicy,
    ids_text,
)
from audit.items import Item

__all__ = ["BedrockEmbedder", "from_spec"]

log = logging.getLogger(__name__)


class BedrockEmbedder(HostedEmbedder):
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
        :class:`~audit.embedders.bedrock._async.AsyncSettings` and docs/embedders.md.
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
        self.family: BedrockFamily = family_of(self.spec)
        self.model_id = model_id
        self.name = f"bedrock:{model_id}"
        self.modalities = self.spec.modalities
        family = self.family
        self.index_purpose, self.query_purpose = family.purposes(
            self.spec, index_purpose, query_purpose
        )
        self.truncation = truncation.upper()
        self.wire_truncation = family.wire_truncation(self.truncation)
        choice("image_detail", image_detail, NOVA_DETAIL_LEVELS)
        choice("video_mode", video_mode, NOVA_VIDEO_MODES)
        self.max_tokens, self.video_embedding, self.clip_seconds = family.options(
            max_tokens, video_embedding, clip_seconds
        )
        if not 1 <= doc_max_pages <= 1000:
            raise ValueError(f"doc_max_pages must be in [1, 1000], got {doc_max_pages}")
        if not 36 <= doc_dpi <= 600:
            raise ValueError(f"doc_dpi must be in [36, 600], got {doc_dpi}")
        self.image_detail = image_detail
        self.video_mode = video_mode
        self.sync_invoke = family.sync_invoke(model_id, self.spec)
        # Jobs name the base model (Marengo's StartAsyncInvoke takes no inference profile).
        self.async_model_id = (
            self.spec.model_id if is_inference_profile(model_id, self.spec) else model_id
        )
        self.batch_size = family.batch_size or self.batch_size
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
        self._start(
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
            ),
            truncation=TruncationLog(),
        )
        self.dims = self.spec.dims
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
        params |= self.family.fingerprint_params(self)
        if "document" in self.modalities:
            params |= {
                "doc_max_pages": self.media.doc_max_pages,
                "doc_dpi": self.media.doc_dpi,
                "doc_pool": "mean",
            }
        self.params = params

    # -- public API -----------------------------------------------------------------
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
        out["client"] = self._shared.transport.describe()  # type: ignore[attr-defined]
        out["usage"] = self.usage
        out["truncation"] = self._shared.extra["truncation"].as_dict(
            self.family.limit(self.max_tokens), self.wire_truncation
        )
        return out

    # -- hooks of the hosted base -------------------------------------------------------
    def _check(self, items: list[Item], purpose: str, dim: int | None) -> None:
        if any(is_s3_item(it) for it in items):
            detail = self.image_detail
            check_s3_batch(self, items, purpose, dim, family=self.family, image_detail=detail)
        else:
            super()._check(items, purpose, dim)

    def _requests(self, items: list[Item], purpose: str, *, record: bool) -> list[Request]:
        jobs, segmented, notes = prepare(self, items)
        requests = build_requests(self, items, jobs, segmented, self.body_options(purpose))
        if record:
            for item_id, note in notes:
                self._note(item_id, note)
            self._record_texts(items)
        return requests

    def _room_label(self, modality: str, items: list[Item]) -> str:
        return f"a batch of {len(items)} {modality} item(s)"

    def _send(self, request: Request) -> list[Parsed]:
        transport: Transport = self._shared.transport  # type: ignore[assignment]
        return send_request(self, transport, request)

    def _parse(
        self, request: Request, answer: list[Parsed], items: list[Item]
    ) -> list[tuple[int, Parsed]]:
        return list(zip(request.positions, answer, strict=True))

    def _call_error(self, failures: list[CallFailure]) -> BaseException:
        return BedrockCallError(self.model_id, failures)

    def _pool(self, items: list[Item], pieces: Mapping[int, list[Parsed]]) -> np.ndarray:
        """One vector per item: the mean of unit page vectors for multi-page documents."""
        cut: list[str] = []
        out = np.empty((len(items), self.dim), dtype=np.float32)
        for i, answers in pieces.items():
            for answer in answers:
                if answer.truncated_char_length is not None:
                    cut.append(items[i].id)
                    self._shared.extra["truncation"].add("reported", items[i].id)
                    self._note(
                        items[i].id,
                        f"service truncated the text (truncatedCharLength="
                        f"{answer.truncated_char_length}, truncationMode={self.truncation})",
                    )
            vectors = [a.vector for a in answers]
            if len(vectors) == 1:
                out[i] = vectors[0]  # raw: the base checks NaN/zero and normalises
            else:
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[i] = np.mean([v / np.linalg.norm(v) for v in vectors], axis=0)
        if cut:
            log.warning(
                "bedrock %s truncated %d text item(s): %s", self.model_id, len(cut), ids_text(cut)
            )
        return out

    def _record_texts(self, items: list[Item]) -> None:
        """Note and count text over (or maybe over) the model's limit; log one warning."""
        findings = check_texts(
            self.family, items, mode=self.wire_truncation, max_tokens=self.max_tokens
        )
        for finding in findings:
            self._note(finding.item_id, finding.note)
            self._shared.extra["truncation"].add(finding.level, finding.item_id)
        over = [f.item_id for f in findings if f.level == "over"]
        if over:
            log.warning(
                "bedrock %s: %d text item(s) over the documented %d characters "
                "(truncationMode=%s decides what the service does): %s",
                self.model_id,
                len(over),
                self.family.text_char_limit,
                self.truncation,
                ids_text(over),
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
                self.family.limit(self.max_tokens),
                self.wire_truncation,
                ids_text(likely + possible),
            )


def from_spec(arg: str | None) -> BedrockEmbedder:
    """Build a :class:`BedrockEmbedder` from the part of the spec after ``bedrock:``.

    ``<model-id>[?option=value&...]``; an empty model id means Nova. Options are listed
    in docs/embedders.md; credentials are never accepted here.
    """
    from audit.embedders.bedrock._spec import parse_options

    model, _, query = (arg or "").partition("?")
    kwargs = parse_options(query)
    return BedrockEmbedder(model.strip() or NOVA_MME, **kwargs)
