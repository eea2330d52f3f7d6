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
from audit.embedders._bedrock_transport import (
    BedrockCallError,
    RetryPolicy,
    Transport,
    failure_of,
)
from audit.embedders.base import BaseEmbedder, EmbeddingError, Purpose
from audit.items import BadItemsError, Item, ItemError

__all__ = ["BedrockCallError", "BedrockEmbedder", "RetryPolicy", "from_spec"]

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
        return super().embed(items, purpose=purpose, dim=dim)

    def describe(self) -> dict[str, Any]:
        """What the report records: model, sizes, output-changing params, client settings."""
        out = super().describe()
        out["model_id"] = self.model_id
        out["served_dims"] = list(self.spec.dims)
        out["client"] = self._shared.transport.describe()
        return out

    def close(self) -> None:
        """Release the request thread pool."""
        self._shared.transport.close()

    # -- the hook -------------------------------------------------------------------
    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        jobs = self._prepare(items)
        embedding_purpose = self.index_purpose if purpose == "index" else self.query_purpose
        opts = BodyOptions(self.dim, embedding_purpose, self.truncation, self.video_mode)
        transport = self._shared.transport

        def call(job: tuple[int, Part]) -> Parsed:
            item = items[job[0]]
            body = request_body(self.spec, job[1], opts)
            answer = transport.invoke(self.model_id, body, item.id)
            return parse_response(self.spec, answer, item_id=item.id, dim=self.dim)

        results = transport.map(call, jobs)
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

    def _prepare(self, items: list[Item]) -> list[tuple[int, Part]]:
        """Request parts for every item; every bad item reported at once."""
        jobs: list[tuple[int, Part]] = []
        errors: list[ItemError] = []
        too_long: list[str] = []
        for i, item in enumerate(items):
            try:
                if item.modality == "text":
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
                    if seconds is not None and seconds > SYNC_MAX_SECONDS:
                        too_long.append(f"{item.id} ({seconds:.1f} s)")
                        continue
                    kind = "audio" if item.modality == "audio" else "video"
                    value = encode_inline(item, data, self.media.max_inline_bytes)
                    jobs.append((i, Part(kind, value, fmt)))
            except ItemError as exc:
                errors.append(exc)
        if errors:
            raise BadItemsError(errors)
        if too_long:
            raise NotImplementedError(
                f"{len(too_long)} {items[0].modality} item(s) are over the {SYNC_MAX_SECONDS:g} s "
                f"a synchronous Bedrock request accepts: {', '.join(too_long)}. The "
                "asynchronous (segmented, S3) path is not implemented; split the media into "
                "clips of at most 30 s."
            )
        self._report_long_text(items)
        return jobs

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
