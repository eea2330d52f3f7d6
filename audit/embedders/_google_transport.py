"""Retries, timeouts, the request budget and a thread pool for the Google backends.

The SDKs' own retries are off (google-genai: no ``HttpRetryOptions`` means one attempt;
the Vertex ``PredictionServiceClient.predict`` call gets ``retry=None``), so this module's
policy is the only one and every HTTP attempt is counted against ``max_requests`` and in
the usage counters *before* it is sent. Transient failures (HTTP 408/429/500/502/503/504,
timeouts, dropped connections) are retried with exponential backoff and full jitter,
bounded in attempts and in total time (:class:`RetryPolicy`, shared with Bedrock);
INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED and the like never are. A refused
connection (the endpoint is gone) gets one quick retry, then a message naming the endpoint.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from audit.embedders._bedrock_transport import CallFailure, RetryPolicy
from audit.embedders._unreachable import UNREACHABLE_ATTEMPTS, unreachable
from audit.embedders._usage import BudgetExceededError, Usage, UsageCounts
from audit.embedders.base import EmbeddingError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})

__all__ = [
    "BudgetExceededError",
    "CallFailure",
    "GoogleCallError",
    "Request",
    "RetryPolicy",
    "Transport",
    "body_size",
    "classify",
]


class GoogleCallError(EmbeddingError):
    """Google calls failed for good; lists every failed item with the service's reason."""

    def __init__(self, model: str, failures: Sequence[CallFailure]) -> None:
        self.model = model
        self.failures = list(failures)
        lines = "\n".join(f"  - {f.describe()}" for f in self.failures)
        super().__init__(f"Google {model} failed for {len(self.failures)} request(s):\n{lines}")


