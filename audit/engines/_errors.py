"""Errors across the process boundary: a worker encodes, the driver raises the same kind.

Exceptions are not pickled back through Ray: a worker returns a small JSON record, so an
item that fails on a worker surfaces on the driver as the error the in-process engine
raises (``BadItemsError`` naming every bad item, ``EmbeddingError``, or a builtin type),
and Ray's own error logging stays out of the user's terminal.
"""

from __future__ import annotations

import builtins
import json
import traceback
from collections.abc import Sequence
from typing import Any

from audit.embedders.base import EmbeddingError
from audit.items import BadItemsError, ItemError


def encode_error(exc: BaseException) -> str:
    """A JSON record of ``exc`` (kind, message, bad items, worker traceback)."""
    record: dict[str, Any] = {
        "kind": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc, limit=-8)),
    }
    if isinstance(exc, BadItemsError):
        record["kind"] = "BadItemsError"
        record["items"] = [[e.item_id, e.reason] for e in exc.errors]
    elif isinstance(exc, ItemError):
        record["kind"] = "BadItemsError"
        record["items"] = [[exc.item_id, exc.reason]]
    elif isinstance(exc, EmbeddingError):
        record["kind"] = "EmbeddingError"
    return json.dumps(record)


def decode_errors(records: Sequence[tuple[str, str]]) -> Exception:
    """One exception for the failed shards ``(shard label, encoded record)``.

    Bad items of every shard are merged into one ``BadItemsError`` (a batch reports all
    its bad items); otherwise the first failure's kind is raised with each shard named.
    """
    decoded = [(label, json.loads(rec)) for label, rec in records]
    bad = [ItemError(i, r) for _, rec in decoded for i, r in rec.get("items", ())]
    if bad:
        return BadItemsError(bad)
    first = decoded[0][1]
    lines = "; ".join(f"{label}: {rec['message']}" for label, rec in decoded[:5])
    more = f" (and {len(decoded) - 5} more)" if len(decoded) > 5 else ""
    message = f"{len(decoded)} shard(s) failed on Ray workers: {lines}{more}"
    kind = first["kind"]
    if kind == "EmbeddingError":
        return EmbeddingError(message)
    cls = getattr(builtins, kind, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and kind not in ("KeyError",):
        try:
            return cls(message)
        except TypeError:  # a builtin whose constructor wants other arguments
            pass
    return EmbeddingError(f"{kind}: {message}")


def worker_traceback(record: str) -> str:
    """The worker-side traceback kept in an encoded record (for debug logs)."""
    return str(json.loads(record).get("traceback", ""))
