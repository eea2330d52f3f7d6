"""Async invoke for the Bedrock stand-in, writing its output into a local moto S3 server.

``StartAsyncInvoke`` (``POST /async-invoke``) and ``GetAsyncInvoke``
(``GET /async-invoke/{invocationArn}``) follow botocore's ``bedrock-runtime`` service
model. The ``modelInput`` is validated against the documented ``SEGMENTED_EMBEDDING``
schema; the job is segmented like the service does it (text by ``maxLengthChars``, WAV
audio by ``durationSeconds``; other media is one segment), answers ``InProgress`` for
``polls_before_done`` polls, then writes ``embedding-<type>.jsonl`` (one line per
segment: ``embedding``, ``segmentMetadata``, ``status``, ``failureReason``) under
``<s3Uri>/<job-id>/`` and reports ``Completed``. Segment vectors are
``reference_vector(NOVA, purpose, f"seg{i}:{content}", dim)``, so tests can compute the
expected pooled vector independently.

Marengo jobs (``modelId`` the base ``twelvelabs.marengo-embed-2-7-v1:0``: the AWS page
offers ``StartAsyncInvoke`` for the base model) validate ``modelInput`` with
``bedrock_standin_extra.marengo_lines`` and write ``output.json`` (``{"data": [...]}``)
under ``<s3Uri>/<job-id>/``; ``GetAsyncInvoke`` then reports that folder as the output
URI (the shape public Marengo clients read).
"""

from __future__ import annotations

import io
import json
import math
import re
import secrets
import threading
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import bedrock_standin as base
import boto3
import pytest
from bedrock_standin import (
    MARENGO,
    NOVA,
    BedrockStandIn,
    Invalid,
    _dimension,
    _enum,
    _keys,
    _vec,
)

ACCOUNT = "123456789012"
_S3_URI = re.compile(r"^s3://([a-z0-9][.\-a-z0-9]{1,61}[a-z0-9])(?:/(.*))?$")


@dataclass
class Job:
    """One async job as the stand-in tracks it."""

    arn: str
    token: str
    output_uri: str
    lines: dict[str, list[dict[str, Any]]]
    submitted: str
    failure: str | None = None
    polls: int = 0
    status: str = "InProgress"
    model_id: str = NOVA


