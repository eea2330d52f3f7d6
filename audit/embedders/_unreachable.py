"""Telling "the endpoint is gone" apart from transient trouble, for the hosted transports.

A refused connection (nothing listens: the endpoint was stopped, the port or host is
wrong) is not throttling: backing off for minutes does not bring it back. The Bedrock and
Google transports retry it once, quickly, then give up with a message naming the
endpoint (scheme, host and port only: no path, query or user info, so no credentials).
Timeouts and connections dropped mid-request keep the ordinary retry policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Attempts per request, the first included, once the endpoint refuses connections.
UNREACHABLE_ATTEMPTS = 2


@dataclass(frozen=True)
class Unreachable:
    """Why a request could not reach its endpoint.

    Attributes
    ----------
    endpoint : str
        ``scheme://host[:port]`` of the endpoint, or ``"the endpoint"`` when unknown.
    refused : bool
        The connection was refused (rather than, e.g., the host name not resolving).
    """

    endpoint: str
    refused: bool

    @property
    def code(self) -> str:
        """Short error code for :class:`~audit.embedders.hosted.CallFailure`."""
        return "ConnectionRefused" if self.refused else "EndpointUnreachable"

    def message(self, attempts: int) -> str:
        """What the user reads: what happened, where, and why it was not retried longer."""
        what = "connection refused by" if self.refused else "could not connect to"
        return (
            f"{what} {self.endpoint}: the endpoint is down, gone or mistyped; this is not "
            f"throttling, so it was given up after {attempts} attempt(s)"
        )


def unreachable(exc: BaseException) -> Unreachable | None:
    """An :class:`Unreachable` when ``exc`` (botocore, httpx, requests or urllib3, at any
    depth of its chain) says no connection could be made; None otherwise."""
    found = False
    refused = False
    url: str | None = None
    for err in _chain(exc):
        name = type(err).__name__
        if isinstance(err, ConnectionRefusedError):
            found = refused = True
        elif name in ("EndpointConnectionError", "NewConnectionError", "NameResolutionError"):
            found = True
        elif name == "ConnectError" and type(err).__module__.startswith("httpx"):
            found = True
        url = url or _url_of(err)
    if not found:
        return None
    return Unreachable(_endpoint(url), refused)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it wraps: causes, contexts, botocore's ``error``,
    urllib3's ``reason`` and exceptions passed as arguments (requests)."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < 32:
        err = todo.pop()
        if id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        inner = [err.__cause__, err.__context__, getattr(err, "reason", None)]
        kwargs = getattr(err, "kwargs", None)
        if isinstance(kwargs, dict):
            inner.append(kwargs.get("error"))
        inner += list(err.args)
        todo += [e for e in inner if isinstance(e, BaseException)]


def _url_of(err: BaseException) -> str | None:
    kwargs = getattr(err, "kwargs", None)
    if isinstance(kwargs, dict) and isinstance(kwargs.get("endpoint_url"), str):
        return kwargs["endpoint_url"]  # botocore
    try:
        request = getattr(err, "request", None)  # httpx raises when it has none
    except RuntimeError:
        return None
    url = getattr(request, "url", None)
    return str(url) if url else None


def _endpoint(url: str | None) -> str:
    if not url:
        return "the endpoint"
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "the endpoint"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"
