"""Content-addressed embedding cache on SQLite (WAL), as an Embedder wrapper.

Key = sha256(embedder fingerprint (id + weights hash + params), modality, content sha256,
purpose). Vectors are stored at native size, before truncation, so one cached run serves
every embedding size. Work is committed chunk by chunk, and when the backend fails, the
answers it finished before the error (carried by the exception, see
:class:`~audit.embedders.base.FinishedRows`) are committed before the error surfaces: a
hard crash loses at most the chunk in flight, an error nothing, and a re-run embeds only
what is missing. WAL lets readers run beside a writer.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from audit.embedders._wrapper import EmbedderWrapper, served_dims_of
from audit.embedders.base import (
    Embedder,
    Purpose,
    SupportsAtDim,
    check_request,
    check_vectors,
    finished_for,
    truncate,
)
from audit.items import BadItemsError, Item, ItemError

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    modality TEXT NOT NULL,
    purpose TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL
)
"""


class EmbeddingCache:
    """The SQLite store behind :class:`CachedEmbedder`.

    Parameters
    ----------
    path : str or Path
        Database file (created with its parent folders).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.execute(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60.0)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode is durable against process crashes (only an OS crash
            # can lose the last commits), and much faster than FULL.
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors for the keys present in the cache."""
        found: dict[str, np.ndarray] = {}
        conn = self._conn()
        for start in range(0, len(keys), 500):  # stay under SQLite's variable limit
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT key, dim, vector FROM embeddings WHERE key IN ({marks})", chunk
            )
            for key, dim, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (dim,) and np.isfinite(vec).all():
                    found[key] = vec
                else:  # a damaged row is recomputed, never served
                    log.warning("ignoring damaged cache row %s", key)
        return found

    def put_many(self, rows: Sequence[tuple[str, str, str, str, np.ndarray]]) -> None:
        """Insert (key, fingerprint, modality, purpose, vector) rows in one transaction."""
        conn = self._conn()
        with conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (k, f, m, p, int(v.shape[0]), np.ascontiguousarray(v, np.float32).tobytes())
                    for k, f, m, p, v in rows
                ],
            )

    def count(self) -> int:
        """Number of cached vectors."""
        return int(self._conn().execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def cache_key(fingerprint: str, item: Item, purpose: str) -> str:
    """The content-addressed key of one item's embedding."""
    parts = "\x1f".join((fingerprint, item.modality, item.content_sha256(), purpose))
    return hashlib.sha256(parts.encode()).hexdigest()


def cache_keys(fingerprint: str, items: Sequence[Item], purpose: str) -> list[str]:
    """Keys of a batch; items whose content cannot be hashed raise one error naming all.

    Hashing is the first thing that reads an item (before the backend validates it), so
    an unencodable text (a lone surrogate) or an unreadable file must surface here as a
    :class:`~audit.items.BadItemsError` naming the item, never a bare ``UnicodeEncodeError``.
    """
    keys: list[str] = []
    errors: list[ItemError] = []
    for item in items:
        try:
            keys.append(cache_key(fingerprint, item, purpose))
        except ItemError as exc:
            errors.append(exc)
    if errors:
        raise BadItemsError(errors)
    return keys


@runtime_checkable
class PrefersChunkSize(Protocol):
    """An embedder that wants the cache to hand it misses in chunks of this size (an
    engine that runs one distributed job per call)."""

    @property
    def preferred_chunk_size(self) -> int:
        """Items per ``embed`` call the cache should send."""
        ...


class CachedEmbedder(EmbedderWrapper):
    """Wrap an Embedder with the persistent cache.

    Parameters
    ----------
    base : Embedder
        The wrapped embedder; its ``fingerprint`` enters the key.
    path : str or Path
        SQLite file of the cache.
    chunk_size : int
        Missing items are embedded and committed in chunks of this size, bounding what a
        crash can lose.
    read_only : bool
        Serve hits but never store (a dry run's placeholder vectors must not enter it).
    """

    def __init__(
        self,
        base: Embedder,
        path: str | Path,
        *,
        chunk_size: int = 256,
        read_only: bool = False,
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        super().__init__(base)  # identity and fingerprint: the cache does not change vectors
        self.store = EmbeddingCache(path)
        self.chunk_size = chunk_size
        self.read_only = read_only
        self.hits = 0
        self.misses = 0

    def wrapper_info(self) -> dict[str, Any]:
        """The report's ``wrappers.cache`` block."""
        return {"cache": {"path": str(self.store.path), "hits": self.hits, "misses": self.misses}}

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Embed with the cache: serve hits, embed and commit misses chunk by chunk."""
        items = list(items)
        check_request(self, items, purpose, dim)
        # A backend that serves a size natively (Nova's MRL sizes) is asked for it rather
        # than truncated client-side; the served size enters the fingerprint, hence the key.
        served = dim is not None and dim != self.dim and dim in served_dims_of(self.base)
        base = self._served_sibling(int(dim)) if served and dim is not None else self.base
        fp = base.fingerprint
        width = base.dim
        keys = cache_keys(fp, items, purpose)
        found = self.store.get_many(list(dict.fromkeys(keys)))
        out = np.empty((len(items), width), dtype=np.float32)
        missing: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key in found:
                out[i] = found[key]
            else:
                missing.setdefault(key, i)
        self.hits += sum(1 for k in keys if k not in missing)
        todo = list(missing.items())
        for start in range(0, len(todo), self.chunk_size):
            chunk = todo[start : start + self.chunk_size]
            batch = [items[i] for _, i in chunk]
            try:
                vecs = check_vectors(base.embed(batch, purpose=purpose), batch, width, self.name)
            except BaseException as exc:
                self._keep_finished(exc, chunk, batch, fp, purpose, width)
                raise
            if not self.read_only:
                self.store.put_many(
                    [
                        (key, fp, it.modality, purpose, v)
                        for (key, _), it, v in zip(chunk, batch, vecs, strict=True)
                    ]
                )
            for (key, _), v in zip(chunk, vecs, strict=True):
                found[key] = v
            self.misses += len(chunk)
        for i, key in enumerate(keys):
            if key in missing:
                out[i] = found[key]
        log.info("cache %s: %d hit(s), %d embedded", self.store.path, self.hits, self.misses)
        if served:
            return out
        return truncate(out, dim, self.dim)

    def _served_sibling(self, dim: int) -> Embedder:
        """The base's sibling that asks the model for ``dim`` (its own fingerprint)."""
        if not isinstance(self.base, SupportsAtDim):
            raise TypeError(
                f"{self.base.name} serves {dim}-d vectors (served_dims) but has no at_dim "
                "sibling to request them with"
            )
        return self.base.at_dim(dim)

    def _keep_finished(
        self,
        exc: BaseException,
        chunk: list[tuple[str, int]],
        batch: list[Item],
        fp: str,
        purpose: str,
        width: int,
    ) -> None:
        """Commit the answers the backend finished before ``exc``, and say so on ``exc``."""
        rows = finished_for(exc, batch, width)
        if rows is None or self.read_only:
            return
        try:
            self.store.put_many(
                [
                    (chunk[i][0], fp, batch[i].modality, purpose, vec)
                    for i, vec in zip(rows.index.tolist(), rows.vectors, strict=True)
                ]
            )
        except Exception as store_error:  # the backend's error is the one to report
            log.error("could not cache the finished answers: %s", store_error)
            return
        self.misses += len(rows.index)
        note = (
            f"{len(rows.index)} embedding(s) finished before this error are saved in the "
            f"cache {self.store.path}; a re-run embeds only the rest"
        )
        log.warning(note)
        exc.add_note(note)
