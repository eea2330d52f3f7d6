"""The Bedrock runtime client, our retry policy and the request thread pool.

botocore's own retries are switched off (``total_max_attempts=1``) so this module's
policy is the only one: it retries exactly the transient errors (throttling, model timeout/not
ready, 5xx, dropped connections) with exponential backoff and full jitter, bounded in
attempts *and* in total time, and names the item when it gives up. A refused connection
(the endpoint is gone) gets one quick retry, then a message naming the endpoint.
ValidationException, AccessDenied and other client errors are never retried.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from audit.embedders._unreachable import UNREACHABLE_ATTEMPTS, unreachable
from audit.embedders._usage import Usage
from audit.embedders.base import EmbeddingError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ModelTimeoutException",
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelNotReadyException",
    }
)
# Status codes treated as transient when an error carries no recognised code.
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


# botocore's DEBUG logs print the signed request (session token header, signature,
# access key id); these loggers get a filter that redacts them before any handler runs.
_BOTOCORE_LOGGERS = (
    "botocore.endpoint",
    "botocore.auth",
    "botocore.httpsession",
    "botocore.parsers",
    "botocore.hooks",
    "botocore.credentials",
)
_REDACT = (
    re.compile(r"(?i)(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^\s'\",}]+"),
    re.compile(r"(?i)(signature=)[0-9a-f]+"),
    re.compile(r"(?i)(credential=)[^/\s,'\"]+"),
)


class RedactCredentials(logging.Filter):
    """Rewrites log records so no session token, signature or access key id remains."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix; let it through unchanged
            return True
        redacted = message
        for pattern in _REDACT:
            redacted = pattern.sub(r"\1<redacted>", redacted)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_redaction() -> None:
    """Attach :class:`RedactCredentials` to botocore's request loggers (idempotent)."""
    for name in _BOTOCORE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCredentials) for f in logger.filters):
            logger.addFilter(RedactCredentials())


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
    """Why the request for one item failed for good."""

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


class BedrockCallError(EmbeddingError):
    """Bedrock calls failed for good; lists every failed request with the service's reason.

    A request carries one item (a Cohere request up to 96): each failure's ``item_id``
    names the items of its request.
    """

    def __init__(self, model_id: str, failures: Sequence[CallFailure]) -> None:
        self.model_id = model_id
        self.failures = list(failures)
        lines = "\n".join(f"  - {f.describe()}" for f in self.failures)
        super().__init__(f"Bedrock {model_id} failed for {len(self.failures)} request(s):\n{lines}")


