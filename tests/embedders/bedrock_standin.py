"""A local stand-in for the Bedrock runtime ``InvokeModel`` API, for offline tests.

Cohere Embed v4 and TwelveLabs Marengo Embed 2.7 bodies are validated and answered by
``bedrock_standin_extra``. It speaks what botocore's ``bedrock-runtime`` service model
(rest-json) expects:
``POST /model/{modelId}/invoke`` with the JSON body as payload; errors as an HTTP status
with the error type in the ``X-Amzn-ErrorType`` header (or ``__type`` in the body) and
``{"message": ...}``. It validates request bodies strictly against the documented schema
(nova-mme-api.md): an unknown or missing field, a wrong enum, two inputs where one is
allowed, a size outside the allowed set -> 400 ValidationException. Embeddings are
deterministic (hash-seeded, Matryoshka-style: a smaller size is the renormalised prefix of
the largest) so tests can compute the expected vector independently of the client.
Faults are injected on demand with :meth:`BedrockStandIn.inject`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import threading
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pytest

NOVA = "amazon.nova-2-multimodal-embeddings-v1:0"
TITAN_TEXT = "amazon.titan-embed-text-v2:0"
TITAN_MM = "amazon.titan-embed-image-v1"
COHERE = "cohere.embed-v4:0"
MARENGO = "twelvelabs.marengo-embed-2-7-v1:0"
NATIVE = {NOVA: 3072, TITAN_TEXT: 1024, TITAN_MM: 1024, COHERE: 1536, MARENGO: 1024}
# geography prefixes of cross-region inference profiles ("us.<model-id>")
PROFILE_PREFIXES = ("us", "eu", "apac", "ap", "global", "us-gov", "jp", "au", "ca")

NOVA_PURPOSES = {
    "GENERIC_INDEX",
    "GENERIC_RETRIEVAL",
    "TEXT_RETRIEVAL",
    "IMAGE_RETRIEVAL",
    "VIDEO_RETRIEVAL",
    "DOCUMENT_RETRIEVAL",
    "AUDIO_RETRIEVAL",
    "CLASSIFICATION",
    "CLUSTERING",
}
NOVA_DIMS = {256, 384, 1024, 3072}
SIGNATURES = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "webp": (b"RIFF",),
    "wav": (b"RIFF",),
    "mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    "ogg": (b"OggS",),
}
VIDEO_FORMATS = {"mp4", "mov", "mkv", "webm", "flv", "mpeg", "mpg", "wmv", "3gp"}
INLINE_LIMIT = 25_000_000
TEXT_LIMIT = 8192

ERRORS = {  # fault kind -> (HTTP status, error type)
    "throttle": (429, "ThrottlingException"),
    "unavailable": (503, "ServiceUnavailableException"),
    "internal": (500, "InternalServerException"),
    "model_timeout": (408, "ModelTimeoutException"),
    "not_ready": (429, "ModelNotReadyException"),
    "validation": (400, "ValidationException"),
    "access_denied": (403, "AccessDeniedException"),
    "model_error": (424, "ModelErrorException"),
}


# Reads s3://bucket/key for s3Location sources; set by bedrock_async_standin.s3_standin.
s3_reader: Callable[[str], bytes] | None = None
ASYNC_FAULTS = ("segment_failure", "job_failed")


class Invalid(Exception):
    """A request body that the real service would refuse with a ValidationException."""


def reference_vector(model_id: str, purpose: str, content: str, dim: int) -> np.ndarray:
    """The stand-in's embedding: prefix of a hash-seeded native vector, L2-normalised."""
    seed = hashlib.sha256(f"{model_id}\x1f{purpose}\x1f{content}".encode()).digest()
    full = np.random.default_rng(int.from_bytes(seed[:8], "little")).normal(size=NATIVE[model_id])
    v = full[:dim]
    return v / np.linalg.norm(v)


@dataclass
class Fault:
    """An injected fault: fires ``times`` times on requests whose body contains ``match``."""

    kind: str
    times: int = 1
    match: str | None = None
    seconds: float = 0.0


