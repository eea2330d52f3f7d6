"""Sending hosted requests: the retry policy, the retry loop, a thread pool, call errors.

Transport-neutral: a backend's transport subclasses :class:`RetryingTransport` and says
how to read its SDK's exceptions (:meth:`RetryingTransport.classify`). The SDKs' own
retries are switched off, so this loop is the only one: it retries exactly the transient
errors with exponential backoff and full jitter, bounded in attempts *and* in total time,
counts every attempt against the request budget before it is sent, and names the item
when it gives up. A refused connection (the endpoint is gone, see
:mod:`audit.embedders._unreachable`) gets one quick retry, then a message naming the
endpoint.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ClassVar, NamedTuple, TypeVar
from urllib.parse import urlsplit

from audit.embedders._unreachable import UNREACHABLE_ATTEMPTS, unreachable
from audit.embedders._usage import BudgetExceededError, Usage
from audit.embedders.base import EmbeddingError

T = TypeVar("T")
R = TypeVar("R")

#: HTTP statuses treated as transient when an error carries no recognised code.
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in total time.

    The n-th retry sleeps ``uniform(0, min(max_delay, base_delay * 2**(n-1)))`` seconds
    (AWS "full jitter"); no retry starts once ``max_total_time`` would be exceeded.

    Parameters
    ----------
    max_attempts : int
        Attempts per request, first one included (1 = never retry).
    base_delay, max_delay : float
        Backoff scale and cap, in seconds.
    max_total_time : float
        Wall-clock budget per request across all attempts and sleeps, in seconds.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_total_time: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        for name in ("base_delay", "max_delay", "max_total_time"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    def backoff(self, retry: int) -> float:
        """Sleep before the ``retry``-th retry (1-based)."""
        return random.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (retry - 1)))


@dataclass(frozen=True)
class CallFailure:
    """Why one request failed for good."""

    item_id: str
    code: str
    message: str
    attempts: int
    retryable: bool

    def describe(self) -> str:
        """One line for an error message."""
        if self.retryable:
            how = f"still failing after {self.attempts} attempt(s), retries exhausted"
        else:
            how = "not retried"
        return f"{self.item_id}: {self.code} ({how}): {self.message}"


class HostedCallError(EmbeddingError):
    """Calls to a hosted service failed for good; lists every failed request and why.

    Parameters
    ----------
    service : str
        The service as messages name it (``Bedrock``, ``Google``).
    model : str
        The model id the requests named.
    failures : sequence of CallFailure
        One per failed request; ``item_id`` names the items of its request.
    """

    def __init__(self, service: str, model: str, failures: Sequence[CallFailure]) -> None:
        self.model = model
        self.failures = list(failures)
        lines = "\n".join(f"  - {f.describe()}" for f in self.failures)
        super().__init__(f"{service} {model} failed for {len(self.failures)} request(s):\n{lines}")


class Failed(Exception):
    """Internal: carries a :class:`CallFailure` out of a worker thread."""

    def __init__(self, failure: CallFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


class Classified(NamedTuple):
    """What a transport reads from an SDK exception."""

    code: str
    message: str
    retryable: bool
    throttled: bool = False


def safe_endpoint(url: str | None) -> str | None:
    """``scheme://host[:port][/path]`` of an endpoint: user info and query removed."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def check_endpoint(name: str, url: str | None) -> None:
    """Refuse an endpoint override that is not ``http(s)://...`` (shown without secrets)."""
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{name} must be http(s)://..., got {safe_endpoint(url)}")


class RetryingTransport:
    """The retry loop, the request budget and a thread pool, shared by size siblings.

    Parameters
    ----------
    backend : str
        Short backend name, for logs and thread names (``bedrock``, ``gemini``).
    retry : RetryPolicy
        Backoff policy for transient errors.
    max_workers : int
        Concurrent requests.
    usage : Usage
        Counters and the request budget.
    """

    #: How a retry log line names a request's label (``item %r`` names one item).
    label_format: ClassVar[str] = "%s"
    #: The logger retry lines go to (a backend's transport module sets its own).
    log: ClassVar[logging.Logger] = logging.getLogger(__name__)

    def __init__(self, backend: str, retry: RetryPolicy, max_workers: int, usage: Usage) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self.backend = backend
        self.retry = retry
        self.max_workers = max_workers
        self.usage = usage
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def classify(self, exc: BaseException) -> Classified:
        """Read an SDK exception: code, message, whether to retry, whether throttled."""
        return Classified(type(exc).__name__, str(exc), False)

    def call(
        self,
        send: Callable[[], R],
        model: str,
        label: str,
        *,
        size: int | None,
        units: Mapping[str, float] | None = None,
    ) -> R:
        """Run ``send`` under the retry policy.

        ``size`` (body bytes) makes each attempt count against the request budget and the
        counters; ``None`` (status polls, storage reads) counts nothing. ``units``
        (content counters) are added once, when an answer arrives.

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
            if size is not None:
                self.usage.take_request(label, size, retry=attempt > 1)
            try:
                result = send()
            except Exception as exc:
                code, message, retryable, throttled = self.classify(exc)
                if throttled:
                    self.usage.add(throttles=1)
                gone = unreachable(exc)
                if gone is not None and attempt >= UNREACHABLE_ATTEMPTS:
                    failure = CallFailure(label, gone.code, gone.message(attempt), attempt, True)
                    raise Failed(failure) from exc
                if not retryable or attempt >= self.retry.max_attempts:
                    raise Failed(CallFailure(label, code, message, attempt, retryable)) from exc
                # One quick retry when the endpoint refused: nothing to wait out.
                delay = self.retry.backoff(1 if gone else attempt)
                if time.monotonic() - start + delay > self.retry.max_total_time:
                    message += f" (retry budget of {self.retry.max_total_time:g}s spent)"
                    raise Failed(CallFailure(label, code, message, attempt, True)) from exc
                self.log.info(
                    f"%s %s: %s for {self.label_format}; retry %d/%d in %.2fs",
                    self.backend,
                    model,
                    code,
                    label,
                    attempt,
                    self.retry.max_attempts - 1,
                    delay,
                )
                time.sleep(delay)
            else:
                if units:
                    self.usage.add(**units)
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
        """Shut the thread pool down (clients hold no threads)."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None


def batch_error(
    results: Sequence[object], make: Callable[[list[CallFailure]], BaseException]
) -> BaseException | None:
    """The error a batch's results raise: the first budget error, else every call failure
    together (``make(failures)``), else the other errors; None when all were answered."""
    over = [r for r in results if isinstance(r, BudgetExceededError)]
    if over:
        return over[0]
    failures = [r.failure for r in results if isinstance(r, Failed)]
    if failures:
        return make(failures)
    errors = [r for r in results if isinstance(r, BaseException)]
    if len(errors) == 1:
        return errors[0]
    if errors:
        error = EmbeddingError("; ".join(str(e) for e in errors))
        error.__cause__ = errors[0]
        return error
    return None


def _capture(fn: Callable[[T], R], arg: T) -> R | BaseException:
    try:
        return fn(arg)
    except Exception as exc:
        return exc
