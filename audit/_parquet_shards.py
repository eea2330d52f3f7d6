"""Read embedding shards: Parquet files with columns id, key and vector.

The layout the Ray engine writes (``id``: string item id, ``key``: string cache key,
``vector``: fixed_size_list<float32>). Read batch by batch, so a stream of shards never
has to fit in memory; used by :func:`audit.debias_fit.fit_debias_from_shards`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SHARD_COLUMNS", "iter_parquet_shards"]

SHARD_COLUMNS = ("id", "key", "vector")


def iter_parquet_shards(
    shard_dir: str | Path, *, batch_rows: int = 8192
) -> Iterator[tuple[list[str], np.ndarray]]:
    """Read ``(ids, vectors)`` batches from the Parquet shards of a directory.

    Each ``*.parquet`` file (sorted by path, searched recursively) must have the
    columns ``id`` (string), ``key`` (string) and ``vector`` (fixed_size_list<float32>;
    a list<float> column with equal lengths is accepted too). Every file is read:
    for a Ray engine folder holding several embedders or purposes, filter with
    ``audit.engines.iter_shards(dir, fingerprint, purpose=...)`` instead.

    Yields
    ------
    (ids, vectors) : tuple of list of str and float32 ndarray of shape (n, d)
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    # A name starting with "." is a writer's temporary file (renamed when complete).
    files = [p for p in sorted(Path(shard_dir).rglob("*.parquet")) if not p.name.startswith(".")]
    if not files:
        raise FileNotFoundError(f"no *.parquet shards under {shard_dir}")
    dim: int | None = None
    for path in files:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        missing = [c for c in SHARD_COLUMNS if c not in names]
        if missing:
            raise ValueError(f"shard {path}: missing column(s) {missing}; has {names}")
        for batch in pf.iter_batches(batch_size=batch_rows, columns=["id", "vector"]):
            ids_col, vec_col = batch.column(0), batch.column(1)
            if not pa.types.is_string(ids_col.type) and not pa.types.is_large_string(ids_col.type):
                raise ValueError(f"shard {path}: column id must be string, got {ids_col.type}")
            vectors = _vectors(vec_col, path)
            if dim is not None and vectors.shape[1] != dim:
                raise ValueError(f"shard {path}: {vectors.shape[1]}-d vectors after {dim}-d ones")
            dim = vectors.shape[1]
            if ids_col.null_count:
                raise ValueError(f"shard {path}: null id")
            yield ids_col.to_pylist(), vectors


def _vectors(col: Any, path: Path) -> np.ndarray:
    """A (n, d) float32 matrix from a fixed-size (or equal-length) list column."""
    import pyarrow as pa

    if col.null_count:
        raise ValueError(f"shard {path}: null vector")
    if pa.types.is_fixed_size_list(col.type):
        d = col.type.list_size
    elif pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
        lengths = np.diff(np.asarray(col.offsets))
        if lengths.size and (lengths != lengths[0]).any():
            raise ValueError(f"shard {path}: vectors of different lengths")
        d = int(lengths[0]) if lengths.size else 0
    else:
        raise ValueError(f"shard {path}: column vector must be a list of floats, got {col.type}")
    flat = col.flatten().to_numpy(zero_copy_only=False)
    return np.ascontiguousarray(flat.reshape(len(col), d), dtype=np.float32)
