"""Asynchronous jobs: StartAsyncInvoke, bounded polling; Nova's segmented output from S3.

A long audio/video/text item becomes one ``SEGMENTED_EMBEDDING`` job (body:
:func:`audit.embedders.bedrock._nova.segmented_body`). The service splits
it (``segmentationConfig.durationSeconds`` for media, ``maxLengthChars`` for text),
embeds each segment and writes JSONL lines (``embedding``, ``segmentMetadata``,
``status``, ``failureReason``) under ``<s3_output>/<job-id>/``. The item's vector is the
**mean of the L2-normalised segment vectors** (every segment weighs the same, as for
multi-page documents); a failed segment fails the item, naming it and the reason.
:func:`start_and_wait` (start, idempotent retries, bounded polling) also serves
Marengo's jobs (:mod:`audit.embedders.bedrock._marengo`).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit.embedders.base import EmbeddingError
from audit.embedders.bedrock._models import Parsed
from audit.embedders.bedrock._transport import Transport
from audit.items import ItemError

log = logging.getLogger(__name__)

ASYNC_MODES = ("auto", "always", "never")
#: Why Nova items need a job (the default reason of :meth:`AsyncSettings.require_output`).
SEGMENTED_WHY = "segmented path (audio/video over 30 s, or long text)"
_S3_URI = re.compile(r"^s3://([a-z0-9][.\-a-z0-9]{1,61}[a-z0-9])/(.+)$")
_S3_PREFIX = re.compile(r"^s3://([a-z0-9][.\-a-z0-9]{1,61}[a-z0-9])(/.*)?$")


def split_s3(uri: str, item_id: str | None = None) -> tuple[str, str]:
    """``(bucket, key)`` of ``s3://bucket/key``; an error naming the item otherwise."""
    match = _S3_URI.match(uri)
    if not match:
        reason = f"not an s3://bucket/key URI: {uri[:200]!r}"
        raise ItemError(item_id, reason) if item_id else ValueError(reason)
    return match.group(1), match.group(2)


def split_prefix(uri: str) -> tuple[str, str] | None:
    """``(bucket, prefix)`` of ``s3://bucket[/prefix]`` (prefix without slashes at the ends)."""
    match = _S3_PREFIX.match(uri)
    if not match:
        return None
    return match.group(1), (match.group(2) or "/").strip("/")


@dataclass(frozen=True)
class AsyncSettings:
    """How long items are segmented and how jobs are waited for.

    Attributes
    ----------
    mode : {"auto", "always", "never"}
        auto: local audio/video over 30 s go async (long text keeps the synchronous
        call and its ``truncationMode``); always: every audio, video and text item goes
        async, segmented; never: none (audio/video over 30 s are refused).
    s3_output : str or None
        ``s3://bucket[/prefix]`` the service writes job output to (required for async).
    segment_seconds : int
        ``durationSeconds`` for audio/video (1..30).
    segment_chars : int
        ``maxLengthChars`` for text (800..50,000).
    timeout : float
        Most seconds to wait for one job before failing the item (the job is not cancelled).
    poll_interval, max_poll_interval : float
        First wait between status polls, growing 1.5x per poll up to the cap.
    """

    mode: str = "auto"
    s3_output: str | None = None
    segment_seconds: int = 30
    segment_chars: int = 32_000
    timeout: float = 3600.0
    poll_interval: float = 2.0
    max_poll_interval: float = 30.0

    def __post_init__(self) -> None:
        if self.mode not in ASYNC_MODES:
            allowed = ", ".join(ASYNC_MODES)
            raise ValueError(f"async_mode must be one of {allowed}, got {self.mode!r}")
        if self.s3_output is not None and not _S3_PREFIX.match(self.s3_output):
            raise ValueError(f"s3_output must be s3://bucket[/prefix], got {self.s3_output!r}")
        if not 1 <= self.segment_seconds <= 30:
            raise ValueError(f"segment_seconds must be in [1, 30], got {self.segment_seconds}")
        if not 800 <= self.segment_chars <= 50_000:
            raise ValueError(f"segment_chars must be in [800, 50000], got {self.segment_chars}")
        if not (self.timeout > 0 and self.poll_interval > 0 and self.max_poll_interval > 0):
            raise ValueError("async_timeout and poll intervals must be > 0")

    def require_output(self, item_ids: list[str], why: str = SEGMENTED_WHY) -> str:
        """The output URI, or a ValueError naming the items that need one and why."""
        if self.s3_output is None:
            raise ValueError(
                f"item(s) {', '.join(item_ids[:10])} need Bedrock's asynchronous "
                f"{why}, which writes its output to S3: set ?s3_output=s3://bucket/prefix "
                "(or async_mode=never to refuse them)"
            )
        return self.s3_output


