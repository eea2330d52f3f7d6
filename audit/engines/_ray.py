"""The Ray engine: an Embedder that embeds on a Ray Data actor pool into Parquet shards.

``embed`` splits the items into shards of ``shard_size`` in input order, reads the shards
already on disk (verified: row count, keys, size), and sends only the missing ones to
``Dataset.map_batches(EmbedActor, ...)``, one dataset row per shard. Actors rebuild the
backend from its spec, write each finished shard at once, and return its vectors; the
driver assembles them in input order. A run that dies keeps every finished shard, and the
next run recomputes only the rest.
"""

from __future__ import annotations

import inspect
import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audit.cache import cache_key
from audit.embedders._wrapper import EmbedderWrapper
from audit.embedders.base import (
    BaseEmbedder,
    Describable,
    Embedder,
    EmbeddingError,
    Purpose,
    SupportsAtDim,
    check_request,
    check_vectors,
    keep_finished,
    truncate,
)
from audit.engines._errors import decode_errors, worker_traceback
from audit.engines._options import RayOptions
from audit.engines._session import (
    cluster_resources,
    ensure_ray,
    quiet_ray_data,
    require_ray,
)
from audit.engines._shards import items_json, read_shard, shard_key, shard_path, write_shard
from audit.items import Item, validate_items

log = logging.getLogger(__name__)

__all__ = ["RayEngineEmbedder", "require_ray"]

# A worker that dies (OOM, a crashing decoder) is restarted and its shard retried this
# often; then the job fails with the finished shards kept.
_MAX_RESTARTS = 4
_MAX_TASK_RETRIES = 2


@dataclass
class _Shard:
    """One slice of a call: positions ``[start, stop)`` of the request."""

    index: int
    start: int
    stop: int
    key: str
    path: Path
    repeats: list[tuple[int, int]] = field(default_factory=list)  # same key elsewhere


@dataclass
class EngineStats:
    """What the engine did so far (shared by an embedder and its ``at_dim`` siblings)."""

    jobs: int = 0
    shards_computed: int = 0
    shards_reused: int = 0
    items_embedded: int = 0
    items_reused: int = 0
    actors: int = 0
    gpus_per_actor: float = 0.0
    cpus_per_actor: float = 0.0
    cluster: dict[str, float] = field(default_factory=dict)
    workers: set[str] = field(default_factory=set)
    notes: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["workers"] = sorted(self.workers)
        out["notes"] = sorted(self.notes)
        return out


