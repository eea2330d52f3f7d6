"""Parquet shards of embeddings, keyed like the cache, and items shipped to workers as JSON.

A shard is a contiguous slice of one ``embed`` call's items. Its key is a sha256 over the
embedder fingerprint, the purpose and the slice's per-item cache keys
(:func:`audit.cache.cache_key`), so the same items embedded by the same model for the same
purpose always land in the same file::

    <shard_dir>/<fingerprint folder>/<shard key>.parquet

Columns: ``id`` (string), ``key`` (string, the item's cache key), ``vector``
(fixed_size_list<float32>[dim], native size). Schema metadata: ``fingerprint``,
``purpose``, ``dim``, ``tool_version``. Files are written to a temporary name and renamed
(atomic on POSIX), so a reader sees a whole shard or none.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audit._version import __version__
from audit.items import Item

log = logging.getLogger(__name__)

SUFFIX = ".parquet"
_META_KEYS = ("fingerprint", "purpose", "dim", "tool_version")


def shard_key(fingerprint: str, purpose: str, item_keys: Sequence[str]) -> str:
    """The content-addressed key of a shard: fingerprint, purpose, item keys in order."""
    h = hashlib.sha256()
    for part in (fingerprint, purpose, *item_keys):
        h.update(part.encode())
        h.update(b"\x1f")  # separator: ("ab", "c") and ("a", "bc") must differ
    return h.hexdigest()


def fingerprint_dir(fingerprint: str) -> str:
    """Folder name for one fingerprint: a readable slug plus a hash (fingerprints hold ':/')."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", fingerprint)[:48].strip("._") or "model"
    return f"{slug}-{hashlib.sha256(fingerprint.encode()).hexdigest()[:12]}"


def shard_path(shard_dir: Path, fingerprint: str, key: str) -> Path:
    """Where the shard ``key`` of ``fingerprint`` lives."""
    return Path(shard_dir) / fingerprint_dir(fingerprint) / f"{key}{SUFFIX}"


# -- items <-> JSON rows (what travels to a Ray worker) ---------------------------------


def item_to_json(item: Item) -> dict[str, str]:
    """A JSON-able dict for ``item``: text inline, bytes base64, paths made absolute.

    Group attributes are not shipped: backends never read them.
    """
    row = {"id": item.id, "modality": item.modality}
    content = item.content
    if item.modality == "text":
        row["text"] = str(content)
    elif isinstance(content, bytes):
        row["b64"] = base64.b64encode(content).decode("ascii")
    elif isinstance(content, str) and "://" in content:
        row["path"] = content  # a URI (s3://...): the backend resolves it, not the filesystem
    else:
        row["path"] = os.path.abspath(content)  # workers do not share the driver's cwd
    return row


def item_from_json(row: dict[str, Any]) -> Item:
    """Inverse of :func:`item_to_json`."""
    if "text" in row:
        content: str | bytes = row["text"]
    elif "b64" in row:
        content = base64.b64decode(row["b64"])
    else:
        content = row["path"]
    return Item(id=row["id"], modality=row["modality"], content=content)


# -- write / read ------------------------------------------------------------------------


def write_shard(
    path: Path,
    ids: Sequence[str],
    keys: Sequence[str],
    vectors: np.ndarray,
    *,
    fingerprint: str,
    purpose: str,
) -> None:
    """Write one shard atomically (temporary file, then ``os.replace``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if len(ids) != n or len(keys) != n:
        raise ValueError(f"shard {path.name}: {len(ids)} ids, {len(keys)} keys, {n} vectors")
    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    table = pa.table(
        {
            "id": pa.array(list(ids), type=pa.string()),
            "key": pa.array(list(keys), type=pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(flat, dim),
        }
    )
    meta = {"fingerprint": fingerprint, "purpose": purpose, "dim": str(dim)}
    meta["tool_version"] = __version__
    table = table.replace_schema_metadata(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, row_group_size=max(n, 1))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def shard_metadata(path: Path) -> dict[str, str]:
    """The shard's schema metadata (fingerprint, purpose, dim, tool_version)."""
    import pyarrow.parquet as pq

    raw = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in raw.items() if k.decode() in _META_KEYS}


