"""The options of a ``bedrock:<model-id>?k=v&...`` spec; :mod:`audit.embedders.hosted._spec`
parses them.

Values of unknown keys are never echoed in errors: a mistyped key could hold a secret.
Credentials are refused outright; they come from boto3's standard chain only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from audit.embedders.hosted._spec import parse_options as parse_hosted_options

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
_SECRET_HINTS = ("secret", "token", "password", "access_key", "credential")
_CREDENTIALS = "use boto3's standard chain (environment, profile, role)"


def parse_options(query: str) -> dict[str, Any]:
    """Keyword arguments for :class:`~audit.embedders.bedrock.BedrockEmbedder`.

    Raises
    ------
    ValueError
        For a credential-like, unknown, repeated or badly typed option.
    """
    return parse_hosted_options(
        query,
        OPTIONS,
        "bedrock",
        secret_hints=_SECRET_HINTS,
        credentials=_CREDENTIALS,
        url_options=("endpoint_url",),
    )


def check_spec(arg: str) -> None:
    """Validate ``bedrock:<model-id>[?options]`` options without building anything.

    Named by the ``bedrock`` registry entry; the CLI calls it while reading the
    configuration, so a mistyped option is a usage error (exit code 2).

    Raises
    ------
    ValueError
        For an unknown (with the closest known one), repeated or badly typed option.
    """
    parse_options(arg.partition("?")[2])