def run_segmented(
    transport: Transport,
    model_id: str,
    model_input: dict[str, Any],
    item_id: str,
    settings: AsyncSettings,
    dim: int,
) -> Parsed:
    """Start one job, wait for it (bounded) and pool its segment vectors.

    Raises
    ------
    EmbeddingError
        Naming the item: job failed or timed out, output missing or malformed, a
        segment failed (with its ``failureReason``), or a vector of the wrong size.
    """
    arn, job = start_and_wait(transport, model_id, model_input, item_id, settings)
    output = settings.require_output([item_id])
    uri = job.get("outputDataConfig", {}).get("s3OutputDataConfig", {}).get("s3Uri", output)
    lines = _read_output(transport, uri, arn.rsplit("/", 1)[-1], item_id)
    return Parsed(_pool_segments(lines, item_id, dim, model_id))


def start_and_wait(
    transport: Transport,
    model_id: str,
    model_input: dict[str, Any],
    item_id: str,
    settings: AsyncSettings,
) -> tuple[str, dict[str, Any]]:
    """``StartAsyncInvoke`` (idempotent retries), then bounded polling to ``Completed``.

    Returns the invocation ARN and the final ``GetAsyncInvoke`` answer.

    Raises
    ------
    EmbeddingError
        Naming the item, when the job fails or is still running after the timeout.
    """
    output = settings.require_output([item_id])
    client = transport.client
    token = uuid.uuid4().hex  # idempotent retries of the start call
    size = len(json.dumps(model_input, separators=(",", ":")))

    def start() -> Any:
        return client.start_async_invoke(
            modelId=model_id,
            modelInput=model_input,
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": output}},
            clientRequestToken=token,
        )

    arn = transport.call(start, model_id, item_id, size=size)["invocationArn"]
    transport.usage.add(async_jobs=1)
    log.info("bedrock %s: item %r segmented job %s started", model_id, item_id, arn)
    job = _wait(transport, model_id, arn, item_id, settings)
    if job["status"] != "Completed":
        raise EmbeddingError(
            f"Bedrock async job for item {item_id!r} failed: "
            f"{job.get('failureMessage') or 'no failureMessage given'} ({arn})"
        )
    return arn, job


def _wait(
    transport: Transport, model_id: str, arn: str, item_id: str, settings: AsyncSettings
) -> dict[str, Any]:
    deadline = time.monotonic() + settings.timeout
    delay = settings.poll_interval
    while True:
        job = transport.call(
            lambda: transport.client.get_async_invoke(invocationArn=arn),
            model_id,
            item_id,
            size=None,
        )
        transport.usage.add(polls=1)
        if job["status"] != "InProgress":
            return job
        if time.monotonic() + delay > deadline:
            raise EmbeddingError(
                f"Bedrock async job for item {item_id!r} still InProgress after "
                f"{settings.timeout:g} s (async_timeout); it was not cancelled: {arn}"
            )
        time.sleep(delay)
        delay = min(settings.max_poll_interval, delay * 1.5)


def _read_output(transport: Transport, uri: str, job_id: str, item_id: str) -> list[Any]:
    """Every JSONL line under ``<uri>/<job_id>/``."""
    match = _S3_PREFIX.match(uri)
    if not match:
        raise EmbeddingError(f"async job for item {item_id!r} reported output URI {uri!r}")
    bucket, prefix = match.group(1), (match.group(2) or "/").strip("/")
    prefix = f"{prefix}/{job_id}/" if prefix else f"{job_id}/"
    s3 = transport.s3
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".jsonl")]
    if not keys:
        raise EmbeddingError(
            f"async job for item {item_id!r} completed but wrote no JSONL under "
            f"s3://{bucket}/{prefix}"
        )
    lines: list[Any] = []
    for key in sorted(keys):
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                lines.append(json.loads(line))
            except ValueError:
                raise EmbeddingError(
                    f"async output for item {item_id!r} has a malformed line {n} in "
                    f"s3://{bucket}/{key}"
                ) from None
    return lines


def _pool_segments(lines: list[Any], item_id: str, dim: int, model_id: str) -> np.ndarray:
    failed: list[str] = []
    vectors: list[np.ndarray] = []
    for line in lines:
        meta = line.get("segmentMetadata", {}) if isinstance(line, dict) else {}
        index = meta.get("segmentIndex", len(vectors) + len(failed))
        if not isinstance(line, dict) or line.get("failureReason") or "embedding" not in line:
            reason = line.get("failureReason") if isinstance(line, dict) else None
            failed.append(f"segment {index}: {reason or 'no embedding'}")
            continue
        vec = np.asarray(line["embedding"], dtype=np.float64)
        if vec.shape != (dim,) or not np.isfinite(vec).all() or not vec.any():
            raise EmbeddingError(
                f"{model_id} async output for item {item_id!r}, segment {index}: vector of "
                f"shape {vec.shape} (expected ({dim},), finite, non-zero)"
            )
        vectors.append(vec / np.linalg.norm(vec))
    if failed:
        raise EmbeddingError(
            f"{model_id} failed {len(failed)} segment(s) of item {item_id!r}: "
            + "; ".join(failed[:10])
        )
    if not vectors:
        raise EmbeddingError(f"{model_id} async output for item {item_id!r} has no segments")
    return np.mean(vectors, axis=0).astype(np.float32)
