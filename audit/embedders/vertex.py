"""Vertex AI Multimodal Embeddings (``multimodalembedding@001``) through google-cloud-aiplatform.

Spec: ``vertex:<model>[?option=value&...]``, e.g.
``vertex:multimodalembedding@001?dim=1408&project=my-proj&location=us-central1``.
See docs/embedders-google.md for options, limits and sources.

Requests go through the package's GAPIC ``PredictionServiceClient`` (REST transport,
``client_options.api_endpoint`` is the endpoint override) with the very instance that
``vertexai.vision_models.MultiModalEmbeddingModel.get_embeddings`` builds (a test checks
the two bodies are equal). We do not call ``get_embeddings`` itself: that module is
deprecated (warning: removal on 2026-06-24), keeps its configuration in process-global
state (``vertexai.init``) and takes no timeout.

Modalities, declared honestly: text (32-token limit, modelled and reported), image,
video (only at 1408 dimensions: ``dimension`` applies to text and image only; segment
vectors pooled to one), and documents only when ``documents=1`` (PDF pages sent as
images and pooled; the model sees each page at 512x512). Purposes: the model has no task
types, so ``index`` and ``query`` embed identically.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from audit.embedders._bedrock_transport import RetryPolicy, safe_endpoint
from audit.embedders._google_limits import (
    VERTEX_MM_DIMS,
    VERTEX_MM_MODEL,
    VERTEX_MM_NATIVE_DIM,
    VERTEX_MM_TOKEN_LIMIT,
    VERTEX_MM_VIDEO_DIM,
    VERTEX_MM_WINDOW_SECONDS,
    LengthReport,
    ids_text,
    over_limit,
    video_mode,
)
from audit.embedders._google_media import MediaSettings
from audit.embedders._google_transport import (
    BudgetExceededError,
    GoogleCallError,
    Transport,
    plan_counts,
    raise_failures,
)
from audit.embedders._google_vertex import Prepared, parse, plain, pool, prepare
from audit.embedders._usage import Usage, UsageCounts
from audit.embedders.base import (
    BaseEmbedder,
    EmbeddingError,
    Purpose,
    check_request,
    finish_checked,
    finish_raw,
    keep_finished,
)
from audit.items import BadItemsError, Item, ItemError, validate_items

__all__ = [
    "BudgetExceededError",
    "GoogleCallError",
    "RetryPolicy",
    "VertexMultimodalEmbedder",
    "from_spec",
]

log = logging.getLogger(__name__)

LONG_TEXT = ("report", "error")
_NO_ADC = (
    "no Google Cloud credentials: run `gcloud auth application-default login` or set "
    "GOOGLE_APPLICATION_CREDENTIALS (Application Default Credentials)"
)


@dataclass
class _Shared:
    """State an embedder shares with its per-dimension siblings."""

    transport: Transport
    report: LengthReport
    client: Any = None
    resource: str | None = None
    project: str | None = None
    notes: dict[str, list[str]] = field(default_factory=dict)
    siblings: dict[int, VertexMultimodalEmbedder] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class VertexMultimodalEmbedder(BaseEmbedder):
    """Embeddings from Vertex AI ``multimodalembedding@001``.

    Parameters
    ----------
    model : str
        ``multimodalembedding@001``.
    dim : int, optional
        ``parameters.dimension``: 128, 256, 512 or 1408 (default). Video is embedded only
        at 1408, so a smaller size does not declare video.
    project, location : str, optional
        Google Cloud project (else ``GOOGLE_CLOUD_PROJECT``, else the ADC project) and
        region (default us-central1).
    api_endpoint : str, optional
        Endpoint override, ``host[:port]`` or ``http(s)://host:port``; default
        ``{location}-aiplatform.googleapis.com``.
    documents : bool
        Also declare ``document``: PDF pages rendered to PNG, embedded as images and mean-
        pooled (the model was not made for pages; off by default).
    video_interval : int
        ``videoSegmentConfig.intervalSec`` (4..120; default 16, the service default).
        It sets the billing mode: >=15 Essential, 8..14 Standard, 4..7 Plus.
    video_max_seconds : int
        Seconds of each video embedded, in 120 s windows (one request each); the rest
        is reported, not sent. Default 120 (one request per video).
    doc_max_pages, doc_dpi : int
        PDF pages embedded per document (the rest reported) and render resolution.
    max_inline_bytes : int
        Most bytes of one image, page or video sent inline (default 20,000,000).
    long_text : {"report", "error"}
        Text estimated over 32 tokens is sent and reported (the model shortens it), or
        refused before anything is sent.
    timeout : float
        Seconds per attempt.
    max_workers : int
        Concurrent requests.
    retry : RetryPolicy, optional
        Backoff policy for 408/429/5xx and transport errors.
    max_requests : int, optional
        Request budget of this embedder and its siblings (attempts, retries included).
    credentials : google.auth.credentials.Credentials, optional
        Programmatic credentials; default Application Default Credentials.
    client : object, optional
        A prebuilt ``PredictionServiceClient``.
    """

    def __init__(
        self,
        model: str = VERTEX_MM_MODEL,
        *,
        dim: int | None = None,
        project: str | None = None,
        location: str | None = None,
        api_endpoint: str | None = None,
        documents: bool = False,
        video_interval: int = 16,
        video_max_seconds: int = VERTEX_MM_WINDOW_SECONDS,
        doc_max_pages: int = 8,
        doc_dpi: int = 100,
        max_inline_bytes: int = 20_000_000,
        long_text: str = "report",
        timeout: float = 120.0,
        max_workers: int = 4,
        retry: RetryPolicy | None = None,
        max_requests: int | None = None,
        credentials: Any = None,
        client: Any = None,
    ) -> None:
        super().__init__()
        if model != VERTEX_MM_MODEL:
            raise ValueError(f"vertex model {model!r} is not supported; use {VERTEX_MM_MODEL}")
        if long_text not in LONG_TEXT:
            raise ValueError(f"long_text must be one of {', '.join(LONG_TEXT)}, got {long_text!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        if (
            api_endpoint
            and "://" in api_endpoint
            and urlsplit(api_endpoint).scheme
            not in (
                "http",
                "https",
            )
        ):
            raise ValueError(
                "api_endpoint must be host[:port] or http(s)://..., got "
                f"{safe_endpoint(api_endpoint)}"
            )
        self.model = model
        self.name = f"vertex:{model}"
        self.project, self.api_endpoint = project, api_endpoint
        self.location = location or os.environ.get("GOOGLE_CLOUD_LOCATION") or "us-central1"
        self.documents = bool(documents)
        self.media = MediaSettings(
            video_interval, video_max_seconds, doc_max_pages, doc_dpi, max_inline_bytes
        )
        self.long_text = long_text
        self.timeout = float(timeout)
        self._credentials = credentials
        self._shared = _Shared(
            Transport("vertex", retry or RetryPolicy(), max_workers, Usage(max_requests)),
            LengthReport(VERTEX_MM_TOKEN_LIMIT),
            client,
        )
        self._set_dim(VERTEX_MM_NATIVE_DIM if dim is None else dim)

    def _set_dim(self, dim: int) -> None:
        if isinstance(dim, bool) or dim not in VERTEX_MM_DIMS:
            raise ValueError(
                f"dim {dim!r} is not a size {self.model} serves; use one of {list(VERTEX_MM_DIMS)}"
            )
        self.dim = int(dim)
        # Served sizes are separate outputs, not documented as trained truncations.
        self.matryoshka_dims = ()
        modalities = {"text", "image"}
        if self.dim == VERTEX_MM_VIDEO_DIM:
            modalities.add("video")
        if self.documents:
            modalities.add("document")
        self.modalities = frozenset(modalities)
        params: dict[str, Any] = {
            "model_id": self.model,
            "dimension": self.dim,
            "purpose": "ignored (no task types)",
            "image_reencode": "png unless bmp/gif/jpeg/png",
        }
        if "video" in self.modalities:
            params |= {
                "video_interval": self.media.video_interval,
                "video_window": VERTEX_MM_WINDOW_SECONDS,
                "video_max_seconds": self.media.video_max_seconds,
                "video_pool": "length-weighted mean of unit segment vectors",
            }
        if self.documents:
            params |= {
                "doc_max_pages": self.media.doc_max_pages,
                "doc_dpi": self.media.doc_dpi,
                "doc_pool": "mean of unit page vectors",
            }
        self.params = params

    # -- public API -----------------------------------------------------------------
    @property
    def usage(self) -> dict[str, int | float | None]:
        """Request and cost counters so far (shared with siblings), and ``max_requests``."""
        return self._shared.transport.usage.as_dict()

    @property
    def notes(self) -> dict[str, list[str]]:
        """Per-item notes: text over the limit, PDF pages or video seconds left out."""
        return self._shared.notes

    @property
    def served_dims(self) -> tuple[int, ...]:
        """Sizes the service computes itself."""
        return VERTEX_MM_DIMS

    def at_dim(self, dim: int) -> VertexMultimodalEmbedder:
        """The sibling that requests ``dim`` from the service (shares client and budget)."""
        if dim == self.dim:
            return self
        with self._shared.lock:
            sibling = self._shared.siblings.get(int(dim))
            if sibling is None:
                sibling = copy.copy(self)
                sibling._set_dim(dim)
                self._shared.siblings[int(dim)] = sibling
        return sibling

    def describe(self) -> dict[str, Any]:
        """What the report records: model, sizes, params, client settings, usage."""
        out = super().describe()
        out["model_id"] = self.model
        out["served_dims"] = list(VERTEX_MM_DIMS)
        out["video_mode"] = (
            video_mode(self.media.video_interval) if "video" in self.modalities else None
        )
        out["client"] = {
            "endpoint": safe_endpoint(self.api_endpoint)
            or f"{self.location}-aiplatform.googleapis.com",
            "project": self.project or self._shared.project,
            "location": self.location,
            "timeout": self.timeout,
            "max_workers": self._shared.transport.max_workers,
            "retry": asdict(self._shared.transport.retry),
        }
        out["usage"] = self.usage
        out["truncation"] = self._shared.report.as_dict()
        return out

    def plan_usage(
        self, items: Sequence[Item], *, purpose: str = "index", dim: int | None = None
    ) -> UsageCounts:
        """What :meth:`embed` would send for ``items``, computed offline (nothing is sent)."""
        target = self._route(dim)
        if target is not self:
            return target.plan_usage(items, purpose=purpose)
        items = self._check(items, purpose, dim)
        return plan_counts(self._prepare(items).requests)

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Embed ``items`` in order; a ``dim`` the service serves is requested, not truncated.

        The whole call is checked against ``max_requests`` before anything is sent.
        """
        target = self._route(dim)
        if target is not self:
            return target.embed(items, purpose=purpose)
        items = self._check(items, purpose, dim)
        if not items:
            return np.empty((0, dim or self.dim), dtype=np.float32)
        try:
            raw = self._embed_raw(items)
        except BaseException as exc:
            finish_raw(exc, items, dim, self.dim)  # answers that arrived leave with the error
            raise
        return finish_checked(self, items, raw, dim)

    def close(self) -> None:
        """Release the request thread pool."""
        self._shared.transport.close()

    # -- internals ------------------------------------------------------------------
    def _route(self, dim: int | None) -> VertexMultimodalEmbedder:
        if dim is not None and dim != self.dim and dim in VERTEX_MM_DIMS and dim < self.dim:
            return self.at_dim(int(dim))
        return self

    def _check(self, items: Sequence[Item], purpose: str, dim: int | None) -> list[Item]:
        items = list(items)
        if self.dim != VERTEX_MM_VIDEO_DIM:
            video = [
                ItemError(it.id, f"video is embedded only at dimension {VERTEX_MM_VIDEO_DIM} "
                          f"(this embedder requests {self.dim})")
                for it in items
                if it.modality == "video"
            ]  # fmt: skip
            if video:
                raise BadItemsError(video)
        check_request(self, items, purpose, dim)
        validate_items(items, self.limits)
        return items

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        return self._embed_raw(items)

    def _prepare(self, items: list[Item]) -> Prepared:
        if self.long_text == "error":
            texts = [(it.id, str(it.content)) for it in items if it.modality == "text"]
            long_ids = over_limit(texts, VERTEX_MM_TOKEN_LIMIT)
            if long_ids:
                raise BadItemsError(
                    [ItemError(i, f"text is estimated over the {VERTEX_MM_TOKEN_LIMIT}-token "
                               "limit (long_text=error)") for i in long_ids]
                )  # fmt: skip
        return prepare(items, self.dim, self.media)

    def _embed_raw(self, items: list[Item]) -> np.ndarray:
        prepared = self._prepare(items)
        transport = self._shared.transport
        transport.usage.check_room(len(prepared.requests), f"embedding {len(items)} item(s)")
        self._report(items, prepared)
        client, resource = self._client()

        def send(req: Any) -> Any:
            def once() -> Any:
                response = client.predict(
                    endpoint=resource,
                    instances=req.body["instances"],
                    parameters=req.body["parameters"],
                    timeout=self.timeout,
                    retry=None,
                )
                predictions = plain(response.predictions)
                if len(predictions) != 1:
                    raise EmbeddingError(
                        f"{self.model} answered {len(predictions)} predictions for {req.label!r}"
                    )
                return predictions[0]

            return parse(req, transport.call(once, self.model, req), self.dim, self.model)

        results = transport.map(send, prepared.requests)
        parts: dict[int, list[tuple[float, np.ndarray]]] = {}
        unanswered: set[int] = set()
        for req, answer in zip(prepared.requests, results, strict=True):
            if isinstance(answer, BaseException):
                unanswered.add(req.item_index[0])
            else:
                parts.setdefault(req.item_index[0], []).extend(answer)
        out = np.empty((len(items), self.dim), dtype=np.float32)
        done = sorted(set(parts) - unanswered)  # every page/segment of the item answered
        for i in done:
            out[i] = pool(parts[i])
        try:
            raise_failures(self.model, results)
        except BaseException as exc:
            keep_finished(exc, items, done, out[done])  # raw rows; embed finishes them
            raise
        return out

    def _client(self) -> tuple[Any, str]:
        with self._shared.lock:
            if self._shared.client is None or self._shared.resource is None:
                self._shared.client, self._shared.resource = self._make_client()
            return self._shared.client, self._shared.resource

    def _make_client(self) -> tuple[Any, str]:
        try:
            from google.api_core.client_options import ClientOptions
            from google.cloud.aiplatform_v1.services.prediction_service import (
                PredictionServiceClient,
            )
        except ImportError as exc:
            raise ImportError(
                "the vertex embedder needs google-cloud-aiplatform "
                "(pip install 'mme-audit[google]')"
            ) from exc
        project = self.project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        if not project:
            import google.auth
            from google.auth.exceptions import DefaultCredentialsError

            try:
                _, project = google.auth.default()
            except DefaultCredentialsError as exc:
                raise EmbeddingError(_NO_ADC) from exc
        if not project:
            raise EmbeddingError(
                "no Google Cloud project: give ?project=.. or set GOOGLE_CLOUD_PROJECT"
            )
        endpoint = self.api_endpoint or f"{self.location}-aiplatform.googleapis.com"
        from google.auth.exceptions import DefaultCredentialsError

        try:
            client = self._shared.client or PredictionServiceClient(
                client_options=ClientOptions(api_endpoint=endpoint),
                transport="rest",
                credentials=self._credentials,
            )
        except DefaultCredentialsError as exc:
            raise EmbeddingError(_NO_ADC) from exc
        self._shared.project = project
        resource = (
            f"projects/{project}/locations/{self.location}/publishers/google/models/{self.model}"
        )
        return client, resource

    def _report(self, items: list[Item], prepared: Prepared) -> None:
        texts = [(it.id, str(it.content)) for it in items if it.modality == "text"]
        long_ids = over_limit(texts, VERTEX_MM_TOKEN_LIMIT)
        if long_ids:
            self._shared.report.add("over_estimate", long_ids)
            for item_id in long_ids:
                self._note(
                    item_id, f"text estimated over the documented {VERTEX_MM_TOKEN_LIMIT} tokens"
                )
            log.warning(
                "%s: %d text item(s) estimated over the documented %d-token limit; the model "
                "shortens them: %s",
                self.name,
                len(long_ids),
                VERTEX_MM_TOKEN_LIMIT,
                ids_text(long_ids),
            )
        cut = [*prepared.pages_cut, *prepared.video_cut]
        for item_id, (done, total) in prepared.pages_cut.items():
            self._note(item_id, f"embedded {done} of {total} pages")
        for item_id, seconds in prepared.video_cut.items():
            self._note(
                item_id, f"embedded the first {self.media.video_max_seconds} s of {seconds:.1f} s"
            )
        if cut:
            self._shared.report.add("media_cut", cut)
            log.warning(
                "%s: %d item(s) only partly embedded: %s", self.name, len(cut), ids_text(cut)
            )

    def _note(self, item_id: str, note: str) -> None:
        with self._shared.lock:
            notes = self._shared.notes.setdefault(item_id, [])
            if note not in notes:
                notes.append(note)


def from_spec(arg: str | None) -> VertexMultimodalEmbedder:
    """Build a :class:`VertexMultimodalEmbedder` from the part of the spec after ``vertex:``.

    ``<model>[?option=value&...]``; an empty model means multimodalembedding@001.
    Credentials are never accepted here (Application Default Credentials only).
    """
    from audit.embedders._google_spec import VERTEX_OPTIONS, parse_options

    model, _, query = (arg or "").partition("?")
    kwargs = parse_options(query, VERTEX_OPTIONS, "vertex")
    return VertexMultimodalEmbedder(model.strip() or VERTEX_MM_MODEL, **kwargs)