@dataclass
class Recorded:
    """One request as received."""

    model_id: str
    body: Any
    content_type: str
    signed: bool


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog of 5 drops connections under 16-way load
    request_queue_size = 128


@dataclass
class BedrockStandIn:
    """The HTTP server; use as a context manager. ``url`` is its endpoint."""

    error_style: str = "header"  # "header": X-Amzn-ErrorType; "body": JSON "__type"
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # answers /async-invoke (StartAsyncInvoke, GetAsyncInvoke); see bedrock_async_standin
    async_handler: Any = None
    # Cohere answers {"embeddings": {"float": ...}} (by type) even for ["float"] when set:
    # the guide documents a list for one type, third-party clients report the dict.
    cohere_by_type: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # a short poll interval: shutdown() waits for the loop's next poll (default 0.5 s)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> BedrockStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def inject(self, kind: str, times: int = 1, match: str | None = None, seconds: float = 0.0):
        """Add a fault: an error kind of ``ERRORS``, or "slow", "nan", "null", "wrong_length"."""
        extra = ("slow", "nan", "null", "wrong_length", *ASYNC_FAULTS)
        if kind not in ERRORS and kind not in extra:
            raise ValueError(kind)
        with self._lock:
            self.faults.append(Fault(kind, times, match, seconds))

    def bodies(self) -> list[Any]:
        """Bodies of all requests so far."""
        with self._lock:
            return [r.body for r in self.requests]

    def _take_fault(self, raw: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and (fault.match is None or fault.match in raw):
                    fault.times -= 1
                    return fault
        return None

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    # -- answering --------------------------------------------------------------------
    def answer(self, model_id: str, raw: str) -> tuple[int, str | None, Any]:
        """(status, error type or None, JSON payload) for one request."""
        fault = self._take_fault(raw)
        if fault is not None and fault.kind in ERRORS:
            status, code = ERRORS[fault.kind]
            return status, code, {"message": f"injected {fault.kind}"}
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        base_id, profile = base_model(model_id)
        if base_id not in NATIVE:
            return (
                400,
                "ValidationException",
                {"message": "The provided model identifier is invalid."},
            )
        if base_id == MARENGO and not profile:
            # AWS: Marengo's InvokeModel is offered for inference profiles only.
            message = (
                f"Invocation of model ID {model_id} with on-demand throughput isn't supported. "
                "Retry your request with the ID or ARN of an inference profile that contains "
                "this model."
            )
            return 400, "ValidationException", {"message": message}
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise Invalid("body must be a JSON object")
            payload = self._dispatch(base_id, body, raw)
        except (Invalid, ValueError) as exc:
            return 400, "ValidationException", {"message": f"Malformed input request: {exc}"}
        if fault is not None and fault.kind in ("nan", "null", "wrong_length"):
            _corrupt(payload, fault.kind, fault.match)
        return 200, None, payload

    def _dispatch(self, base_id: str, body: dict[str, Any], raw: str) -> dict[str, Any]:
        if base_id in (COHERE, MARENGO):
            import bedrock_standin_extra as extra

            if base_id == COHERE:
                return extra.cohere(body, raw, by_type=self.cohere_by_type)
            return extra.marengo_sync(body)
        return {NOVA: _nova, TITAN_TEXT: _titan_text, TITAN_MM: _titan_mm}[base_id](body)


def base_model(model_id: str) -> tuple[str, bool]:
    """``(base model id, whether model_id is a cross-region inference profile)``."""
    model_id = model_id.rsplit("/", 1)[-1]
    head, _, rest = model_id.partition(".")
    if head in PROFILE_PREFIXES and rest in NATIVE:
        return rest, True
    return model_id, False


def _corrupt(payload: dict[str, Any], kind: str, match: str | None) -> None:
    """Spoil one vector: the one whose request entry holds ``match`` (Cohere), else the first."""
    if "data" in payload:  # Marengo
        entry, key = payload["data"][0], "embedding"
    elif (
        "embeddings" in payload
        and isinstance(payload["embeddings"], dict | list)
        and ("texts" in payload or "inputs" in payload or "response_type" in payload)
    ):  # Cohere: a list of vectors (or a dict of lists), one per entry
        rows = payload["embeddings"]
        rows = rows["float"] if isinstance(rows, dict) else rows
        entries = payload.get("texts") or [json.dumps(e) for e in payload.get("inputs", [])]
        n = next((i for i, e in enumerate(entries) if match and match in str(e)), 0)
        entry, key = rows, n
    elif "embeddings" in payload:  # Nova
        entry, key = payload["embeddings"][0], "embedding"
    else:
        entry, key = payload, "embedding"
    vec = entry[key]
    if kind == "nan":
        vec[0] = float("nan")
    elif kind == "null":
        vec[0] = None
    else:
        entry[key] = vec[:-1]


def _keys(obj: Any, where: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
    if not isinstance(obj, dict):
        raise Invalid(f"{where} must be an object")
    unknown = set(obj) - allowed
    if unknown:
        raise Invalid(f"{where}: extraneous key(s) {sorted(unknown)} are not permitted")
    missing = required - set(obj)
    if missing:
        raise Invalid(f"{where}: required key(s) {sorted(missing)} not found")
    return obj


def _enum(value: Any, where: str, allowed: set[str]) -> str:
    if value not in allowed:
        raise Invalid(f"{where}: {value!r} is not one of {sorted(allowed)}")
    return value


def _dimension(value: Any, where: str, allowed: set[int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise Invalid(f"{where}: {value!r} is not one of {sorted(allowed)}")
    return value


def _media(source: Any, where: str, fmt: str | None) -> tuple[str, bytes]:
    src = _keys(source, where, {"bytes", "s3Location"})
    if len(src) != 1:
        raise Invalid(f"{where}: exactly one of bytes, s3Location is required")
    if "s3Location" in src:
        loc = _keys(src["s3Location"], f"{where}.s3Location", {"uri", "bucketOwner"}, {"uri"})
        if s3_reader is None:
            raise Invalid(f"{where}: no S3 reachable by this stand-in")
        data = s3_reader(loc["uri"])  # raises Invalid for a missing object
        if fmt in SIGNATURES and not data.startswith(SIGNATURES[fmt]):
            raise Invalid(f"{where}: content is not {fmt}")
        # the vector depends on the content only, so S3 and inline sources agree
        return base64.b64encode(data).decode(), data
    b64 = src["bytes"]
    if not isinstance(b64, str) or len(b64) > INLINE_LIMIT:
        raise Invalid(f"{where}.bytes must be a base64 string of at most {INLINE_LIMIT} bytes")
    try:
        data = base64.b64decode(b64, validate=True)
    except binascii.Error as exc:
        raise Invalid(f"{where}.bytes is not valid base64") from exc
    if fmt in SIGNATURES and not data.startswith(SIGNATURES[fmt]):
        raise Invalid(f"{where}: content is not {fmt}")
    return b64, data


def _nova(body: dict[str, Any]) -> dict[str, Any]:
    _keys(body, "body", {"schemaVersion", "taskType", "singleEmbeddingParams"},
          {"taskType", "singleEmbeddingParams"})  # fmt: skip
    if "schemaVersion" in body:
        _enum(body["schemaVersion"], "schemaVersion", {"nova-multimodal-embed-v1"})
    _enum(body["taskType"], "taskType", {"SINGLE_EMBEDDING"})
    p = _keys(
        body["singleEmbeddingParams"],
        "singleEmbeddingParams",
        {"embeddingPurpose", "embeddingDimension", "text", "image", "audio", "video"},
        {"embeddingPurpose"},
    )
    purpose = _enum(p["embeddingPurpose"], "embeddingPurpose", NOVA_PURPOSES)
    dim = _dimension(p.get("embeddingDimension", 3072), "embeddingDimension", NOVA_DIMS)
    inputs = [k for k in ("text", "image", "audio", "video") if k in p]
    if len(inputs) != 1:
        raise Invalid(f"exactly one of text, image, audio, video is required, got {inputs}")
    kind = inputs[0]
    entry: dict[str, Any] = {}
    if kind == "text":
        t = _keys(p["text"], "text", {"truncationMode", "value", "source"}, {"truncationMode"})
        mode = _enum(t["truncationMode"], "text.truncationMode", {"START", "END", "NONE"})
        if "source" in t or not isinstance(t.get("value"), str) or not t["value"]:
            raise Invalid("text.value must be a non-empty string (s3 source not supported)")
        content = t["value"]
        if len(content) > TEXT_LIMIT:
            if mode == "NONE":
                raise Invalid(f"text is over {TEXT_LIMIT} characters and truncationMode is NONE")
            content = content[:TEXT_LIMIT] if mode == "END" else content[-TEXT_LIMIT:]
            entry["truncatedCharLength"] = TEXT_LIMIT
        etype = "TEXT"
    elif kind == "image":
        im = _keys(p["image"], "image", {"format", "detailLevel", "source"}, {"format", "source"})
        fmt = _enum(im["format"], "image.format", {"png", "jpeg", "gif", "webp"})
        detail = _enum(
            im.get("detailLevel", "STANDARD_IMAGE"),
            "image.detailLevel",
            {"STANDARD_IMAGE", "DOCUMENT_IMAGE"},
        )
        b64, _ = _media(im["source"], "image.source", fmt)
        content, etype = f"{detail}:{b64}", "IMAGE"
    elif kind == "audio":
        au = _keys(p["audio"], "audio", {"format", "source"}, {"format", "source"})
        fmt = _enum(au["format"], "audio.format", {"mp3", "wav", "ogg"})
        b64, data = _media(au["source"], "audio.source", fmt)
        if fmt == "wav":
            with wave.open(io.BytesIO(data)) as w:
                if w.getnframes() / w.getframerate() > 30:
                    raise Invalid("audio is longer than 30 seconds")
        content, etype = b64, "AUDIO"
    else:
        vi = _keys(
            p["video"],
            "video",
            {"format", "source", "embeddingMode"},
            {"format", "source", "embeddingMode"},
        )
        _enum(vi["format"], "video.format", VIDEO_FORMATS)
        mode = _enum(
            vi["embeddingMode"],
            "video.embeddingMode",
            {"AUDIO_VIDEO_COMBINED", "AUDIO_VIDEO_SEPARATE"},
        )
        b64, _ = _media(vi["source"], "video.source", None)
        if mode == "AUDIO_VIDEO_SEPARATE":
            return {
                "embeddings": [
                    {"embeddingType": t, "embedding": _vec(NOVA, purpose, f"{t}:{b64}", dim)}
                    for t in ("AUDIO", "VIDEO")
                ]
            }
        content, etype = b64, "AUDIO_VIDEO_COMBINED"
    entry = {"embeddingType": etype, "embedding": _vec(NOVA, purpose, content, dim)} | entry
    return {"embeddings": [entry]}


def _vec(model_id: str, purpose: str, content: str, dim: int) -> list[float]:
    return [float(x) for x in reference_vector(model_id, purpose, content, dim)]


def _titan_text(body: dict[str, Any]) -> dict[str, Any]:
    _keys(body, "body", {"inputText", "dimensions", "normalize", "embeddingTypes"}, {"inputText"})
    text = body["inputText"]
    if not isinstance(text, str) or not text:
        raise Invalid("inputText must be a non-empty string")
    dim = _dimension(body.get("dimensions", 1024), "dimensions", {256, 512, 1024})
    if not isinstance(body.get("normalize", True), bool):
        raise Invalid("normalize must be a boolean")
    return {
        "embedding": _vec(TITAN_TEXT, "", text, dim),
        "inputTextTokenCount": len(text.split()),
    }


def _titan_mm(body: dict[str, Any]) -> dict[str, Any]:
    _keys(body, "body", {"inputText", "inputImage", "embeddingConfig"})
    if "inputText" not in body and "inputImage" not in body:
        raise Invalid("at least one of inputText, inputImage is required")
    dim = 1024
    if "embeddingConfig" in body:
        cfg = _keys(
            body["embeddingConfig"], "embeddingConfig", {"outputEmbeddingLength"},
            {"outputEmbeddingLength"},
        )  # fmt: skip
        dim = _dimension(cfg["outputEmbeddingLength"], "outputEmbeddingLength", {256, 384, 1024})
    content = ""
    if "inputText" in body:
        if not isinstance(body["inputText"], str) or not body["inputText"]:
            raise Invalid("inputText must be a non-empty string")
        content += "text:" + body["inputText"]
    if "inputImage" in body:
        image = body["inputImage"]
        try:
            data = base64.b64decode(image, validate=True)
        except (binascii.Error, TypeError) as exc:
            raise Invalid("inputImage is not valid base64") from exc
        if not data.startswith(SIGNATURES["png"] + SIGNATURES["jpeg"]):
            raise Invalid("inputImage must be PNG or JPEG")
        content += "image:" + image
    return {"embedding": _vec(TITAN_MM, "", content, dim), "inputTextTokenCount": 0}


def _handler_for(standin: BedrockStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: without TCP_NODELAY, Nagle plus the
        # client's delayed ACK adds ~40 ms to every answer
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _signed(self) -> bool:
            auth = self.headers.get("Authorization", "")
            return auth.startswith("AWS4-HMAC-SHA256 ") and "/bedrock/aws4_request" in auth

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if not path.startswith("/async-invoke/") or standin.async_handler is None:
                self._send(404, "UnknownOperationException", {"message": "not found"})
                return
            if not self._signed():
                self._send(403, "AccessDeniedException", {"message": "request is not signed"})
                return
            arn = unquote(path[len("/async-invoke/") :])
            self._send(*standin.async_handler.get(arn))

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            if self.path.split("?")[0] == "/async-invoke" and standin.async_handler is not None:
                if not self._signed():
                    self._send(403, "AccessDeniedException", {"message": "not signed"})
                    return
                self._send(*standin.async_handler.start(raw))
                return
            parts = self.path.split("?")[0].split("/")
            if len(parts) != 4 or parts[1] != "model" or parts[3] != "invoke":
                self._send(404, "UnknownOperationException", {"message": "not found"})
                return
            model_id = unquote(parts[2])
            auth = self.headers.get("Authorization", "")
            signed = auth.startswith("AWS4-HMAC-SHA256 ") and "/bedrock/aws4_request" in auth
            try:
                parsed: Any = json.loads(raw)
            except ValueError:
                parsed = raw
            standin._record(
                Recorded(model_id, parsed, self.headers.get("Content-Type", ""), signed)
            )
            if not signed:
                self._send(403, "AccessDeniedException", {"message": "request is not signed"})
                return
            status, code, payload = standin.answer(model_id, raw)
            self._send(status, code, payload)

        def _send(self, status: int, code: str | None, payload: Any) -> None:
            if code is not None and standin.error_style == "body":
                payload = {"__type": code, **payload}
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", hashlib.md5(data).hexdigest())
                if code is not None and standin.error_style == "header":
                    self.send_header(
                        "X-Amzn-ErrorType",
                        f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/",
                    )
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (read timeout): nothing to answer

    return Handler


FAKE_SECRET = "fAkEsEcReT/K7MDENG+bPxRfiCYEXAMPLEKEY0123"
FAKE_TOKEN = "FaKeSeSsIoNtOkEn/IQoJb3JpZ2luX2VjEXAMPLE987"
FAKE_KEY_ID = "AKIAFAKEEXAMPLE00001"


@contextmanager
def standin_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, error_style: str = "header"
) -> Iterator[BedrockStandIn]:
    """A running stand-in with boto3 pointed at it by the standard environment variables.

    Dummy credentials (with a recognisable fake secret key and session token), no config
    files, no instance metadata, no AWS retry settings from the environment.
    """
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    with BedrockStandIn(error_style=error_style) as standin:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", standin.url)
        yield standin
