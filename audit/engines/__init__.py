"""Embedding engines: where a backend's ``embed`` runs (``audit run --engine``).

``inprocess`` (the default) embeds in this process. ``ray`` embeds on a Ray Data actor
pool (GPU-aware), writing Parquet shards keyed like the cache, resumable after a failure:
finished shards are read back, not recomputed. See docs/scale.md.

>>> from audit.engines import wrap_engine
>>> emb = wrap_engine(base, "local", engine="ray", options={"shard_size": 512})  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The engine registry is light (standard library only): the CLI builds ``--engine`` choices
# from it. Everything else loads on first use (PEP 562), so reading ENGINES imports neither
# numpy, the embedders nor Ray.
from audit.engines._registry import DEFAULT_ENGINE, ENGINES, EngineEntry

if TYPE_CHECKING:  # for type checkers; at run time see __getattr__
    from audit.engines._options import RayOptions, default_shard_dir, wrap_engine
    from audit.engines._ray import EngineStats, RayEngineEmbedder
    from audit.engines._shards import iter_shards, shard_key, shard_path

_LAZY = {
    "RayOptions": "_options",
    "default_shard_dir": "_options",
    "wrap_engine": "_options",
    "EngineStats": "_ray",
    "RayEngineEmbedder": "_ray",
    "iter_shards": "_shards",
    "shard_key": "_shards",
    "shard_path": "_shards",
}

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "EngineEntry",
    "EngineStats",
    "RayEngineEmbedder",
    "RayOptions",
    "default_shard_dir",
    "iter_shards",
    "shard_key",
    "shard_path",
    "wrap_engine",
]


def __getattr__(name: str) -> Any:
    """Load a heavy public name from its private module on first access."""
    if name not in _LAZY:
        raise AttributeError(f"module 'audit.engines' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"audit.engines.{_LAZY[name]}"), name)
    globals()[name] = value
    return value
