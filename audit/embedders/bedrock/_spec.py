"""Parsing the options of a ``bedrock:<model-id>?k=v&...`` spec into constructor arguments.

Values of unknown keys are never echoed in errors: a mistyped key could hold a secret.
Credentials are refused outright; they come from boto3's standard chain only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from audit.embedders.bedrock._transport import RetryPolicy
from audit.registry import did_you_mean

_UPPER: Callable[[str], str] = str.upper

# option -> converter; the BedrockEmbedder keyword has the same name.
OPTIONS: dict[str, Callable[[str], Any]] = {
    "dim": int,
    "region": str,
    "endpoint_url": str,
    "profile": str,
    # purposes are case-normalised by the embedder (Nova upper, Cohere lower case)
    "index_purpose": str,
    "query_purpose": str,
    "truncation": _UPPER,
    "image_detail": _UPPER,
    "video_mode": _UPPER,
    "max_tokens": int,
    "video_embedding": str.lower,
    "clip_seconds": float,
    "doc_max_pages": int,
    "doc_dpi": int,
    "max_inline_bytes": int,
    "max_workers": int,
    "connect_timeout": float,
    "read_timeout": float,
    "max_requests": int,
    "async_mode": str.lower,
    "s3_output": str,
    "segment_seconds": int,
    "segment_chars": int,
    "async_timeout": float,
    "poll_interval": float,
}
# options that build the RetryPolicy
RETRY_OPTIONS: dict[str, Callable[[str], Any]] = {
    "max_attempts": int,
    "base_delay": float,
    "max_delay": float,
    "max_total_time": float,
}
_SECRET_HINTS = ("secret", "token", "password", "access_key", "credential")


def parse_options(query: str) -> dict[str, Any]:
    """Keyword arguments for :class:`~audit.embedders.bedrock.BedrockEmbedder`.

    Raises
    ------
    ValueError
        For a credential-like, unknown, repeated or badly typed option.
    """
    kwargs: dict[str, Any] = {}
    retry: dict[str, Any] = {}
    known = {**OPTIONS, **RETRY_OPTIONS}
    if not query:
        return kwargs
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ValueError(
            "bedrock spec options must look like ?key=value&key=value "
            f"(known keys: {', '.join(sorted(known))})"
        ) from None
    for key, value in pairs:
        # known options (max_tokens) are not secrets, whatever their names contain
        if key not in known and any(hint in key.lower() for hint in _SECRET_HINTS):
            raise ValueError(
                f"bedrock spec option {key!r} looks like a credential; credentials are not "
                "accepted in a spec: use boto3's standard chain (environment, profile, role)"
            )
        if key not in known:
            raise ValueError(f"unknown bedrock spec option {key!r}{did_you_mean(key, known)}")
        if key in kwargs or key in retry:
            raise ValueError(f"bedrock spec option {key!r} given twice")
        if value == "":
            raise ValueError(f"bedrock spec option {key!r} has no value")
        target = retry if key in RETRY_OPTIONS else kwargs
        try:
            target[key] = known[key](value)
        except ValueError:
            shown = "<url>" if key == "endpoint_url" else repr(value)
            raise ValueError(f"bedrock spec option {key}={shown} is not valid") from None
    if retry:
        kwargs["retry"] = RetryPolicy(**retry)
    return kwargs
