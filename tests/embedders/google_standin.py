"""A local stand-in for Google's embedding REST APIs, for offline tests.

It answers what the official SDKs send when pointed at it through their standard endpoint
overrides (google-genai ``HttpOptions.base_url`` / ``GOOGLE_GEMINI_BASE_URL``; the
aiplatform GAPIC client's ``client_options.api_endpoint``):

- ``POST /v1beta/models/{model}:batchEmbedContents`` (Gemini API, ``x-goog-api-key``);
- ``POST /v1*/projects/{p}/locations/{l}/publishers/google/models/gemini-embedding-001:predict``
  (Vertex AI text embeddings, ``Authorization: Bearer``);
- ``POST /v1/projects/{p}/locations/{l}/publishers/google/models/multimodalembedding@001:predict``
  (see :mod:`vertex_standin`);
- ``POST /token`` (the OAuth token endpoint a service-account key file names).

Bodies are validated strictly against the documented schema (unknown field, bad task
type, size out of range, too many items, missing or wrong credentials); errors use
Google's format ``{"error": {"code", "message", "status"}}``. Vectors are deterministic
(hash-seeded) so tests compute the expected values independently of the client. Faults
are injected with :meth:`GoogleStandIn.inject`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np
import pytest
from vertex_standin import MM, Invalid, answer_multimodal, integral, keys, shorten

GEMINI = "gemini-embedding-001"
GEMINI_DIM = 3072
GEMINI_WORDS = 2048  # the stand-in's token rule: whitespace words
TASKS = {
    "RETRIEVAL_DOCUMENT",
    "RETRIEVAL_QUERY",
    "SEMANTIC_SIMILARITY",
    "CLASSIFICATION",
    "CLUSTERING",
    "CODE_RETRIEVAL_QUERY",
    "QUESTION_ANSWERING",
    "FACT_VERIFICATION",
}
API_KEY = "standin-api-key-0123"
ACCESS_TOKEN = "standin-access-token"
ERRORS = {  # fault kind -> (HTTP status, Google status)
    "throttle": (429, "RESOURCE_EXHAUSTED"),
    "unavailable": (503, "UNAVAILABLE"),
    "internal": (500, "INTERNAL"),
    "invalid": (400, "INVALID_ARGUMENT"),
    "denied": (403, "PERMISSION_DENIED"),
}
CORRUPTIONS = ("nan", "wrong_length", "missing", "malformed")


def reference_vector(model: str, key: str, content: str, dim: int) -> np.ndarray:
    """A unit vector seeded by (model, key, content, dim)."""
    seed = hashlib.sha256(f"{model}\x1f{key}\x1f{content}\x1f{dim}".encode()).digest()
    v = np.random.default_rng(int.from_bytes(seed[:8], "little")).normal(size=dim)
    return v / np.linalg.norm(v)


def gemini_vector(task: str, text: str, dim: int) -> np.ndarray:
    """gemini-embedding-001: the first ``dim`` values of the unit 3072-d vector (only the
    3072-d answer is normalised, as the docs say)."""
    return reference_vector(GEMINI, task, text, GEMINI_DIM)[:dim]


def mm_vector(kind: str, dim: int, content: str) -> np.ndarray:
    """multimodalembedding@001: an independent vector per (kind, dimension, content)."""
    return reference_vector(MM, kind, content, dim)


@dataclass
class Fault:
    """Fires ``times`` times on model requests whose raw body contains ``match``."""

    kind: str
    times: int = 1
    match: str | None = None
    seconds: float = 0.0


@dataclass
class Recorded:
    """One model request as received (integral floats in the body turned to ints)."""

    api: str
    path: str
    body: Any
    raw_size: int
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


@dataclass
class GoogleStandIn:
    """The HTTP server; use as a context manager. ``url`` is its base URL."""

    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    token_requests: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> GoogleStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Forget requests and pending faults (between tests sharing one server)."""
        with self._lock:
            self.requests.clear()
            self.faults.clear()

    def inject(
        self, kind: str, times: int = 1, match: str | None = None, seconds: float = 0.0
    ) -> None:
        """Add a fault: a kind of ``ERRORS``, "slow", or one of ``CORRUPTIONS``."""
        if kind not in ERRORS and kind not in CORRUPTIONS and kind != "slow":
            raise ValueError(kind)
        with self._lock:
            self.faults.append(Fault(kind, times, match, seconds))

    def bodies(self, api: str | None = None) -> list[Any]:
        """Bodies of the model requests so far (of one API if given)."""
        with self._lock:
            return [r.body for r in self.requests if api is None or r.api == api]

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    def _take_fault(self, raw: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and (fault.match is None or fault.match in raw):
                    fault.times -= 1
                    return fault
        return None

    # -- answering ----------------------------------------------------------------
    def answer(self, api: str, model: str, raw: str) -> tuple[int, Any]:
        """(HTTP status, JSON payload or raw text) of one authenticated model request."""
        fault = self._take_fault(raw)
        if fault is not None and fault.kind in ERRORS:
            status, name = ERRORS[fault.kind]
            return status, _error(status, name, f"injected {fault.kind}")
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        try:
            body = json.loads(raw)
            if api == "gemini":
                payload = _gemini(model, body)
            elif api == "vertex-text":
                payload = _vertex_text(body)
            else:
                payload = {
                    "predictions": [answer_multimodal(body, _mm_list)],
                    "deployedModelId": "1",
                }
        except (Invalid, ValueError) as exc:
            return 400, _error(400, "INVALID_ARGUMENT", str(exc))
        if fault is not None and fault.kind in CORRUPTIONS:
            if fault.kind == "malformed":
                return 200, "<html>not json"
            _corrupt(payload, fault.kind)
        return 200, payload


def _error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def _mm_list(kind: str, dim: int, content: str) -> list[float]:
    return [float(x) for x in mm_vector(kind, dim, content)]


def _vector_lists(payload: dict[str, Any]) -> list[list[float]]:
    if "embeddings" in payload:
        return [e["values"] for e in payload["embeddings"]]
    out = []
    for pred in payload["predictions"]:
        if "embeddings" in pred:
            out.append(pred["embeddings"]["values"])
        out += [pred[k] for k in ("textEmbedding", "imageEmbedding") if k in pred]
        out += [s["embedding"] for s in pred.get("videoEmbeddings", [])]
    return out


def _corrupt(payload: dict[str, Any], kind: str) -> None:
    if kind == "missing":
        (payload["embeddings"] if "embeddings" in payload else payload["predictions"]).pop()
        return
    vec = _vector_lists(payload)[0]
    if kind == "nan":
        vec[0] = float("nan")
    else:
        vec.pop()


def _gemini(model: str, body: Any) -> dict[str, Any]:
    if model != GEMINI:
        raise Invalid(f"models/{model} is not found for API version v1beta")
    keys(body, "request", {"requests"}, frozenset({"requests"}))
    reqs = body["requests"]
    if not isinstance(reqs, list) or not reqs:
        raise Invalid("* BatchEmbedContentsRequest.requests: must not be empty")
    if len(reqs) > 100:
        raise Invalid(
            "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch"
        )
    out = []
    for n, req in enumerate(reqs):
        where = f"requests[{n}]"
        keys(req, where, {"model", "content", "taskType", "title", "outputDimensionality"},
             frozenset({"model", "content"}))  # fmt: skip
        if req["model"] != f"models/{model}":
            raise Invalid(f"{where}.model {req['model']!r} does not match the URL's model")
        content = keys(req["content"], f"{where}.content", {"parts", "role"}, frozenset({"parts"}))
        parts = content["parts"]
        if not isinstance(parts, list) or not parts:
            raise Invalid(f"{where}.content.parts must not be empty")
        texts = [
            keys(p, f"{where}.content.parts", {"text"}, frozenset({"text"}))["text"] for p in parts
        ]
        if not all(isinstance(t, str) and t.strip() for t in texts):
            raise Invalid(f"{where}: text parts must be non-empty strings")
        task = req.get("taskType", "RETRIEVAL_QUERY")  # unspecified defaults to RETRIEVAL_QUERY
        if task not in TASKS:
            raise Invalid(f"Invalid value at '{where}.task_type', \"{task}\"")
        dim = integral(req.get("outputDimensionality", GEMINI_DIM), f"{where}.outputDimensionality")
        if not 128 <= dim <= GEMINI_DIM:
            raise Invalid(f"{where}.outputDimensionality {dim} is out of range [128, 3072]")
        text, _ = shorten(" ".join(texts), GEMINI_WORDS)  # silently; nothing in the answer
        out.append({"values": [float(x) for x in gemini_vector(task, text, dim)]})
    return {"embeddings": out}


def _vertex_text(body: Any) -> dict[str, Any]:
    keys(body, "request", {"instances", "parameters"}, frozenset({"instances"}))
    instances = body["instances"]
    if not isinstance(instances, list) or len(instances) != 1:
        raise Invalid("gemini-embedding-001 supports one instance per request")
    inst = keys(
        instances[0], "instances[0]", {"content", "task_type", "title"}, frozenset({"content"})
    )
    if not isinstance(inst["content"], str) or not inst["content"].strip():
        raise Invalid("instances[0].content must be a non-empty string")
    task = inst.get("task_type", "RETRIEVAL_QUERY")
    if task not in TASKS:
        raise Invalid(f"instances[0].task_type {task!r} is not a task type")
    params = keys(
        body.get("parameters", {}), "parameters", {"outputDimensionality", "autoTruncate"}
    )
    dim = integral(
        params.get("outputDimensionality", GEMINI_DIM), "parameters.outputDimensionality"
    )
    if not 1 <= dim <= GEMINI_DIM:
        raise Invalid(f"parameters.outputDimensionality {dim} is out of range")
    auto = params.get("autoTruncate", True)
    if not isinstance(auto, bool):
        raise Invalid("parameters.autoTruncate must be a boolean")
    text, cut = shorten(inst["content"], GEMINI_WORDS)
    if cut and not auto:
        raise Invalid("input is longer than the maximum number of tokens and autoTruncate is false")
    values = [float(x) for x in gemini_vector(task, text, dim)]
    stats = {"truncated": cut, "token_count": float(len(text.split()))}
    return {"predictions": [{"embeddings": {"values": values, "statistics": stats}}]}


def _ints(obj: Any) -> Any:
    """Integral floats to ints, so a recorded body compares equal to what the client built."""
    if isinstance(obj, dict):
        return {k: _ints(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_ints(v) for v in obj]
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    return obj


def _route(path: str) -> tuple[str, str] | None:
    """(api, model) of a model URL, or None."""
    parts = unquote(path).split("/")
    if len(parts) == 4 and parts[1] == "v1beta" and parts[2] == "models":
        model, _, method = parts[3].partition(":")
        return ("gemini", model) if method == "batchEmbedContents" else None
    if len(parts) == 10 and parts[1] in ("v1", "v1beta1") and parts[2] == "projects":
        model, _, method = parts[9].partition(":")
        if parts[4] != "locations" or parts[6:9] != ["publishers", "google", "models"]:
            return None
        if method != "predict":
            return None
        if model == GEMINI:
            return "vertex-text", model
        return ("vertex-mm", model) if model == MM else None
    return None


def _handler_for(standin: GoogleStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            # GetPublisherModel, which vertexai's MultiModalEmbeddingModel.from_pretrained calls
            path = unquote(urlsplit(self.path).path)
            if path != f"/v1/publishers/google/models/{MM}":
                self._send(404, _error(404, "NOT_FOUND", f"no route for {path}"))
                return
            template = (
                f"projects/{{user-project}}/locations/{{location}}/publishers/google/models/{MM}"
            )
            schema = "gs://google-cloud-aiplatform/schema/predict/instance/vision_embedding_model_1.0.0.yaml"
            self._send(200, {
                "name": f"publishers/google/models/{MM}",
                "publisherModelTemplate": template,
                "predictSchemata": {"instanceSchemaUri": schema},
            })  # fmt: skip

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            url = urlsplit(self.path)
            if url.path == "/token":
                form = parse_qs(raw)
                if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
                    self._send(400, {"error": "unsupported_grant_type"})
                    return
                with standin._lock:
                    standin.token_requests += 1
                self._send(
                    200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
                )
                return
            route = _route(url.path)
            if route is None:
                self._send(404, _error(404, "NOT_FOUND", f"no route for {url.path}"))
                return
            api, model = route
            try:
                parsed: Any = _ints(json.loads(raw))
            except ValueError:
                parsed = raw
            seen = {k.lower(): v for k, v in self.headers.items()}
            standin._record(Recorded(api, unquote(url.path), parsed, len(raw.encode()), seen))
            denied = self._auth(api, seen, url.query)
            if denied is not None:
                self._send(*denied)
                return
            self._send(*standin.answer(api, model, raw))

        def _auth(self, api: str, headers: dict[str, str], query: str) -> tuple[int, Any] | None:
            if api == "gemini":
                key = headers.get("x-goog-api-key") or (parse_qs(query).get("key") or [None])[0]
                if key is None:
                    return 403, _error(
                        403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers"
                    )
                if key != API_KEY:
                    return 400, _error(
                        400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."
                    )
                return None
            auth = headers.get("authorization", "")
            token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
            # an access token from /token, or a self-signed service-account JWT
            if token != ACCESS_TOKEN and token.count(".") != 2:
                return 401, _error(
                    401, "UNAUTHENTICATED", "Request is missing required authentication credential."
                )
            return None

        def _send(self, status: int, payload: Any) -> None:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout)

    return Handler


ENV_VARS = (
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_ENTERPRISE",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_VERTEX_BASE_URL",
    "GOOGLE_APPLICATION_CREDENTIALS",
)


def service_account_file(path: Path, token_uri: str) -> Path:
    """A service-account key file (fresh RSA key) whose token endpoint is the stand-in."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "standin-project",
        "private_key_id": "standin-key-1",
        "private_key": pem,
        "client_email": "auditor@standin-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))
    return path


def google_env(
    monkeypatch: pytest.MonkeyPatch, standin: GoogleStandIn, key_file: Path | None, tmp: Path
) -> None:
    """Point the SDKs at ``standin`` through their standard settings, offline.

    ``GEMINI_API_KEY`` and ``GOOGLE_GEMINI_BASE_URL``/``GOOGLE_VERTEX_BASE_URL`` for
    google-genai; Application Default Credentials from ``key_file`` (None: no credentials);
    no gcloud configuration and no metadata-server probe.
    """
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", standin.url)
    monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", standin.url)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp / "no-gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    if key_file is not None:
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
