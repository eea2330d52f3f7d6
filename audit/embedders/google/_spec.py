"""Parsing ``gemini:<model>?k=v&...`` and ``vertex:<model>?k=v&...`` options.

Values of unknown keys are never echoed in errors (a mistyped key could hold a secret).
Credentials are refused outright: API keys come from ``GEMINI_API_KEY`` /
``GOOGLE_API_KEY`` and Google Cloud credentials from Application Default Credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from audit.embedders.bedrock._transport import RetryPolicy
from audit.registry import did_you_mean

# options that build the RetryPolicy (shared by both backends)
RETRY_OPTIONS: dict[str, Callable[[str], Any]] = {
    "max_attempts": int,
    "base_delay": float,
    "max_delay": float,
    "max_total_time": float,
}
_SECRET_HINTS = ("secret", "token", "password", "key", "credential")
_URL_OPTIONS = ("base_url", "api_endpoint")


def flag(value: str) -> bool:
    """``1/true/yes/on`` -> True, ``0/false/no/off`` -> False."""
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


# option -> converter of each backend; the constructor keyword has the same name. Here
# (not in the backend modules) so a spec is checked before anything is built.
GEMINI_OPTIONS: dict[str, Callable[[str], Any]] = {
    "dim": int,
    "task": str.upper,
    "index_task": str.upper,
    "query_task": str.upper,
    "vertexai": flag,
    "project": str,
    "location": str,
    "base_url": str,
    "batch_size": int,
    "long_text": str.lower,
    "timeout": float,
    "max_workers": int,
    "max_requests": int,
}
VERTEX_OPTIONS: dict[str, Callable[[str], Any]] = {
    "dim": int,
    "project": str,
    "location": str,
    "api_endpoint": str,
    "documents": flag,
    "video_interval": int,
    "video_max_seconds": int,
    "doc_max_pages": int,
    "doc_dpi": int,
    "max_inline_bytes": int,
    "long_text": str.lower,
    "timeout": float,
    "max_workers": int,
    "max_requests": int,
}


def parse_options(
    query: str, options: Mapping[str, Callable[[str], Any]], kind: str
) -> dict[str, Any]:
    """Keyword arguments for a backend constructor from a spec's query string.

    Parameters
    ----------
    query : str
        The part after ``?`` (may be empty).
    options : mapping
        Option name -> converter; the constructor keyword has the same name.
    kind : str
        ``gemini`` or ``vertex``, for messages.

    Raises
    ------
    ValueError
        For a credential-like, unknown, repeated, empty or badly typed option.
    """
    kwargs: dict[str, Any] = {}
    retry: dict[str, Any] = {}
    known = {**options, **RETRY_OPTIONS}
    if not query:
        return kwargs
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ValueError(
            f"{kind} spec options must look like ?key=value&key=value "
            f"(known keys: {', '.join(sorted(known))})"
        ) from None
    for key, value in pairs:
        if any(hint in key.lower() for hint in _SECRET_HINTS):
            raise ValueError(
                f"{kind} spec option {key!r} looks like a credential; credentials are not "
                "accepted in a spec: use GEMINI_API_KEY/GOOGLE_API_KEY or Application "
                "Default Credentials (gcloud auth application-default login, "
                "GOOGLE_APPLICATION_CREDENTIALS)"
            )
        if key not in known:
            raise ValueError(f"unknown {kind} spec option {key!r}{did_you_mean(key, known)}")
        if key in kwargs or key in retry:
            raise ValueError(f"{kind} spec option {key!r} given twice")
        if value == "":
            raise ValueError(f"{kind} spec option {key!r} has no value")
        target = retry if key in RETRY_OPTIONS else kwargs
        try:
            target[key] = known[key](value)
        except ValueError:
            shown = "<url>" if key in _URL_OPTIONS else repr(value)
            raise ValueError(f"{kind} spec option {key}={shown} is not valid") from None
    if retry:
        kwargs["retry"] = RetryPolicy(**retry)
    return kwargs