@dataclass
class AsyncJobs:
    """The async endpoints; attach with ``standin.async_handler = AsyncJobs(s3_client)``."""

    standin: BedrockStandIn
    s3: Any
    polls_before_done: int = 2
    jobs: dict[str, Job] = field(default_factory=dict)
    starts: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def start(self, raw: str) -> tuple[int, str | None, Any]:
        """Answer ``StartAsyncInvoke``."""
        fault = self.standin._take_fault(raw)
        if fault is not None and fault.kind in base.ERRORS:
            status, code = base.ERRORS[fault.kind]
            return status, code, {"message": f"injected {fault.kind}"}
        try:
            body = _keys(
                json.loads(raw),
                "body",
                {"clientRequestToken", "modelId", "modelInput", "outputDataConfig", "tags"},
                {"modelId", "modelInput", "outputDataConfig"},
            )
            with self._lock:
                self.starts.append(body)
            if body["modelId"] not in (NOVA, MARENGO):
                raise Invalid(f"async invoke is not offered for model {body['modelId']!r}")
            out = _keys(body["outputDataConfig"], "outputDataConfig", {"s3OutputDataConfig"})
            s3cfg = _keys(out["s3OutputDataConfig"], "s3OutputDataConfig", {"s3Uri"}, {"s3Uri"})
            if not _S3_URI.match(s3cfg["s3Uri"]):
                raise Invalid("s3Uri must be s3://bucket[/prefix]")
            if body["modelId"] == MARENGO:
                import bedrock_standin_extra as extra

                lines = {"output": extra.marengo_lines(body["modelInput"])}
            else:
                lines = segmented(body["modelInput"])
        except (Invalid, ValueError) as exc:
            return 400, "ValidationException", {"message": f"Malformed input request: {exc}"}
        token = body.get("clientRequestToken", "")
        with self._lock:
            for job in self.jobs.values():
                if token and job.token == token:  # idempotent retry
                    return 200, None, {"invocationArn": job.arn}
            arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:async-invoke/{secrets.token_hex(6)}"
            job = Job(arn, token, s3cfg["s3Uri"], lines, _now(), model_id=body["modelId"])
            if fault is not None and fault.kind == "segment_failure":
                first = next(iter(job.lines.values()))
                bad = first[min(1, len(first) - 1)]
                bad.pop("embedding")
                bad["status"] = "FAILURE"
                bad["failureReason"] = "RAI_VIOLATION_INPUT_TEXT_DEFLECTION"
            if fault is not None and fault.kind == "job_failed":
                job.failure = "Internal error while processing the input"
            self.jobs[arn] = job
        return 200, None, {"invocationArn": arn}

    def get(self, arn: str) -> tuple[int, str | None, Any]:
        """Answer ``GetAsyncInvoke``; the job completes after ``polls_before_done`` polls."""
        with self._lock:
            job = self.jobs.get(arn)
            if job is None:
                return 400, "ValidationException", {"message": "invocation not found"}
            job.polls += 1
            if job.status == "InProgress" and job.polls > self.polls_before_done:
                if job.failure:
                    job.status = "Failed"
                else:
                    self._write(job)
                    job.status = "Completed"
            uri = job.output_uri
            if job.model_id == MARENGO:
                uri = f"{uri.rstrip('/')}/{job.arn.rsplit('/', 1)[-1]}"
            answer: dict[str, Any] = {
                "invocationArn": job.arn,
                "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{job.model_id}",
                "clientRequestToken": job.token or "none",
                "status": job.status,
                "submitTime": job.submitted,
                "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": uri}},
            }
            if job.status == "Failed":
                answer["failureMessage"] = job.failure
            if job.status != "InProgress":
                answer["endTime"] = _now()
            return 200, None, answer

    def _write(self, job: Job) -> None:
        match = _S3_URI.match(job.output_uri)
        assert match is not None
        bucket, prefix = match.group(1), (match.group(2) or "").strip("/")
        folder = f"{prefix}/{job.arn.rsplit('/', 1)[-1]}" if prefix else job.arn.rsplit("/")[-1]
        if job.model_id == MARENGO:
            body = json.dumps({"data": job.lines["output"]})
            self.s3.put_object(Bucket=bucket, Key=f"{folder}/output.json", Body=body)
            return
        for kind, lines in job.lines.items():
            text = "\n".join(json.dumps(line) for line in lines) + "\n"
            self.s3.put_object(Bucket=bucket, Key=f"{folder}/embedding-{kind}.jsonl", Body=text)
        manifest = {"sourceFileUri": "", "embeddingDimension": 0, "embeddingResults": []}
        self.s3.put_object(
            Bucket=bucket,
            Key=f"{folder}/segmented-embedding-result.json",
            Body=json.dumps(manifest),
        )


