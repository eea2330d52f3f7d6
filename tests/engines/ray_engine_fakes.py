"""A spec-built fake backend for Ray workers, and a local Ray for the engine tests.

Ray workers rebuild backends from spec strings, so the fake must be registered in every
worker process: :func:`start_ray` passes this module's folder on ``PYTHONPATH`` and
:func:`register` as Ray's ``worker_process_setup_hook``.

``rayhash:<folder>`` embeds like ``fakes.HashEmbedder`` (content hash -> vector) and:
appends ``<pid> <item id>`` to ``<folder>/embedded.log`` for every item it embeds (the
actor-side counter); sleeps ``<folder>/delay`` seconds per batch when that file exists;
while ``<folder>/fail`` exists, raises ``EmbeddingError`` for texts containing ``FAIL``
and ``ItemError`` for texts containing ``BAD``, and kills its process for ``CRASH``;
embeds ``<folder>/batch_size`` items per batch when that file exists. The
folder is not part of the fingerprint; ``$RAYHASH_SALT`` is (a driver/worker mismatch on
demand).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
from fakes import HashEmbedder

from audit.embedders import EMBEDDERS, EmbedderEntry, EmbeddingError
from audit.items import Item, ItemError

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent


class LoggingHash(HashEmbedder):
    """HashEmbedder built from a spec, logging what it embeds (see module docstring)."""

    name = "rayhash"

    def __init__(self, arg: str) -> None:
        super().__init__(dim=16)
        self.root = Path(arg)
        self.params = {"dim": 16, "salt": os.environ.get("RAYHASH_SALT", "")}
        size = self.root / "batch_size"
        if size.exists():  # several batches per shard: a shard can fail part-way
            self.batch_size = int(size.read_text())

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        delay = self.root / "delay"
        if delay.exists():
            time.sleep(float(delay.read_text()))
        if (self.root / "fail").exists():
            if any("CRASH" in str(it.content) for it in items):
                os._exit(1)  # the worker process dies, as in a segfault
            for it in items:
                if "BAD" in str(it.content):
                    raise ItemError(it.id, "rayhash rejects BAD texts")
            failing = [it.id for it in items if "FAIL" in str(it.content)]
            if failing:
                raise EmbeddingError(f"rayhash failed on {', '.join(failing)}")
        with open(self.root / "embedded.log", "a", encoding="utf-8") as fh:
            fh.writelines(f"{os.getpid()} {it.id}\n" for it in items)
        return super()._embed_batch(modality, items, purpose)


def register() -> None:
    """Register ``rayhash`` (idempotent; runs in the driver and in every Ray worker)."""
    if "rayhash" not in EMBEDDERS:
        EMBEDDERS.register(
            "rayhash",
            EmbedderEntry("ray_engine_fakes:LoggingHash", "test fake", needs_arg=True),
        )


def runtime_env() -> dict[str, object]:
    """What a driver passes to ``ray.init`` so workers can build ``rayhash``."""
    path = os.pathsep.join([str(HERE), str(TESTS), os.environ.get("PYTHONPATH", "")])
    return {
        "env_vars": {"PYTHONPATH": path.rstrip(os.pathsep)},
        "worker_process_setup_hook": "ray_engine_fakes.register",
    }


def start_ray() -> str:
    """Start a 2-CPU local Ray for this test module; return its GCS address."""
    import ray

    register()
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
        runtime_env=runtime_env(),
    )
    return str(ray.get_runtime_context().gcs_address)


def logged_ids(folder: Path) -> list[str]:
    """Item ids the fake embedded so far, in log order."""
    log = folder / "embedded.log"
    if not log.exists():
        return []
    return [line.split()[1] for line in log.read_text().splitlines() if line.strip()]
