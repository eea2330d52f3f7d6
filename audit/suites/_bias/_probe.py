"""The probe contract (one abstract hook, ``run``) and the ordered probe registry."""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from audit.registry import Registry
from audit.report import Result

if TYPE_CHECKING:
    from audit.suites._bias._env import ProbeEnv

SUITE = "bias"

#: Probe kinds; a probe's name (and every check it files) starts with ``<kind>/``.
KINDS: tuple[str, ...] = (
    "weat",
    "seat",
    "xmodal",
    "ieat",
    "eat",
    "skew",
    "disparity",
    "projection-cost",
)
ASSOCIATION_KINDS: frozenset[str] = frozenset({"weat", "seat", "xmodal", "ieat", "eat"})


def dataset_label(dataset: str) -> str:
    """A probe-name-safe label for a dataset spec (``builtin:NAME``, a folder, a file).

    ``/data/gallery.csv`` -> ``gallery-csv``: the basename, with every run of characters a
    registered name cannot hold turned into ``-`` (a file's suffix is kept, so two files
    that differ only by it stay two probes).
    """
    base = dataset.removeprefix("builtin:").rstrip("/").split("/")[-1]
    return re.sub(r"[^A-Za-z0-9_-]+", "-", base).strip("-") or "dataset"


class Probe(ABC):
    """One bias probe: embeds its stimuli under a variant and files results.

    Subclasses set ``name`` (``"<kind>/<test>"``), ``kind``, ``description`` and
    ``modalities`` (what the embedder must accept) and implement :meth:`run`.
    ``min_variants`` is 2 for probes that only make sense side by side.
    """

    name: str = ""
    kind: str = ""
    description: str = ""
    modalities: frozenset[str] = frozenset({"text"})
    min_variants: int = 1
    #: Dataset specs the probe loads, declared so that a run checks their items before
    #: anything is embedded (:meth:`audit.suites.base.Suite.dataset_specs`).
    datasets: tuple[str, ...] = ()

    @property
    def is_association(self) -> bool:
        """Whether this is an association test (WEAT, SEAT, cross-modal, iEAT)."""
        return self.kind in ASSOCIATION_KINDS

    def skip_reason(self, env: ProbeEnv) -> str | None:
        """Why the probe cannot run in this environment (None: it can)."""
        if len(env.variants) < self.min_variants:
            return f"needs {self.min_variants} variants (raw and debiased); a projection is absent"
        missing = env.missing_modalities(self.modalities)
        if missing:
            return f"the embedder does not accept {', '.join(missing)}"
        return None

    @abstractmethod
    def run(self, env: ProbeEnv, variant: str) -> list[Result]:
        """Embed under ``variant`` and return this probe's results."""

    def result(self, **fields: Any) -> Result:
        """A Result of this suite; NaN numbers become None (JSON has no NaN)."""
        for key in ("value", "ci_low", "ci_high", "p_value"):
            v = fields.get(key)
            if v is not None and v != v:
                fields[key] = None
        return Result(suite=SUITE, **fields)


def finite(v: float | None) -> float | None:
    """``v`` as a float, or None when undefined (None, NaN or infinite)."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


class ProbeRegistry(Registry[Probe]):
    """A probe registry that also keeps registration order (the order probes run in)."""

    def __init__(self) -> None:
        super().__init__("probe")
        self.order: list[str] = []

    def register(self, name: str, obj: Probe) -> Probe:
        """Register ``obj`` under ``name`` (its ``name``); kinds and prefixes are checked."""
        if not isinstance(obj, Probe):
            raise TypeError(f"probe {name!r} must be a Probe, not {type(obj).__name__}")
        if obj.kind not in KINDS:
            raise ValueError(f"probe {name!r} has unknown kind {obj.kind!r}; kinds: {KINDS}")
        if name != obj.name or not name.startswith(f"{obj.kind}/"):
            raise ValueError(f"probe {obj.name!r} must be registered as '{obj.kind}/...'")
        super().register(name, obj)
        self.order.append(name)
        return obj

    def ordered(self) -> list[Probe]:
        """Probes in registration order."""
        return [self.get(n) for n in self.order]

    def copy(self) -> ProbeRegistry:
        """A new registry holding the same probes (a run adds its user probes to it)."""
        out = ProbeRegistry()
        for n in self.order:
            out.register(n, self.get(n))
        return out
