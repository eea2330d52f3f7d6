"""Parsing ``gemini:<model>?k=v&...`` and ``vertex:<model>?k=v&...`` options.

Values of unknown keys are never echoed in errors (a mistyped key could hold a secret).
Credentials are refused outright: API keys come from ``GEMINI_API_KEY`` /
``GOOGLE_API_KEY`` and Google Cloud credentials from Application Default Credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from audit.embedders.hosted._spec import parse_options as parse_hosted_options

_SECRET_HINTS = ("secret", "token", "password", "key", "credential")
_URL_OPTIONS = ("base_url", "api_endpoint")
_CREDENTIALS = (
    "use GEMINI_API_KEY/GOOGLE_API_KEY or Application Default Credentials (gcloud auth "
    "application-default login, GOOGLE_APPLICATION_CREDENTIALS)"
)


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
    """Keyword arguments for the ``kind`` (``gemini``, ``vertex``) constructor from the
    query string of a spec; see :func:`audit.embedders.hosted._spec.parse_options`."""
    return parse_hosted_options(
        query,
        options,
        kind,
        secret_hints=_SECRET_HINTS,
        credentials=_CREDENTIALS,
        url_options=_URL_OPTIONS,
    )


def check_gemini(arg: str) -> None:
    """Validate ``gemini:<model>[?options]`` options (ValueError if bad); builds nothing."""
    parse_options(arg.partition("?")[2], GEMINI_OPTIONS, "gemini")


def check_vertex(arg: str) -> None:
    """Validate ``vertex:<model>[?options]`` options (ValueError if bad); builds nothing."""
    parse_options(arg.partition("?")[2], VERTEX_OPTIONS, "vertex")
