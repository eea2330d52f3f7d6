"""The one place wrappers are composed around a backend.

items -> (safety filter) -> embedder -> (cache) -> (projection) -> vectors.
As Embedders: ``SafeEmbedder(ProjectedEmbedder(CachedEmbedder(base)))``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from audit.embedders import (
    BaseEmbedder,
    Describable,
    Embedder,
    chain,
    create_embedder,
)
from audit.report import EmbedderInfo, Wrappers

log = logging.getLogger(__name__)


def build_embedder(
    spec: str,
    *,
    cache_path: Path | None = None,
    progress: bool = True,
    engine: str = "inprocess",
    engine_options: Mapping[str, Any] | None = None,
    dry_run: bool = False,
) -> tuple[Embedder, Embedder]:
    """Create the backend ``spec`` names and compose its wrappers.

    ``engine="ray"`` puts the Ray engine between backend and cache (embedding runs on a
    Ray actor pool, written to Parquet shards). ``dry_run=True`` puts a planning
    embedder there instead: it counts what the backend would be sent and sends nothing;
    the cache is then only read (hits cost nothing), never written.

    Returns
    -------
    (composed, base) : tuple of Embedder
        The embedder suites use, and the bare backend (for the report).
    """
    base = create_embedder(spec)
    if isinstance(base, BaseEmbedder):
        base.progress = progress
    composed: Embedder = base
    if dry_run:
        from audit.usage import PlanningEmbedder

        composed = PlanningEmbedder(base)
    elif engine != "inprocess":
        from audit.engines import wrap_engine

        composed = wrap_engine(base, spec, engine=engine, options=dict(engine_options or {}))
    if cache_path is not None:
        from audit.cache import CachedEmbedder, PrefersChunkSize

        # An engine may want larger chunks than the in-process default (one Ray job per
        # chunk); chunks are still committed one by one, so a crash loses at most one.
        chunk = composed.preferred_chunk_size if isinstance(composed, PrefersChunkSize) else 256
        composed = CachedEmbedder(composed, cache_path, chunk_size=chunk, read_only=dry_run)
    return composed, base


@dataclass
class Pipeline:
    """The composed embedders of a run.

    Attributes
    ----------
    base : Embedder
        The bare backend (described in the report).
    variants : dict
        ``"raw"`` (backend + cache) and, when a projection is configured, ``"debiased"``
        (the same chain + projection). Suites report each variant side by side.
    deployed : Embedder
        What would ship: the debiased variant when a projection is given, else raw.
    """

    base: Embedder
    variants: dict[str, Embedder] = field(default_factory=dict)

    @property
    def deployed(self) -> Embedder:
        return self.variants.get("debiased", self.variants["raw"])


def build_pipeline(
    spec: str,
    *,
    cache_path: Path | None = None,
    projection_path: Path | None = None,
    safety_policy: Path | str | None = None,
    run_dir: Path | None = None,
    progress: bool = True,
    engine: str = "inprocess",
    engine_options: Mapping[str, Any] | None = None,
    dry_run: bool = False,
) -> Pipeline:
    """Create the backend and compose cache, projection and safety filter around it.

    ``safety_policy`` is a policy TOML path or ``"default"`` (the packaged policy); the
    filter is outermost, so blocked items never reach the cache or the backend, and its
    decisions go to ``run_dir/safety/decisions.jsonl``.
    """
    raw, base = build_embedder(
        spec,
        cache_path=cache_path,
        progress=progress,
        engine=engine,
        engine_options=engine_options,
        dry_run=dry_run,
    )
    variants: dict[str, Embedder] = {"raw": raw}
    if projection_path is not None:
        from audit.projection import load_projection

        variants["debiased"] = load_projection(raw, projection_path)
    if safety_policy is not None:
        from audit.safety import SafeEmbedder, build_filter, resolve_policy

        policy = resolve_policy(safety_policy)  # a path, or "default" / "strict"
        concepts = policy.checkers.get("concepts", {})
        concept_spec = str(concepts.get("embedder", "local"))
        concept_embedder: Embedder | None = base if spec == "local" == concept_spec else None
        if dry_run and concept_embedder is None and concept_spec != "local":
            # A hosted concept embedder would send real requests during a dry run.
            from audit.usage import PlanningEmbedder

            concept_embedder = PlanningEmbedder(create_embedder(concept_spec))
        log_path = run_dir / "safety" / "decisions.jsonl" if run_dir is not None else None
        safety = build_filter(policy, log_path=log_path, concept_embedder=concept_embedder)
        variants = {name: SafeEmbedder(emb, safety) for name, emb in variants.items()}
    return Pipeline(base=base, variants=variants)


def embedder_info(spec: str, base: Embedder) -> EmbedderInfo:
    """The report's ``embedder`` block."""
    described: dict[str, Any] = {}
    if isinstance(base, Describable):
        described = base.describe()
    return EmbedderInfo(
        spec=spec,
        name=base.name,
        modalities=sorted(base.modalities),
        dim=base.dim,
        matryoshka_dims=list(base.matryoshka_dims),
        weights=dict(described.get("weights", {})),
        params=dict(described.get("params", {})),
        usage=dict(described.get("usage", {})),
    )


def wrappers_info(composed: Embedder) -> Wrappers:
    """The report's ``wrappers`` block, read off the composed chain."""
    info: dict[str, Any] = {}
    for layer in chain(composed):
        if isinstance(layer, ReportsWrapper):
            info.update(layer.wrapper_info())
        if isinstance(layer, ReportsEngine):
            info["engine"] = layer.engine_info()
    return Wrappers(**info)


@runtime_checkable
class ReportsWrapper(Protocol):
    """A wrapper with a block in the report's ``wrappers`` (cache, projection, safety)."""

    def wrapper_info(self) -> dict[str, Any]:
        """``{block name: JSON-ready details}``."""
        ...


@runtime_checkable
class ReportsEngine(Protocol):
    """An engine wrapper whose settings and work go to ``wrappers.engine``."""

    def engine_info(self) -> dict[str, Any]:
        """JSON-ready engine settings and counters."""
        ...