class Failed(Exception):
    """Internal: carries a CallFailure out of a worker thread."""

    def __init__(self, failure: CallFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


def body_size(body: Any) -> int:
    """Bytes of ``body`` as compact JSON: the ``bytes_sent`` unit of the usage counters."""
    return len(json.dumps(body, separators=(",", ":")).encode("utf-8"))


@dataclass
class Request:
    """One HTTP request an embedder sends, built offline.

    Attributes
    ----------
    item_index : tuple of int
        Positions (in the embed call) of the items it carries; a document page or a
        video window carries one item, a Gemini API batch up to 100.
    label : str
        Item id(s) for messages.
    body : dict
        The documented REST body (what the SDK serialises, modulo JSON whitespace).
    units : dict
        Content units counted once the service answers: ``text_chars`` and ``images``
        (ints), ``media_seconds`` (float).
    size : int
        Compact-JSON size of the body (computed once; the body is not changed after).
    """

    item_index: tuple[int, ...]
    label: str
    body: dict[str, Any]
    units: dict[str, int | float] = field(default_factory=dict)
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = body_size(self.body)


def plan_counts(requests: Sequence[Request]) -> UsageCounts:
    """What sending ``requests`` once each, without faults, adds to the counters."""
    counts = UsageCounts()
    for req in requests:
        counts.requests += 1
        counts.bytes_sent += req.size
        counts.text_chars += int(req.units.get("text_chars", 0))
        counts.images += int(req.units.get("images", 0))
        counts.media_seconds += float(req.units.get("media_seconds", 0.0))
    counts.media_seconds = round(counts.media_seconds, 3)
    return counts


def classify(exc: BaseException) -> tuple[str, str, int | None, bool]:
    """``(code, message, http_status, retryable)`` of an exception from either SDK."""
    status: int | None = None
    try:
        from google.genai import errors as genai_errors

        if isinstance(exc, genai_errors.APIError):
            status = int(exc.code) if exc.code is not None else None
            code = str(exc.status or f"HTTP {status}")
            return code, str(exc.message or ""), status, status in RETRYABLE_STATUS
    except ImportError:
        pass
    try:
        from google.api_core import exceptions as core

        if isinstance(exc, core.GoogleAPICallError):
            status = int(exc.code) if isinstance(exc.code, int) else None
            code, message = _google_error(exc)
            return code, message, status, status in RETRYABLE_STATUS
    except ImportError:
        pass
    name = type(exc).__name__
    transient = ("Timeout", "ConnectError", "ConnectionError", "RemoteProtocolError")
    if any(t in name for t in transient) or _is_transport_error(exc):
        return name, str(exc) or "connection failed or timed out", None, True
    if name in ("DefaultCredentialsError", "RefreshError"):
        return name, f"no usable Google credentials: {exc}", None, False
    if name == "JSONDecodeError" or (isinstance(exc, ValueError) and "JSON" in str(exc)):
        return "MalformedResponse", "the service answered something that is not JSON", None, False
    return name, str(exc), None, False


def _google_error(exc: Any) -> tuple[str, str]:
    """Status name and message of an api_core error, read from Google's error JSON."""
    try:
        error = exc.response.json()["error"]
        return str(error["status"]), str(error.get("message", ""))
    except Exception:  # not a REST answer, or not Google's error format
        grpc_code = getattr(exc, "grpc_status_code", None)
        return getattr(grpc_code, "name", None) or type(exc).__name__, str(exc.message or "")


def _is_transport_error(exc: BaseException) -> bool:
    try:
        import httpx

        if isinstance(exc, httpx.TransportError):
            return True
    except ImportError:
        pass
    try:
        import requests

        if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
            return True
    except ImportError:
        pass
    try:
        from google.auth import exceptions as auth_exceptions

        return isinstance(exc, auth_exceptions.TransportError)
    except ImportError:
        return False


class Transport:
    """The retry loop, the request budget and a thread pool, shared by siblings.

    Parameters
    ----------
    backend : str
        ``gemini`` or ``vertex`` (for logs and thread names).
    retry : RetryPolicy
        Backoff policy for transient errors.
    max_workers : int
        Concurrent requests.
    usage : Usage
        Counters and the request budget.
    """

    def __init__(self, backend: str, retry: RetryPolicy, max_workers: int, usage: Usage) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self.backend = backend
        self.retry = retry
        self.max_workers = max_workers
        self.usage = usage
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def call(self, send: Callable[[], R], model: str, req: Request) -> R:
        """Run ``send`` for ``req`` under the retry policy; count every attempt.

        Raises
        ------
        Failed
            Carrying the :class:`CallFailure` when the call fails for good.
        BudgetExceededError
            When the request budget is spent before an attempt.
        """
        start = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            self.usage.take_request(req.label, req.size, retry=attempt > 1)
            try:
                result = send()
            except Exception as exc:
                code, message, status, retryable = classify(exc)
                if status == 429:
                    self.usage.add(throttles=1)
                gone = unreachable(exc)
                if gone is not None and attempt >= UNREACHABLE_ATTEMPTS:
                    message = gone.message(attempt)
                    raise Failed(CallFailure(req.label, gone.code, message, attempt, True)) from exc
                if not retryable or attempt >= self.retry.max_attempts:
                    raise Failed(CallFailure(req.label, code, message, attempt, retryable)) from exc
                # One quick retry when the endpoint refused: nothing to wait out.
                delay = self.retry.backoff(1 if gone else attempt)
                if time.monotonic() - start + delay > self.retry.max_total_time:
                    message += f" (retry budget of {self.retry.max_total_time:g}s spent)"
                    raise Failed(CallFailure(req.label, code, message, attempt, True)) from exc
                log.info(
                    "%s %s: %s for %s; retry %d/%d in %.2fs",
                    self.backend,
                    model,
                    code,
                    req.label,
                    attempt,
                    self.retry.max_attempts - 1,
                    delay,
                )
                time.sleep(delay)
            else:
                self.usage.add(**req.units)
                return result

    def map(self, fn: Callable[[T], R], args: Sequence[T]) -> list[R | BaseException]:
        """Run ``fn`` over ``args`` on the pool; results (or exceptions) in input order."""
        if len(args) <= 1 or self.max_workers == 1:
            return [_capture(fn, a) for a in args]
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix=self.backend)
            pool = self._pool
        futures = [pool.submit(_capture, fn, a) for a in args]
        return [f.result() for f in futures]

    def close(self) -> None:
        """Shut the thread pool down."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None


def raise_failures(model: str, results: Sequence[object]) -> None:
    """Raise the first budget error, else every call failure together, else other errors."""
    over = [r for r in results if isinstance(r, BudgetExceededError)]
    if over:
        raise over[0]
    failures = [r.failure for r in results if isinstance(r, Failed)]
    if failures:
        raise GoogleCallError(model, failures)
    errors = [r for r in results if isinstance(r, BaseException)]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise EmbeddingError("; ".join(str(e) for e in errors)) from errors[0]


def _capture(fn: Callable[[T], R], arg: T) -> R | BaseException:
    try:
        return fn(arg)
    except Exception as exc:
        return exc
