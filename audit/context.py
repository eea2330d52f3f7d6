"""The run context a suite receives: embedder, configuration, randomness, output folder."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audit.config import RunConfig
from audit.embedders.base import Embedder
from audit.preflight import RunDatasets

log = logging.getLogger(__name__)


@dataclass
class RunContext:
    """What a suite may use. Suites never build backends themselves.

    Attributes
    ----------
    embedder : Embedder
        The deployed embedder (cache, projection, safety wrappers already applied).
    variants : dict of str to Embedder
        ``"raw"`` and, with a projection, ``"debiased"``: suites report both side by side.
    datasets : RunDatasets
        The run's datasets, loaded once and checked (default: an empty one).
    config : RunConfig
        The run's configuration.
    run_dir : Path
        Folder of this run; suites may write artifacts under ``run_dir / "artifacts"``.
    """

    embedder: Embedder
    config: RunConfig
    run_dir: Path
    variants: dict[str, Embedder] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    datasets: RunDatasets | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.variants:
            self.variants = {"raw": self.embedder}
        if self.datasets is None:
            self.datasets = RunDatasets(skip_bad_items=self.config.skip_bad_items)

    def dataset(self, spec: str) -> Any:
        """Load (once per run) a dataset by spec (``builtin:NAME``, a path...).

        Every item is checked first (:class:`audit.preflight.RunDatasets`): bad ones raise
        one :class:`audit.preflight.RunItemsError` naming them all, or are left out with
        ``config.skip_bad_items``.
        """
        assert self.datasets is not None
        return self.datasets.get(spec)

    def rng(self, stream: str) -> np.random.Generator:
        """A generator seeded from the run seed and a stream name (stable across runs)."""
        salt = int.from_bytes(hashlib.sha256(stream.encode()).digest()[:8], "little")
        return np.random.default_rng([self.config.seed, salt])

    def seed_for(self, stream: str) -> int:
        """An int seed for libraries that take one (derived from :meth:`rng`)."""
        return int(self.rng(stream).integers(0, 2**31 - 1))

    @property
    def artifacts(self) -> Path:
        """Folder for files a suite writes next to report.json."""
        path = self.run_dir / "artifacts"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def options(self, suite: str) -> dict[str, Any]:
        """Per-suite options from the config file."""
        return self.config.options_for(suite)
