"""Engine names and options, and :func:`wrap_engine`, the pipeline's entry point."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.embedders.base import Embedder
from audit.engines._registry import ENGINES
from audit.registry import did_you_mean

DEFAULT_SHARD_SIZE = 1024
SHARD_DIR_ENV = "AUDIT_SHARD_DIR"
DEFAULT_SHARD_DIR = "runs/.cache/shards"


def default_shard_dir() -> Path:
    """``$AUDIT_SHARD_DIR`` or ``runs/.cache/shards`` (next to the default SQLite cache)."""
    return Path(os.environ.get(SHARD_DIR_ENV, DEFAULT_SHARD_DIR))


@dataclass(frozen=True)
class RayOptions:
    """Settings of the Ray engine (``RunConfig.engine_options``).

    Attributes
    ----------
    address : str, optional
        Cluster to join: ``auto`` (a ``ray start --head`` on this machine),
        ``ray://host:10001`` (Ray Client) or a GCS ``host:port``. None starts a local Ray
        (unless this process already runs one, which is then used as it is).
    shard_size : int
        Items per Parquet shard (one Ray Data row, one actor call).
    shard_dir : Path
        Root of the shard files (absolute; workers do not share the driver's cwd).
    num_actors : int, optional
        Actor pool size (default: one per GPU when actors take GPUs, else
        ``cluster CPUs // num_cpus``), never more than the shards to compute.
    num_gpus : float, optional
        GPUs per actor (default: 1 when the cluster has GPUs, else 0; 0 forces CPU).
    num_cpus : float
        CPUs per actor (Ray sets the actor's thread count from it).
    """

    address: str | None = None
    shard_size: int = DEFAULT_SHARD_SIZE
    shard_dir: Path = field(default_factory=default_shard_dir)
    num_actors: int | None = None
    num_gpus: float | None = None
    num_cpus: float = 1.0

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> RayOptions:
        """Validate ``options``; unknown keys and bad values raise ``ValueError``."""
        known = ("address", "shard_size", "shard_dir", "num_actors", "num_gpus", "num_cpus")
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(
                f"unknown Ray engine option(s) {unknown}; known: {sorted(known)}"
                + did_you_mean(unknown[0], known, n=2)
            )
        address = options.get("address")
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ValueError(f"Ray engine option address must be a non-empty string: {address!r}")
        shard_dir = options.get("shard_dir")
        return cls(
            address=address,
            shard_size=_number(options, "shard_size", DEFAULT_SHARD_SIZE, int, 1),
            shard_dir=Path(shard_dir if shard_dir is not None else default_shard_dir()).absolute(),
            num_actors=_number(options, "num_actors", None, int, 1),
            num_gpus=_number(options, "num_gpus", None, float, 0),
            num_cpus=_number(options, "num_cpus", 1.0, float, 0),
        )


def _number(options: Mapping[str, Any], key: str, default: Any, kind: type, low: float) -> Any:
    value = options.get(key)
    if value is None:
        return default
    ok_types = (int,) if kind is int else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_types) or value < low:
        want = "an integer" if kind is int else "a number"
        raise ValueError(f"Ray engine option {key} must be {want} >= {low}, got {value!r}")
    return kind(value)


def wrap_engine(base: Embedder, spec: str, *, engine: str, options: dict[str, Any]) -> Embedder:
    """Put the embedding engine ``engine`` around the backend ``base``.

    Parameters
    ----------
    base : Embedder
        The backend built on the driver from ``spec`` (its fingerprint keys the shards).
    spec : str
        The spec ``base`` was built from; workers rebuild the backend from it.
    engine : {"inprocess", "ray"}
        ``inprocess`` returns ``base`` itself.
    options : dict
        Engine options (see :class:`RayOptions`); ``inprocess`` takes none.

    Returns
    -------
    Embedder
        ``base`` or a :class:`~audit.engines.RayEngineEmbedder` around it.

    Raises
    ------
    ValueError
        For an unknown engine (with the closest name) or unknown or bad options.
    ImportError
        For ``ray`` when Ray Data is not installed.
    """
    if engine not in ENGINES:
        raise ValueError(ENGINES.unknown(engine))
    entry = ENGINES.get(engine)
    if entry.wrap is None:
        if options:
            raise ValueError(f"the {engine} engine takes no options, got {sorted(options)}")
        return base
    module, _, func = entry.wrap.partition(":")
    return getattr(importlib.import_module(module), func)(base, spec, options)


def wrap_ray(base: Embedder, spec: str, options: dict[str, Any]) -> Embedder:
    """The ``ray`` engine's wrap hook: a :class:`~audit.engines.RayEngineEmbedder` over ``base``.

    Raises
    ------
    ValueError
        For unknown or bad options (see :class:`RayOptions`).
    ImportError
        When Ray Data is not installed.
    """
    parsed = RayOptions.parse(options)
    from audit.engines._ray import RayEngineEmbedder, require_ray

    require_ray()
    return RayEngineEmbedder(base, spec, parsed)
