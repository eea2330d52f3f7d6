"""Parsing the ``?key=value&...`` options of a hosted backend's spec into keyword arguments.

One parser for every hosted backend (``bedrock:``, ``gemini:``, ``vertex:``): each passes
its option table (name -> converter; the constructor keyword has the same name), how its
credentials are supplied, and which options hold URLs. The retry options build a
:class:`~audit.embedders.hosted.RetryPolicy`. Values of unknown keys are never echoed in
errors (a mistyped key could hold a secret), nor are URLs; credential-like keys are refused
outright.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import parse_qsl

from audit.embedders.hosted._calls import RetryPolicy
from audit.registry import did_you_mean

#: Options that build the RetryPolicy (every hosted backend takes them).
RETRY_OPTIONS: dict[str, Callable[[str], Any]] = {
    "max_attempts": int,
    "base_delay": float,
    "max_delay": float,
    "max_total_time": float,
}


def parse_options(
    query: str,
    options: Mapping[str, Callable[[str], Any]],
    kind: str,
    *,
    secret_hints: Collection[str],
    credentials: str,
    url_options: Collection[str] = (),
) -> dict[str, Any]:
    """Keyword arguments for a hosted backend's constructor from a spec's query string.

    Parameters
    ----------
    query : str
        The part after ``?`` (may be empty).
    options : mapping
        Option name -> converter; the constructor keyword has the same name.
    kind : str
        The backend (``bedrock``, ``gemini``, ``vertex``), for messages.
    secret_hints : collection of str
        Parts of a key that make an unknown key look like a credential.
    credentials : str
        Where credentials come from instead, for the refusal message.
    url_options : collection of str
        Options whose bad values are shown as ``<url>`` (they may embed user info).

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
        # known options (max_tokens) are not secrets, whatever their names contain
        if key not in known and any(hint in key.lower() for hint in secret_hints):
            raise ValueError(
                f"{kind} spec option {key!r} looks like a credential; credentials are not "
                f"accepted in a spec: {credentials}"
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
            shown = "<url>" if key in url_options else repr(value)
            raise ValueError(f"{kind} spec option {key}={shown} is not valid") from None
    if retry:
        kwargs["retry"] = RetryPolicy(**retry)
    return kwargs
