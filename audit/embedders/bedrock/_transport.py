"""The Bedrock runtime client and how to read boto3's errors, over the hosted retry loop.

botocore's own retries are switched off (``total_max_attempts=1``) so the policy of
:class:`~audit.embedders.hosted.RetryingTransport` is the only one. This module says what
is transient (throttling, model timeout/not ready, 5xx, dropped connections);
ValidationException, AccessDenied and other client errors are never retried.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from audit.embedders._usage import Usage
from audit.embedders.base import EmbeddingError
from audit.embedders.hosted import (
    RETRYABLE_STATUS,
    CallFailure,
    Classified,
    HostedCallError,
    RetryingTransport,
    RetryPolicy,
    check_endpoint,
    safe_endpoint,
)

log = logging.getLogger(__name__)


RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ModelTimeoutException",
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelNotReadyException",
    }
)


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


class BedrockCallError(HostedCallError):
    """Bedrock calls failed for good; lists every failed request with the service's reason.

    A request carries one item (a Cohere request up to 96): each failure's ``item_id``
    names the items of its request.
    """

    def __init__(self, model_id: str, failures: Sequence[CallFailure]) -> None:
        super().__init__("Bedrock", model_id, failures)
        self.model_id = model_id


class Transport(RetryingTransport):
    """A lazily built ``bedrock-runtime`` client over the shared retry loop and thread pool.

    Shared by an embedder and its per-dimension siblings, so they share connections.
    Credentials come from boto3's standard chain and are never stored here.
    """

    label_format = "item %r"
    log = log

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
        super().__init__("bedrock", retry, max_workers, usage or Usage())
        check_endpoint("endpoint_url", endpoint_url)
        self.region = region
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._client = client
        self._s3: Any = None

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

    def invoke(self, model_id: str, body: dict[str, Any], item_id: str) -> Any:
        """One ``InvokeModel`` call with retries; the parsed JSON answer.

        Raises what :meth:`~audit.embedders.hosted.RetryingTransport.call` raises, and an
        :class:`EmbeddingError` naming the item when the answer is not JSON.
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

        raw = self.call(send, model_id, item_id, size=len(payload))
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise EmbeddingError(
                f"Bedrock {model_id} answered non-JSON for item {item_id!r}"
            ) from exc

    def classify(self, exc: BaseException) -> Classified:
        """Read a boto3 exception (see :func:`classify`); throttling is counted."""
        code, message, retryable = classify(exc)
        return Classified(code, message, retryable, code == "ThrottlingException")


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
