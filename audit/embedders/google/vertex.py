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

import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from audit.embedders.base import EmbeddingError
from audit.embedders.google._base import GoogleEmbedder, check_call_settings
from audit.embedders.google._limits import (
    VERTEX_MM_DIMS,
    VERTEX_MM_MODEL,
    VERTEX_MM_NATIVE_DIM,
    VERTEX_MM_TOKEN_LIMIT,
    VERTEX_MM_VIDEO_DIM,
    VERTEX_MM_WINDOW_SECONDS,
    ids_text,
    video_mode,
)
from audit.embedders.google._media import MediaSettings
from audit.embedders.google._transport import BudgetExceededError, GoogleCallError, Request
from audit.embedders.google._vertex_body import Prepared, parse, plain, pool, prepare
from audit.embedders.hosted import RetryPolicy, safe_endpoint
from audit.items import BadItemsError, Item, ItemError

__all__ = [
    "BudgetExceededError",
    "GoogleCallError",
    "RetryPolicy",
    "VertexMultimodalEmbedder",
    "from_spec",
]

log = logging.getLogger(__name__)

_NO_ADC = (
    "no Google Cloud credentials: run `gcloud auth application-default login` or set "
    "GOOGLE_APPLICATION_CREDENTIALS (Application Default Credentials)"
)


class VertexMultimodalEmbedder(GoogleEmbedder):
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

    dims = VERTEX_MM_DIMS
    token_limit = VERTEX_MM_TOKEN_LIMIT
    shortens = "the model shortens them"
    log = log

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
        check_call_settings(long_text, timeout)
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
        self._credentials = credentials
        self._start_google(
            "vertex",
            long_text=long_text,
            timeout=timeout,
            max_workers=max_workers,
            retry=retry,
            max_requests=max_requests,
            client=client,
            resource=None,
            project=None,
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
            "project": self.project or self._shared.extra["project"],
            "location": self.location,
            **self._call_settings(),
        }
        out["usage"] = self.usage
        out["truncation"] = self._shared.extra["report"].as_dict()
        return out

    # -- hooks of the hosted base -------------------------------------------------------
    def _check(self, items: list[Item], purpose: str, dim: int | None) -> None:
        if self.dim != VERTEX_MM_VIDEO_DIM:
            video = [
                ItemError(it.id, f"video is embedded only at dimension {VERTEX_MM_VIDEO_DIM} "
                          f"(this embedder requests {self.dim})")
                for it in items
                if it.modality == "video"
            ]  # fmt: skip
            if video:
                raise BadItemsError(video)
        super()._check(items, purpose, dim)

    def _requests(self, items: list[Item], purpose: str, *, record: bool) -> Prepared:
        return self._prepare(items)

    def _before_send(self, items: list[Item], requests: Prepared) -> None:
        self._report(items, requests)

    def _connect(self) -> None:
        self._client()

    def _send(self, request: Request) -> Any:
        client, resource = self._client()

        def once() -> Any:
            response = client.predict(
                endpoint=resource,
                instances=request.body["instances"],
                parameters=request.body["parameters"],
                timeout=self.timeout,
                retry=None,
            )
            predictions = plain(response.predictions)
            if len(predictions) != 1:
                raise EmbeddingError(
                    f"{self.model} answered {len(predictions)} predictions for {request.label!r}"
                )
            return predictions[0]

        return self._shared.transport.call(once, self.model, request.label, size=request.size)

    def _parse(self, request: Request, answer: Any, items: list[Item]) -> list[tuple[int, Any]]:
        (position,) = request.item_index
        return [(position, piece) for piece in parse(request, answer, self.dim, self.model)]

    def _pool(self, items: list[Item], pieces: Mapping[int, list[Any]]) -> np.ndarray:
        out = np.empty((len(items), self.dim), dtype=np.float32)
        for i, parts in pieces.items():
            out[i] = pool(parts)
        return out

    def _prepare(self, items: list[Item]) -> Prepared:
        self._refuse_long([(it.id, str(it.content)) for it in items if it.modality == "text"])
        return prepare(items, self.dim, self.media)

    def _client(self) -> tuple[Any, str]:
        extra = self._shared.extra
        with self._shared.lock:
            if extra["client"] is None or extra["resource"] is None:
                extra["client"], extra["resource"] = self._make_client()
            return extra["client"], extra["resource"]

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
            client = self._shared.extra["client"] or PredictionServiceClient(
                client_options=ClientOptions(api_endpoint=endpoint),
                transport="rest",
                credentials=self._credentials,
            )
        except DefaultCredentialsError as exc:
            raise EmbeddingError(_NO_ADC) from exc
        self._shared.extra["project"] = project
        resource = (
            f"projects/{project}/locations/{self.location}/publishers/google/models/{self.model}"
        )
        return client, resource

    def _report(self, items: list[Item], prepared: Prepared) -> None:
        self._report_long([(it.id, str(it.content)) for it in items if it.modality == "text"])
        cut = [*prepared.pages_cut, *prepared.video_cut]
        for item_id, (done, total) in prepared.pages_cut.items():
            self._note(item_id, f"embedded {done} of {total} pages")
        for item_id, seconds in prepared.video_cut.items():
            self._note(
                item_id, f"embedded the first {self.media.video_max_seconds} s of {seconds:.1f} s"
            )
        if cut:
            self._shared.extra["report"].add("media_cut", cut)
            log.warning(
                "%s: %d item(s) only partly embedded: %s", self.name, len(cut), ids_text(cut)
            )


def from_spec(arg: str | None) -> VertexMultimodalEmbedder:
    """Build a :class:`VertexMultimodalEmbedder` from the part of the spec after ``vertex:``.

    ``<model>[?option=value&...]``; an empty model means multimodalembedding@001.
    Credentials are never accepted here (Application Default Credentials only).
    """
    from audit.embedders.google._spec import VERTEX_OPTIONS, parse_options

    model, _, query = (arg or "").partition("?")
    kwargs = parse_options(query, VERTEX_OPTIONS, "vertex")
    return VertexMultimodalEmbedder(model.strip() or VERTEX_MM_MODEL, **kwargs)
