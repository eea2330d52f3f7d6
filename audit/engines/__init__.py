"""Embedding engines: where a backend's ``embed`` runs (``audit run --engine``).

``inprocess`` (the default) embeds in this process. ``ray`` embeds on a Ray Data actor
pool (GPU-aware), writing Parquet shards keyed like the cache, resumable after a failure:
finished shards are read back, not recomputed. See docs/scale.md.

>>> from audit.engines import wrap_engine
>>> emb = wrap_engine(base, "local", engine="ray", options={"shard_size": 512})  # doctest: +SKIP
"""

from audit.engines._options import ENGINES, RayOptions, default_shard_dir, wrap_engine
from audit.engines._ray import EngineStats, RayEngineEmbedder
from audit.engines._shards import iter_shards, shard_key, shard_path

__all__ = [
    "ENGINES",
    "EngineStats",
    "RayEngineEmbedder",
    "RayOptions",
    "default_shard_dir",
    "iter_shards",
    "shard_key",
    "shard_path",
    "wrap_engine",
]
