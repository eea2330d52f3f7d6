"""Google Gemini Embedding (``gemini-embedding-001``) through the official ``google-genai`` SDK.

Spec: ``gemini:<model>[?option=value&...]``, e.g.
``gemini:gemini-embedding-001?dim=768&vertexai=0``. See docs/embedders-google.md.

Text only (the model's only input). Two surfaces, same model:

- Gemini API (default): ``POST {base}/v1beta/models/{model}:batchEmbedContents`` with
  ``{"requests": [{"model", "content": {"parts": [{"text"}]}, "taskType",
  "outputDimensionality"}]}``, at most 100 texts per request, answered
  ``{"embeddings": [{"values": [...]}]}``; authenticated by ``x-goog-api-key`` from
  ``GEMINI_API_KEY``/``GOOGLE_API_KEY``. No token count or truncation flag comes back.
- Vertex AI (``vertexai=1``): ``POST .../publishers/google/models/{model}:predict`` with
  one instance ``{"content", "task_type"}`` and ``parameters {"outputDimensionality",
  "autoTruncate"}``; answered ``predictions[{"embeddings": {"values", "statistics":
  {"truncated", "token_count"}}}]``; authenticated by Application Default Credentials.

Sizes: ``dim`` (128..3072, default 3072) is sent as ``outputDimensionality``. The service
truncates the 3072-d vector from the end and only the 3072-d output is normalised, so rows
are always re-normalised here; ``embed(dim=k)`` truncates the ``dim``-sized answer on the
client, which is the same vector the service would send for ``k``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from audit.embedders.base import EmbeddingError
from audit.embedders.google._base import GoogleEmbedder, check_call_settings
from audit.embedders.google._limits import (
    GEMINI_BATCH_LIMIT,
    GEMINI_MIN_DIM,
    GEMINI_MODEL,
    GEMINI_NATIVE_DIM,
    GEMINI_RECOMMENDED_DIMS,
    GEMINI_TASK_TYPES,
    GEMINI_TOKEN_LIMIT,
    ids_text,
)
from audit.embedders.google._transport import BudgetExceededError, GoogleCallError, Request
from audit.embedders.hosted import RetryPolicy, check_endpoint, safe_endpoint
from audit.items import Item

__all__ = [
    "BudgetExceededError",
    "GeminiEmbedder",
    "GoogleCallError",
    "RetryPolicy",
    "from_spec",
]

log = logging.getLogger(__name__)


class GeminiEmbedder(GoogleEmbedder):
    """Text embeddings from ``gemini-embedding-001`` (Gemini API or Vertex AI).

    Parameters
    ----------
    model : str
        ``gemini-embedding-001`` (the one text-only Gemini embedding model; the
        multimodal ``gemini-embedding-2`` family has another request shape and is not
        implemented).
    dim : int, optional
        ``outputDimensionality`` in [128, 3072]; default 3072.
    index_task, query_task : str
        Task type sent for ``purpose="index"`` / ``"query"`` (RETRIEVAL_DOCUMENT /
        RETRIEVAL_QUERY by default); one of :data:`GEMINI_TASK_TYPES`.
    task : str, optional
        One task type for both purposes (e.g. SEMANTIC_SIMILARITY, CLUSTERING).
    vertexai : bool
        Use Vertex AI (ADC credentials, ``project``/``location``) instead of the Gemini API.
    project, location : str, optional
        Vertex AI project and region (else ``GOOGLE_CLOUD_PROJECT``/``GOOGLE_CLOUD_LOCATION``).
    base_url : str, optional
        Endpoint override (``HttpOptions.base_url``); else the SDK reads
        ``GOOGLE_GEMINI_BASE_URL`` / ``GOOGLE_VERTEX_BASE_URL``, else Google's endpoint.
    batch_size : int
        Texts per ``batchEmbedContents`` request (1..100; Vertex always sends one).
    long_text : {"report", "error"}
        Text estimated over 2,048 tokens is sent and reported (the service truncates it),
        or refused before anything is sent. On Vertex, ``error`` also sends
        ``autoTruncate=false``.
    timeout : float
        Seconds per attempt.
    max_workers : int
        Concurrent requests.
    retry : RetryPolicy, optional
        Backoff policy for 408/429/5xx and transport errors.
    max_requests : int, optional
        Request budget (attempts, retries included); a call that would exceed it fails
        before sending (:class:`BudgetExceededError`).
    client : object, optional
        A prebuilt ``google.genai.Client`` (otherwise built on first use).
    """

    modalities = frozenset({"text"})
    token_limit = GEMINI_TOKEN_LIMIT
    shortens = "the service truncates them"
    log = log

    def __init__(
        self,
        model: str = GEMINI_MODEL,
        *,
        dim: int | None = None,
        index_task: str | None = None,
        query_task: str | None = None,
        task: str | None = None,
        vertexai: bool = False,
        project: str | None = None,
        location: str | None = None,
        base_url: str | None = None,
        batch_size: int = GEMINI_BATCH_LIMIT,
        long_text: str = "report",
        timeout: float = 60.0,
        max_workers: int = 4,
        retry: RetryPolicy | None = None,
        max_requests: int | None = None,
        client: Any = None,
    ) -> None:
        super().__init__()
        if model != GEMINI_MODEL:
            raise ValueError(
                f"gemini model {model!r} is not supported; use {GEMINI_MODEL} (the "
                "multimodal gemini-embedding-2 models take another request shape)"
            )
        if task is not None and (index_task is not None or query_task is not None):
            raise ValueError("give either task or index_task/query_task, not both")
        index_task = task or index_task or "RETRIEVAL_DOCUMENT"
        query_task = task or query_task or "RETRIEVAL_QUERY"
        for name, value in (("index_task", index_task), ("query_task", query_task)):
            if value not in GEMINI_TASK_TYPES:
                raise ValueError(
                    f"{name} must be one of {', '.join(GEMINI_TASK_TYPES)}, got {value!r}"
                )
        if not 1 <= batch_size <= GEMINI_BATCH_LIMIT:
            raise ValueError(f"batch_size must be in [1, {GEMINI_BATCH_LIMIT}], got {batch_size}")
        check_call_settings(long_text, timeout)
        check_endpoint("base_url", base_url)
        self.model = model
        self.name = f"gemini:{model}"
        self.index_task, self.query_task = index_task, query_task
        self.vertexai = bool(vertexai)
        self.project, self.location = project, location
        self.base_url = base_url
        self.batch_size = 1 if self.vertexai else batch_size
        self._start_google(
            "gemini",
            long_text=long_text,
            timeout=timeout,
            max_workers=max_workers,
            retry=retry,
            max_requests=max_requests,
            client=client,
        )
        self._set_dim(GEMINI_NATIVE_DIM if dim is None else dim)

    def _set_dim(self, dim: int) -> None:
        if (
            isinstance(dim, bool)
            or not isinstance(dim, int)
            or not GEMINI_MIN_DIM <= dim <= GEMINI_NATIVE_DIM
        ):
            raise ValueError(
                f"dim must be an int in [{GEMINI_MIN_DIM}, {GEMINI_NATIVE_DIM}], got {dim!r}"
            )
        self.dim = dim
        self.matryoshka_dims = tuple(
            sorted({d for d in GEMINI_RECOMMENDED_DIMS if d <= dim} | {dim})
        )
        # everything that changes the vectors; the fingerprint (cache key) hashes it
        self.params = {
            "model_id": self.model,
            "api": "vertex-ai" if self.vertexai else "gemini-api",
            "output_dimensionality": dim,
            "index_task": self.index_task,
            "query_task": self.query_task,
            "renormalized": True,
            "long_text": "service-truncates" if self.long_text == "report" else "refused",
        }

    # -- public API -----------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """What the report records: model, sizes, output-changing params, client, usage."""
        out = super().describe()
        out["model_id"] = self.model
        out["served_dim_range"] = [GEMINI_MIN_DIM, GEMINI_NATIVE_DIM]
        env = "GOOGLE_VERTEX_BASE_URL" if self.vertexai else "GOOGLE_GEMINI_BASE_URL"
        out["client"] = {
            "api": self.params["api"],
            "endpoint": safe_endpoint(self.base_url or os.environ.get(env)),
            "project": self.project if self.vertexai else None,
            "location": self.location if self.vertexai else None,
            "batch_size": self.batch_size,
            **self._call_settings(),
        }
        out["usage"] = self.usage
        out["truncation"] = self._shared.extra["report"].as_dict()
        return out

    # -- hooks of the hosted base -------------------------------------------------------
    def _room_label(self, modality: str, items: list[Item]) -> str:
        return f"embedding {len(items)} text item(s)"

    def _before_send(self, items: list[Item], requests: list[Request]) -> None:
        self._report_long([(it.id, str(it.content)) for it in items])

    def _connect(self) -> None:
        self._client()

    def _send(self, request: Request) -> Any:
        client = self._client()
        return self._shared.transport.call(
            lambda: self._call_sdk(client, request), self.model, request.label, size=request.size
        )

    def _parse(self, request: Request, answer: Any, items: list[Item]) -> list[tuple[int, Any]]:
        return list(zip(request.item_index, self._rows(items, request, answer), strict=True))

    def _pool(self, items: list[Item], pieces: Mapping[int, list[Any]]) -> np.ndarray:
        out = np.empty((len(items), self.dim), dtype=np.float32)
        for i, (row,) in pieces.items():
            out[i] = row
        return out

    def _task(self, purpose: str) -> str:
        return self.index_task if purpose == "index" else self.query_task

    def _requests(self, items: list[Item], purpose: str, *, record: bool) -> list[Request]:
        """The bodies the SDK sends, built offline (one per batch, or per text on Vertex)."""
        self._refuse_long([(it.id, str(it.content)) for it in items])
        task = self._task(purpose)
        requests: list[Request] = []
        for start in range(0, len(items), self.batch_size):
            chunk = list(range(start, min(start + self.batch_size, len(items))))
            texts = [str(items[i].content) for i in chunk]
            if self.vertexai:
                body: dict[str, Any] = {
                    "instances": [{"content": texts[0], "task_type": task}],
                    "parameters": {
                        "outputDimensionality": self.dim,
                        "autoTruncate": self.long_text == "report",
                    },
                }
            else:
                body = {
                    "requests": [
                        {
                            "content": {"parts": [{"text": t}], "role": "user"},
                            "taskType": task,
                            "outputDimensionality": self.dim,
                            "model": f"models/{self.model}",
                        }
                        for t in texts
                    ]
                }
            label = items[chunk[0]].id if len(chunk) == 1 else (
                f"{items[chunk[0]].id}..{items[chunk[-1]].id} ({len(chunk)} items)"
            )  # fmt: skip
            units = {"text_chars": sum(len(t) for t in texts)}
            requests.append(Request(tuple(chunk), label, body, units))
        return requests

    def _client(self) -> Any:
        extra = self._shared.extra
        with self._shared.lock:
            if extra["client"] is None:
                extra["client"] = self._make_client()
            return extra["client"]

    def _make_client(self) -> Any:
        try:
            from google import genai
            from google.genai import types
        except ImportError as exc:
            raise ImportError(
                "the gemini embedder needs google-genai (pip install 'mme-audit[google]')"
            ) from exc
        http = types.HttpOptions(base_url=self.base_url, timeout=int(self.timeout * 1000))
        try:
            if self.vertexai:
                return genai.Client(
                    vertexai=True, project=self.project, location=self.location, http_options=http
                )
            return genai.Client(vertexai=False, http_options=http)
        except ValueError as exc:
            where = (
                "Vertex AI needs a project and location (?project=..&location=.. or "
                "GOOGLE_CLOUD_PROJECT/GOOGLE_CLOUD_LOCATION) and Application Default Credentials"
                if self.vertexai
                else "the Gemini API needs an API key in GEMINI_API_KEY or GOOGLE_API_KEY"
            )
            raise EmbeddingError(f"cannot create the Gemini client: {where}") from exc

    def _call_sdk(self, client: Any, req: Request) -> Any:
        from google.genai import types

        if self.vertexai:
            texts = [inst["content"] for inst in req.body["instances"]]
            params = req.body["parameters"]
            config = types.EmbedContentConfig(
                task_type=req.body["instances"][0]["task_type"],
                output_dimensionality=params["outputDimensionality"],
                auto_truncate=params["autoTruncate"],
            )
        else:
            texts = [r["content"]["parts"][0]["text"] for r in req.body["requests"]]
            first = req.body["requests"][0]
            config = types.EmbedContentConfig(
                task_type=first["taskType"], output_dimensionality=first["outputDimensionality"]
            )
        return client.models.embed_content(model=self.model, contents=texts, config=config)

    def _rows(self, items: list[Item], req: Request, answer: Any) -> np.ndarray:
        """One checked row per item of ``req``; records service-reported truncation."""
        ids = [items[i].id for i in req.item_index]
        embeddings = list(getattr(answer, "embeddings", None) or [])
        if len(embeddings) != len(ids):
            raise EmbeddingError(
                f"{self.name} answered {len(embeddings)} embedding(s) for {len(ids)} item(s): "
                f"{ids_text(ids)}"
            )
        rows = np.empty((len(ids), self.dim), dtype=np.float32)
        for k, (item_id, emb) in enumerate(zip(ids, embeddings, strict=True)):
            values = getattr(emb, "values", None)
            try:
                vec = np.asarray(values, dtype=np.float32)
            except (TypeError, ValueError):
                raise EmbeddingError(
                    f"{self.name} answered non-numeric values for item {item_id!r}"
                ) from None
            if vec.shape != (self.dim,):
                raise EmbeddingError(
                    f"{self.name} answered a vector of shape {vec.shape} for item {item_id!r}; "
                    f"expected ({self.dim},)"
                )
            rows[k] = vec  # NaN/inf/zero rows are named by check_vectors
            stats = getattr(emb, "statistics", None)
            if stats is not None and getattr(stats, "truncated", False):
                self._shared.extra["report"].add("truncated_by_service", [item_id])
                self._note(item_id, "service truncated the text (statistics.truncated)")
        return rows


def from_spec(arg: str | None) -> GeminiEmbedder:
    """Build a :class:`GeminiEmbedder` from the part of the spec after ``gemini:``.

    ``<model>[?option=value&...]``; an empty model means gemini-embedding-001. Options
    are listed in docs/embedders-google.md; credentials are never accepted here.
    """
    from audit.embedders.google._spec import GEMINI_OPTIONS, parse_options

    model, _, query = (arg or "").partition("?")
    kwargs = parse_options(query, GEMINI_OPTIONS, "gemini")
    return GeminiEmbedder(model.strip() or GEMINI_MODEL, **kwargs)