def _vectors(column: Any, dim: int) -> np.ndarray:
    """float32 (n, dim) from a fixed_size_list<float32> column (chunked or not)."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    values = column.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float32).reshape(len(column), dim)


def read_shard(
    path: Path, keys: Sequence[str], *, fingerprint: str, purpose: str, dim: int
) -> np.ndarray | None:
    """The shard's vectors if the file is whole and holds exactly ``keys``; else None.

    A missing file returns None quietly; a damaged or mismatching one is logged (and the
    caller recomputes it, overwriting the file).
    """
    import pyarrow.parquet as pq

    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
        meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        want = {"fingerprint": fingerprint, "purpose": purpose, "dim": str(dim)}
        wrong = {k: meta.get(k) for k, v in want.items() if meta.get(k) != v}
        if wrong:
            raise ValueError(f"metadata {wrong} != expected {want}")
        if table.num_rows != len(keys):
            raise ValueError(f"{table.num_rows} rows, expected {len(keys)}")
        if table.column("key").to_pylist() != list(keys):
            raise ValueError("item keys differ from the request's")
        vectors = _vectors(table.column("vector"), dim)
        if not np.isfinite(vectors).all():
            raise ValueError("non-finite values")
    except Exception as exc:  # pyarrow raises several types for a damaged file
        log.warning("shard %s is unusable (%s); recomputing it", path, exc)
        return None
    return vectors


def iter_shards(
    shard_dir: str | Path,
    fingerprint: str | None = None,
    *,
    purpose: str | None = None,
    batch_size: int = 1024,
) -> Iterator[tuple[list[str], np.ndarray]]:
    """Stream ``(ids, vectors)`` chunks from the Parquet shards under ``shard_dir``.

    Files are visited in sorted path order and read one record batch at a time, so memory
    stays at one chunk (e.g. for ``FairPCA.partial_fit`` over a large corpus).

    Parameters
    ----------
    shard_dir : str or Path
        The engine's shard folder (``options["shard_dir"]``).
    fingerprint : str, optional
        Only shards of this embedder fingerprint (default: every shard found).
    purpose : {"index", "query"}, optional
        Only shards embedded for this purpose.
    batch_size : int
        Rows per yielded chunk (at most; a chunk never spans two files).

    Yields
    ------
    (ids, vectors) : tuple of list of str and np.ndarray
        Item ids and their float32 ``(m, dim)`` native-size vectors.

    Raises
    ------
    ValueError
        If a shard file cannot be read (named in the message).
    """
    import pyarrow.parquet as pq

    root = Path(shard_dir)
    if fingerprint is not None:
        root = root / fingerprint_dir(fingerprint)
    if not root.is_dir():
        return
    for path in sorted(root.rglob(f"*{SUFFIX}")):
        if path.name.startswith("."):
            continue  # a temporary file of a writer still at work
        try:
            meta = shard_metadata(path)
            dim = int(meta["dim"])
            reader = pq.ParquetFile(path)
        except Exception as exc:
            raise ValueError(f"shard {path} cannot be read: {exc}") from exc
        if fingerprint is not None and meta.get("fingerprint") != fingerprint:
            continue
        if purpose is not None and meta.get("purpose") != purpose:
            continue
        for batch in reader.iter_batches(batch_size=batch_size, columns=["id", "vector"]):
            ids = [str(x) for x in batch.column(0).to_pylist()]
            yield ids, _vectors(batch.column(1), dim)


def items_json(items: Sequence[Item]) -> str:
    """One shard's items as a JSON string (a single Ray Data column value)."""
    return json.dumps([item_to_json(it) for it in items], separators=(",", ":"))