class RayEngineEmbedder(EmbedderWrapper):
    """An Embedder whose ``embed`` runs on a Ray Data actor pool, through Parquet shards.

    Identity (``name``, ``modalities``, ``dim``, ``fingerprint``) is the backend's: the
    engine changes where vectors are computed, not what they are.

    Parameters
    ----------
    base : Embedder
        The backend built on the driver from ``spec`` (fingerprint, limits, metadata;
        white-box access such as ``differentiable`` is served by it in-process, reached
        with ``audit.embedders.unwrap``).
    spec : str
        Spec string the actors rebuild the backend from.
    options : RayOptions
        Engine settings.
    served_dim : int, optional
        This engine serves ``base.at_dim(served_dim)`` (see :meth:`at_dim`).
    """

    def __init__(
        self,
        base: Embedder,
        spec: str,
        options: RayOptions,
        *,
        served_dim: int | None = None,
        stats: EngineStats | None = None,
    ) -> None:
        super().__init__(base)
        self.spec = spec
        self.options = options
        self.served_dim = served_dim
        self.stats = stats if stats is not None else EngineStats()
        self._siblings: dict[int, RayEngineEmbedder] = {}

    # -- identity (EmbedderWrapper: the backend's; the engine does not change vectors) -----

    @property
    def preferred_chunk_size(self) -> int:
        """Chunk size the cache should hand over: many shards per Ray job."""
        return self.options.shard_size * max(16, 4 * (self.options.num_actors or 0))

    def at_dim(self, dim: int) -> RayEngineEmbedder:
        """The engine around ``base.at_dim(dim)`` (actors build the same sibling)."""
        if dim == self.dim:
            return self
        if not isinstance(self.base, SupportsAtDim):
            raise AttributeError(f"{self.name} serves no other size than {self.dim}")
        if dim not in self._siblings:
            sibling = self.base.at_dim(dim)
            self._siblings[dim] = RayEngineEmbedder(
                sibling, self.spec, self.options, served_dim=int(dim), stats=self.stats
            )
        return self._siblings[dim]

    def engine_info(self) -> dict[str, Any]:
        """Engine settings and what it did (shards computed vs reused, actors, GPUs)."""
        return {
            "engine": "ray",
            "address": self.options.address,
            "shard_dir": str(self.options.shard_dir),
            "shard_size": self.options.shard_size,
            **self.stats.as_dict(),
        }

    def describe(self) -> dict[str, Any]:
        """The backend's description plus ``engine`` (see :meth:`engine_info`)."""
        described = dict(super().describe()) if isinstance(self.base, Describable) else {}
        described["engine"] = self.engine_info()
        return described

    # -- embedding ------------------------------------------------------------------------

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Embed ``items`` in order on the Ray actor pool; see :class:`Embedder`.

        Raises
        ------
        BadItemsError
            Listing every invalid item (checked here first, as in-process), or items that
            failed on a worker.
        EmbeddingError
            If a worker's backend failed, or the Ray job itself did (finished shards are
            kept; a re-run computes only the rest).
        """
        items = list(items)
        check_request(self, items, purpose, dim)
        if isinstance(self.base, BaseEmbedder):
            validate_items(items, self.base.limits)  # every bad item at once, before work
        out = np.empty((len(items), self.dim), dtype=np.float32)
        if not items:
            return out[:, : dim or self.dim]
        fp = self.fingerprint
        keys = [cache_key(fp, it, purpose) for it in items]
        todo: dict[str, _Shard] = {}
        have = np.zeros(len(items), dtype=bool)  # rows in ``out`` so far
        size = self.options.shard_size
        for index, start in enumerate(range(0, len(items), size)):
            stop = min(start + size, len(items))
            key = shard_key(fp, purpose, keys[start:stop])
            if key in todo:  # the same slice twice in one call: compute once
                todo[key].repeats.append((start, stop))
                continue
            path = shard_path(self.options.shard_dir, fp, key)
            vectors = read_shard(
                path, keys[start:stop], fingerprint=fp, purpose=purpose, dim=self.dim
            )
            if vectors is not None:
                out[start:stop] = vectors
                have[start:stop] = True
                self.stats.shards_reused += 1
                self.stats.items_reused += stop - start
            else:
                todo[key] = _Shard(index, start, stop, key, path)
        try:
            if todo:
                self._compute(list(todo.values()), items, keys, purpose, out, have)
        except BaseException as exc:
            # Every row known so far leaves with the error (the cache stores them): whole
            # shards and what workers finished of the failed ones.
            _fill_repeats(todo.values(), out, have)
            keep_finished(exc, items, np.flatnonzero(have), truncate(out[have], dim, self.dim))
            raise
        _fill_repeats(todo.values(), out, have)
        return truncate(out, dim, self.dim)

    def _compute(
        self,
        shards: list[_Shard],
        items: list[Item],
        keys: list[str],
        purpose: str,
        out: np.ndarray,
        have: np.ndarray,
    ) -> None:
        """Run one Ray Data job over the missing shards; fill ``out`` and mark ``have``."""
        require_ray()
        import ray

        from audit.engines._actor import EmbedActor

        ensure_ray(self.options.address)
        gpus, actors = self._pool_size(len(shards))
        rows = [
            {
                "shard": s.key,
                "path": str(s.path),
                "purpose": purpose,
                "items": items_json(items[s.start : s.stop]),
                "keys": json.dumps(keys[s.start : s.stop]),
            }
            for s in shards
        ]
        by_key = {s.key: s for s in shards}
        failures: list[tuple[str, str]] = []
        done: set[str] = set()
        log.info(
            "ray: %d shard(s) of %d item(s) on %d actor(s), %s GPU each",
            len(shards),
            sum(s.stop - s.start for s in shards),
            actors,
            gpus,
        )
        with quiet_ray_data():
            ds = ray.data.from_items(rows, override_num_blocks=len(rows))
            remote: dict[str, Any] = {"num_cpus": self.options.num_cpus}
            if gpus > 0:
                remote["num_gpus"] = gpus
            with warnings.catch_warnings():
                # Ray Data restarts dead actors and retries their tasks forever by default:
                # an item that kills its worker (a decoder crash) would loop. Bounded here;
                # Ray 2.60 has no named parameter for it and warns that **ray_remote_args
                # is deprecated.
                warnings.filterwarnings("ignore", message=".*ray_remote_args.*")
                if _takes_remote_args(ds.map_batches):
                    remote.update(max_restarts=_MAX_RESTARTS, max_task_retries=_MAX_TASK_RETRIES)
                mapped = ds.map_batches(
                    EmbedActor,
                    fn_constructor_kwargs={
                        "spec": self.spec,
                        "fingerprint": self.fingerprint,
                        "served_dim": self.served_dim,
                    },
                    batch_size=1,  # one shard per call: written as soon as it is done
                    compute=ray.data.ActorPoolStrategy(
                        size=actors, max_tasks_in_flight_per_actor=1
                    ),
                    **remote,
                )
            self.stats.jobs += 1
            results = iter(mapped.iter_rows())
            while True:
                try:
                    row = next(results)
                except StopIteration:
                    break
                except Exception as exc:  # the job itself failed (actor died, cluster lost)
                    raise EmbeddingError(
                        f"the Ray job failed after {len(done)} of {len(shards)} shard(s): "
                        f"{exc}; finished shards are kept in {self.options.shard_dir} and a "
                        "re-run computes only the rest"
                    ) from exc
                shard = by_key[str(row["shard"])]
                done.add(shard.key)
                self.stats.workers.add(str(row["worker"]))
                if row["note"]:
                    self.stats.notes.add(str(row["note"]))
                if row["ok"]:
                    self._accept(shard, row, items, keys, purpose, out)
                    have[shard.start : shard.stop] = True
                else:
                    self._keep_finished(shard, row, out, have)
                    trace = worker_traceback(row["error"])
                    log.debug("shard %d failed on %s:\n%s", shard.index, row["worker"], trace)
                    failures.append((_label(shard, items), str(row["error"])))
        if failures:
            raise decode_errors(failures)
        missing = [s.index for s in shards if s.key not in done]
        if missing:
            raise EmbeddingError(f"the Ray job returned no result for shard(s) {missing}")

    def _accept(
        self,
        shard: _Shard,
        row: dict[str, Any],
        items: list[Item],
        keys: list[str],
        purpose: str,
        out: np.ndarray,
    ) -> None:
        """Check a worker's vectors, store them, and write the shard if the worker could not."""
        batch = items[shard.start : shard.stop]
        raw = np.frombuffer(row["vectors"], dtype=np.float32)
        if raw.size != len(batch) * self.dim:
            raise EmbeddingError(
                f"shard {shard.index}: worker returned {raw.size} values for "
                f"{len(batch)} x {self.dim}"
            )
        vectors = check_vectors(raw.reshape(len(batch), self.dim), batch, self.dim, self.name)
        out[shard.start : shard.stop] = vectors
        if not (row["written"] and shard.path.is_file()):
            # The worker runs where the driver's filesystem is not: keep the shard here.
            write_shard(
                shard.path,
                [it.id for it in batch],
                keys[shard.start : shard.stop],
                vectors,
                fingerprint=self.fingerprint,
                purpose=purpose,
            )
        self.stats.shards_computed += 1
        self.stats.items_embedded += len(batch)

    def _keep_finished(
        self, shard: _Shard, row: dict[str, Any], out: np.ndarray, have: np.ndarray
    ) -> None:
        """Take the rows a failed shard's worker finished before its error."""
        if not row.get("finished"):
            return
        idx = np.asarray(json.loads(str(row["finished"])), dtype=np.int64).reshape(-1)
        vectors = np.frombuffer(row["vectors"], dtype=np.float32)
        n = shard.stop - shard.start
        if (
            len(idx) == 0
            or vectors.size != len(idx) * self.dim
            or not 0 <= idx.min() <= idx.max() < n
        ):
            log.warning("shard %d: ignoring malformed finished rows from the worker", shard.index)
            return
        out[shard.start + idx] = vectors.reshape(len(idx), self.dim)
        have[shard.start + idx] = True

    def _pool_size(self, n_shards: int) -> tuple[float, int]:
        """GPUs per actor and the number of actors for ``n_shards`` missing shards."""
        res = cluster_resources()
        self.stats.cluster = {"CPU": res.cpus, "GPU": res.gpus}
        gpus = self.options.num_gpus
        if gpus is None:
            gpus = 1.0 if res.gpus > 0 else 0.0
        if gpus > 0 and res.gpus == 0:
            message = f"Ray engine option num_gpus={gpus}, but the cluster has no GPU"
            if self.options.address is None:
                raise ValueError(message + "; use num_gpus=0 or join a GPU cluster")
            log.warning("%s; waiting for the autoscaler to add one", message)
        if self.options.num_actors is not None:
            actors = self.options.num_actors
        elif gpus > 0:
            actors = max(1, int(max(res.gpus, gpus) // gpus))
        else:
            per = self.options.num_cpus or 1.0
            actors = max(1, int(res.cpus // per))
        actors = max(1, min(actors, n_shards))
        self.stats.actors = actors
        self.stats.gpus_per_actor = gpus
        self.stats.cpus_per_actor = self.options.num_cpus
        return gpus, actors


def _fill_repeats(shards: Any, out: np.ndarray, have: np.ndarray) -> None:
    """Copy each computed shard's known rows to the places its slice repeats."""
    for shard in shards:
        known = have[shard.start : shard.stop]
        for start, stop in shard.repeats:
            out[start:stop][known] = out[shard.start : shard.stop][known]
            have[start:stop] |= known


def _takes_remote_args(method: Any) -> bool:
    """Whether ``map_batches`` still accepts ``**ray_remote_args`` (removed in Ray 2.64)."""
    params = inspect.signature(method).parameters.values()
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _label(shard: _Shard, items: list[Item]) -> str:
    first, last = items[shard.start].id, items[shard.stop - 1].id
    return f"shard {shard.index} (items {first!r}..{last!r})"
