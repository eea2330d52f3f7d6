"""Google requests and how to read the Google SDKs' errors, over the hosted retry loop.

The SDKs' own retries are off (google-genai: no ``HttpRetryOptions`` means one attempt;
the Vertex ``PredictionServiceClient.predict`` call gets ``retry=None``), so the policy of
:class:`~audit.embedders.hosted.RetryingTransport` is the only one and every HTTP attempt
is counted against ``max_requests`` and in the usage counters *before* it is sent. This
module says what is transient (HTTP 408/429/500/502/503/504, timeouts, dropped
connections); INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED and the like never are.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from audit.embedders.hosted import (
    RETRYABLE_STATUS,
    BudgetExceededError,
    CallFailure,
    Classified,
    HostedCallError,
    RetryingTransport,
    RetryPolicy,
)

log = logging.getLogger(__name__)

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


class GoogleCallError(HostedCallError):
    """Google calls failed for good; lists every failed item with the service's reason."""

    def __init__(self, model: str, failures: Sequence[CallFailure]) -> None:
        super().__init__("Google", model, failures)


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

    @property
    def positions(self) -> tuple[int, ...]:
        """The items it carries (the hosted base's name for ``item_index``)."""
        return self.item_index

    @property
    def async_job(self) -> bool:
        """Google requests are synchronous."""
        return False


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


class Transport(RetryingTransport):
    """The hosted retry loop, reading google-genai and google-api-core errors.

    Constructed as :class:`~audit.embedders.hosted.RetryingTransport` (``backend`` is
    ``gemini`` or ``vertex``).
    """

    log = log

    def classify(self, exc: BaseException) -> Classified:
        """Read an SDK exception (see :func:`classify`); HTTP 429 counts as throttled."""
        code, message, status, retryable = classify(exc)
        return Classified(code, message, retryable, status == 429)