def segmented(model_input: Any) -> dict[str, list[dict[str, Any]]]:
    """Validate a SEGMENTED_EMBEDDING input; JSONL lines per output file (by type)."""
    body = _keys(
        model_input,
        "modelInput",
        {"schemaVersion", "taskType", "segmentedEmbeddingParams"},
        {"taskType", "segmentedEmbeddingParams"},
    )
    _enum(body["taskType"], "taskType", {"SEGMENTED_EMBEDDING"})
    p = _keys(
        body["segmentedEmbeddingParams"],
        "segmentedEmbeddingParams",
        {"embeddingPurpose", "embeddingDimension", "text", "audio", "video"},
        {"embeddingPurpose"},
    )
    purpose = _enum(p["embeddingPurpose"], "embeddingPurpose", base.NOVA_PURPOSES)
    dim = _dimension(p.get("embeddingDimension", 3072), "embeddingDimension", base.NOVA_DIMS)
    inputs = [k for k in ("text", "audio", "video") if k in p]
    if len(inputs) != 1:
        raise Invalid(f"exactly one of text, audio, video is required, got {inputs}")
    kind = inputs[0]
    if kind == "text":
        t = _keys(p["text"], "text", {"truncationMode", "value", "source", "segmentationConfig"},
                  {"truncationMode"})  # fmt: skip
        _enum(t["truncationMode"], "text.truncationMode", {"START", "END", "NONE"})
        seg = _keys(t.get("segmentationConfig", {}), "segmentationConfig", {"maxLengthChars"})
        size = seg.get("maxLengthChars", 32_000)
        if not isinstance(size, int) or not 800 <= size <= 50_000:
            raise Invalid("maxLengthChars must be an integer in [800, 50000]")
        if not isinstance(t.get("value"), str) or not t["value"]:
            raise Invalid("text.value must be a non-empty string")
        value = t["value"]
        chunks = [(a, min(a + size, len(value))) for a in range(0, len(value), size)]
        lines = [
            {
                "embedding": _vec(NOVA, purpose, f"seg{i}:{value[a:b]}", dim),
                "segmentMetadata": {
                    "segmentIndex": i,
                    "segmentStartCharPosition": a,
                    "segmentEndCharPosition": b,
                },
                "status": "SUCCESS",
            }
            for i, (a, b) in enumerate(chunks)
        ]
        return {"text": lines}
    allowed = {"format", "source", "segmentationConfig"} | (
        {"embeddingMode"} if kind == "video" else set()
    )
    m = _keys(p[kind], kind, allowed, {"format", "source"})
    formats = {"mp3", "wav", "ogg"} if kind == "audio" else base.VIDEO_FORMATS
    fmt = _enum(m["format"], f"{kind}.format", formats)
    seg = _keys(m.get("segmentationConfig", {}), "segmentationConfig", {"durationSeconds"})
    step = seg.get("durationSeconds", 5)
    if not isinstance(step, int) or not 1 <= step <= 30:
        raise Invalid("durationSeconds must be an integer in [1, 30]")
    b64, data = base._media(m["source"], f"{kind}.source", fmt)
    seconds = step
    if fmt == "wav":
        with wave.open(io.BytesIO(data)) as w:
            seconds = w.getnframes() / w.getframerate()
    n = max(1, math.ceil(seconds / step))
    lines = [
        {
            "embedding": _vec(NOVA, purpose, f"seg{i}:{b64}", dim),
            "segmentMetadata": {
                "segmentIndex": i,
                "segmentStartSeconds": float(i * step),
                "segmentEndSeconds": float(min(seconds, (i + 1) * step)),
            },
            "status": "SUCCESS",
        }
        for i in range(n)
    ]
    return {"audio" if kind == "audio" else "audio-video": lines}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def s3_standin(
    monkeypatch: pytest.MonkeyPatch, standin: BedrockStandIn, bucket: str = "mme-audit-test"
) -> Iterator[Any]:
    """A moto S3 server on loopback reached through ``AWS_ENDPOINT_URL_S3``, with ``bucket``.

    Attaches :class:`AsyncJobs` to ``standin`` and lets it read ``s3Location`` sources.
    Yields the stand-in's own S3 client (for putting objects and reading output).
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)

    def read(uri: str) -> bytes:
        match = _S3_URI.match(uri)
        if not match or not match.group(2):
            raise Invalid(f"s3Location.uri {uri!r} is not s3://bucket/key")
        try:
            return s3.get_object(Bucket=match.group(1), Key=match.group(2))["Body"].read()
        except s3.exceptions.NoSuchKey:
            raise Invalid(f"S3 object {uri} does not exist") from None

    standin.async_handler = AsyncJobs(standin, s3)
    monkeypatch.setattr(base, "s3_reader", read)
    try:
        yield s3
    finally:
        standin.async_handler = None
        server.stop()


__all__ = ["AsyncJobs", "s3_standin", "segmented"]