class _Failed(Exception):
    """Internal: carries a CallFailure out of a worker thread."""

    def __init__(self, failure: CallFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


def safe_endpoint(url: str | None) -> str | None:
    """``scheme://host[:port][/path]`` of an endpoint: user info and query removed."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class Transport:
    """A lazily built ``bedrock-runtime`` client, the retry loop and a thread pool.

    Shared by an embedder and its per-dimension siblings, so they share connections.
    Credentials come from boto3's standard chain and are never stored here.
    """

    def __init__(
        self,
        *,
        region: str | None,
        endpoint_url: str | None,
        profile: str | None,
        connect_timeout: float,
        read_timeout: float,
        max_workers: int,
        retry: RetryPolicy,
        client: Any = None,
        usage: Usage | None = None,
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        if endpoint_url and urlsplit(endpoint_url).scheme not in ("http", "https"):
            raise ValueError(
                f"endpoint_url must be http(s)://..., got {safe_endpoint(endpoint_url)}"
            )
        self.region = region
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_workers = max_workers
        self.retry = retry
        self._client = client
        self._s3: Any = None
        self.usage = usage or Usage()
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Transport(region={self.region!r}, endpoint={self.describe()['endpoint']!r})"

    def describe(self) -> dict[str, Any]:
        """Client settings for reports; never credentials."""
        env = os.environ.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME") or os.environ.get(
            "AWS_ENDPOINT_URL"
        )
        return {
            "region": self.region,
            "endpoint": safe_endpoint(self.endpoint_url or env),
            "profile": self.profile,
            "max_workers": self.max_workers,
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "retry": asdict(self.retry),
        }

    @property
    def client(self) -> Any:
        """The boto3 ``bedrock-runtime`` client (built on first use)."""
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    @property
    def s3(self) -> Any:
        """A boto3 ``s3`` client from the same profile and region (built on first use).

        Its endpoint comes from boto3's standard configuration (``AWS_ENDPOINT_URL_S3``);
        S3 reads and writes are not model requests, so botocore's own standard retries apply.
        """
        _ = self.client  # resolves the region first
        with self._lock:
            if self._s3 is None:
                import boto3
                from botocore.config import Config

                session = boto3.session.Session(profile_name=self.profile)
                self._s3 = session.client(
                    "s3",
                    region_name=self.region,
                    config=Config(
                        retries={"max_attempts": 5, "mode": "standard"},
                        connect_timeout=self.connect_timeout,
                        read_timeout=self.read_timeout,
                        user_agent_extra="mme-audit",
                    ),
                )
            return self._s3

    def _make_client(self) -> Any:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise ImportError(
                "the bedrock embedder needs boto3 (pip install 'mme-audit[bedrock]')"
            ) from exc
        install_redaction()
        session = boto3.session.Session(profile_name=self.profile)
        # boto3 reads AWS_DEFAULT_REGION and the profile; other AWS SDKs use AWS_REGION.
        self.region = (
            self.region or session.region_name or os.environ.get("AWS_REGION") or "us-east-1"
        )
        config = Config(
            # One HTTP attempt per call: our policy owns retries (see module docstring).
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_pool_connections=max(10, self.max_workers),
            user_agent_extra="mme-audit",
        )
        # endpoint_url=None lets boto3 apply AWS_ENDPOINT_URL_BEDROCK_RUNTIME itself.
        return session.client(
            "bedrock-runtime",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=config,
        )

    def map(self, fn: Callable[[T], R], args: Sequence[T]) -> list[R | BaseException]:
        """Run ``fn`` over ``args`` on the pool; results (or exceptions) in input order."""
        if len(args) <= 1 or self.max_workers == 1:
            return [_capture(fn, a) for a in args]
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="bedrock")
            pool = self._pool
        futures = [pool.submit(_capture, fn, a) for a in args]
        return [f.result() for f in futures]

    def invoke(self, model_id: str, body: dict[str, Any], item_id: str) -> Any:
        """One ``InvokeModel`` call with retries; the parsed JSON answer.

        Raises
        ------
        _Failed
            Carrying the :class:`CallFailure` when the call fails for good.
        BudgetExceededError
            When the request budget is spent before an attempt.
        """
        client = self.client
        payload = json.dumps(body, separators=(",", ":"))

        def send() -> Any:
            response = client.invoke_model(
                modelId=model_id,
                body=payload,
                contentType="application/json",
                accept="application/json",
            )
            return response["body"].read()

        raw = self.call(send, model_id, item_id, request_size=len(payload))
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise EmbeddingError(
                f"Bedrock {model_id} answered non-JSON for item {item_id!r}"
            ) from exc

    def call(
        self, send: Callable[[], R], model_id: str, item_id: str, *, request_size: int | None
    ) -> R:
        """Run ``send`` under the retry policy.

        ``request_size`` (body bytes) makes each attempt count against the request
        budget and the counters; ``None`` (status polls, S3 reads) counts nothing.

        Raises
        ------
        _Failed
            Carrying the :class:`CallFailure` when the call fails for good.
        BudgetExceededError
            When the request budget is spent before an attempt.
        """
        start = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            if request_size is not None:
                self.usage.take_request(item_id, request_size, retry=attempt > 1)
            try:
                return send()
            except Exception as exc:
                code, message, retryable = classify(exc)
                if code == "ThrottlingException":
                    self.usage.add(throttles=1)
                gone = unreachable(exc)
                if gone is not None and attempt >= UNREACHABLE_ATTEMPTS:
                    failure = CallFailure(item_id, gone.code, gone.message(attempt), attempt, True)
                    raise _Failed(failure) from exc
                if not retryable or attempt >= self.retry.max_attempts:
                    raise _Failed(CallFailure(item_id, code, message, attempt, retryable)) from exc
                # One quick retry when the endpoint refused: nothing to wait out.
                delay = self.retry.backoff(1 if gone else attempt)
                if time.monotonic() - start + delay > self.retry.max_total_time:
                    message += f" (retry budget of {self.retry.max_total_time:g}s spent)"
                    raise _Failed(CallFailure(item_id, code, message, attempt, True)) from exc
                log.info(
                    "bedrock %s: %s for item %r; retry %d/%d in %.2fs",
                    model_id,
                    code,
                    item_id,
                    attempt,
                    self.retry.max_attempts - 1,
                    delay,
                )
                time.sleep(delay)

    def close(self) -> None:
        """Shut the thread pool down (the client holds no threads)."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None


def classify(exc: BaseException) -> tuple[str, str, bool]:
    """``(code, message, retryable)`` of an exception raised by a boto3 call."""
    from botocore import exceptions as bex

    if isinstance(exc, bex.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code") or "UnknownError")
        message = str(err.get("Message") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        retryable = code in RETRYABLE_CODES or (
            not code.endswith("Exception") and status in RETRYABLE_STATUS
        )
        return code, message or f"HTTP {status}", retryable
    transient = (
        bex.ReadTimeoutError,
        bex.ConnectTimeoutError,
        bex.ConnectionClosedError,
        bex.EndpointConnectionError,
    )
    if isinstance(exc, transient):
        return type(exc).__name__, str(exc), True
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return type(exc).__name__, "no usable AWS credentials in boto3's standard chain", False
    return type(exc).__name__, str(exc), False


def failure_of(result: object) -> CallFailure | None:
    """The CallFailure a :meth:`Transport.map` result carries, if any."""
    return result.failure if isinstance(result, _Failed) else None


def _capture(fn: Callable[[T], R], arg: T) -> R | BaseException:
    try:
        return fn(arg)
    except Exception as exc:
        return exc
