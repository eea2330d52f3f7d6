"""The Ray Data actor: rebuilds the backend from its spec, embeds shards, writes Parquet.

Backends travel as spec strings, never as pickled models: each actor calls
:func:`audit.embedders.create_embedder` and checks that the fingerprint it gets equals the
driver's (same weights, same output-changing parameters). Every failure is returned as a
small JSON record rather than raised, so one bad shard does not stop the others and the
driver raises the same kind of error the in-process engine would.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np

from audit.cache import cache_key
from audit.embedders.base import BaseEmbedder, EmbeddingError, SupportsAtDim, finished_for
from audit.engines._errors import encode_error
from audit.engines._shards import item_from_json, write_shard
from audit.items import BadItemsError, ItemError

log = logging.getLogger(__name__)

#: Columns of the rows the actor returns (one per shard).
OUTPUT_COLUMNS = (
    "shard",
    "ok",
    "error",
    "vectors",
    "finished",
    "written",
    "worker",
    "seconds",
    "note",
)


class EmbedActor:
    """Callable class for ``Dataset.map_batches``: one batch = one or more shard rows.

    Parameters
    ----------
    spec : str
        The embedder spec the driver was given (``local``, ``st:PATH``, ...).
    fingerprint : str
        The driver's fingerprint of that backend; the actor refuses to embed under
        another one (different weights or packages on the worker).
    served_dim : int, optional
        Build ``create_embedder(spec).at_dim(served_dim)`` (a size the backend serves).
    write : bool
        Write each finished shard to its path (the driver writes it when this fails,
        e.g. a node without the driver's filesystem).
    """

    def __init__(
        self, spec: str, fingerprint: str, served_dim: int | None = None, write: bool = True
    ) -> None:
        self.spec = spec
        self.fingerprint = fingerprint
        self.write = write
        self.worker = f"{os.getpid()}@{socket.gethostname()}"
        self.init_error: str | None = None
        self.note = ""
        self.embedder: Any = None
        try:
            from audit.embedders import create_embedder

            emb = create_embedder(spec)
            if served_dim is not None:
                if not isinstance(emb, SupportsAtDim):
                    raise EmbeddingError(f"{spec!r} has no {served_dim}-d sibling (at_dim)")
                emb = emb.at_dim(served_dim)
            if isinstance(emb, BaseEmbedder):
                emb.progress = False  # no bars from workers
            got = emb.fingerprint
            if got != fingerprint:
                raise EmbeddingError(
                    f"the Ray worker {self.worker} built {spec!r} with fingerprint {got}, "
                    f"the driver has {fingerprint}: different weights, packages or "
                    "options on the worker; install the same versions everywhere"
                )
            self.embedder = emb
            self.note = _gpu_note(emb)
        except Exception as exc:  # reported with every shard; raising kills the pool noisily
            self.init_error = encode_error(exc)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        """Embed each shard row of ``batch``; return one small result row per shard."""
        rows = [self._one({k: batch[k][i] for k in batch}) for i in range(len(batch["shard"]))]
        return {col: [r[col] for r in rows] for col in OUTPUT_COLUMNS}

    def _one(self, row: dict[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        out = {"shard": str(row["shard"]), "ok": False, "error": "", "vectors": b""}
        out.update(finished="", written=False, worker=self.worker, seconds=0.0, note=self.note)
        if self.init_error is not None:
            out["error"] = self.init_error
            return out
        items: list[Any] = []
        try:
            purpose = str(row["purpose"])
            items = [item_from_json(d) for d in json.loads(str(row["items"]))]
            keys = json.loads(str(row["keys"]))
            _check_keys(items, keys, self.fingerprint, purpose)
            vectors = np.asarray(self.embedder.embed(items, purpose=purpose), dtype=np.float32)
        except Exception as exc:
            out["error"] = encode_error(exc)
            # Answers finished before the failure go back to the driver, which hands them
            # to the cache with the error: a re-run does not pay for them again.
            part = finished_for(exc, items, int(self.embedder.dim))
            if part is not None:
                out.update(finished=json.dumps(part.index.tolist()), vectors=part.vectors.tobytes())
            return out
        if self.write:
            try:
                write_shard(
                    Path(str(row["path"])),
                    [it.id for it in items],
                    keys,
                    vectors,
                    fingerprint=self.fingerprint,
                    purpose=purpose,
                )
                out["written"] = True
            except Exception as exc:  # e.g. not the driver's filesystem: the driver writes it
                log.warning("cannot write shard %s here (%s)", row["path"], exc)
        out.update(ok=True, vectors=vectors.tobytes(), seconds=time.perf_counter() - start)
        return out


def _check_keys(items: list[Any], keys: list[str], fingerprint: str, purpose: str) -> None:
    """Refuse content that differs from what the driver keyed (e.g. another file here)."""
    errors: list[ItemError] = []
    for it, key in zip(items, keys, strict=True):
        try:
            if cache_key(fingerprint, it, purpose) != key:
                errors.append(
                    ItemError(it.id, "content on the Ray worker differs from the driver's")
                )
        except ItemError as exc:  # e.g. the file is not on this node
            errors.append(exc)
    if errors:
        raise BadItemsError(errors)


def _gpu_note(emb: Any) -> str:
    """A warning when Ray gave this actor a GPU the backend does not use."""
    try:
        import ray

        gpus = ray.get_gpu_ids()
    except Exception:  # not inside Ray (direct use in tests)
        return ""
    device = str(getattr(emb, "device", "cpu"))
    if gpus and not device.startswith(("cuda", "mps")):
        return f"GPU {gpus} reserved but {emb.name} runs on {device}"
    return ""
