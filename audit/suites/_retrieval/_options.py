"""Options of the retrieval suite (``[suite.retrieval]`` in the run's TOML file)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit.config import ConfigError, check_keys
from audit.embedders.base import Embedder
from audit.retrieval import DEFAULT_METRICS, ENGINES, parse_metric

log = logging.getLogger(__name__)

#: Built-ins in --quick mode: the cheap modalities (no speech or video decoding).
QUICK_DATASETS: tuple[str, ...] = ("passages", "emoji-professions")
#: Untrained truncation sizes tried for a model without Matryoshka sizes.
UNTRAINED_SIZES: tuple[int, ...] = (1024, 512, 256, 128, 64)
DEFAULT_GROUP_METRICS: tuple[str, ...] = ("recall@10", "ndcg@10")
#: A number over fewer queries than this is marked ``too_few`` ("too few queries (n=3)"):
#: its bootstrap CI spans most of [0, 1] (one query moves a mean by >= 10 points), so the
#: summaries say so instead of printing a CI nobody can read.
MIN_QUERIES = 10


def too_few_queries(n: int | None) -> str | None:
    """The ``too_few`` text of a result over ``n`` queries (None: enough to read)."""
    return None if n is None or n >= MIN_QUERIES else f"too few queries (n={n})"


#: Search engine of the suites (exact; "exact" is the numpy-only alternative).
DEFAULT_ENGINE = "faiss-flat"
#: Keys of ``engine_params`` (keyword arguments of :func:`audit.retrieval.search`).
ENGINE_PARAMS: tuple[str, ...] = (
    "chunk_size",
    "nlist",
    "nprobe",
    "train_size",
    "hnsw_m",
    "ef_construction",
    "ef_search",
    "recall_sample",
    "seed",
)

_KNOWN = (
    "datasets",
    "sizes",
    "metrics",
    "group_metrics",
    "group_attributes",
    "engine",
    "engine_params",
    "n_bootstrap",
    "confidence",
    "max_queries",
    "max_corpus",
    "latency_items",
)


def default_datasets(quick: bool) -> list[str]:
    """``builtin:NAME`` specs of the built-in benchmarks whose folders are present."""
    from audit.datasets import BUILTINS, benchmark_builtins

    names = [n for n in benchmark_builtins() if (BUILTINS.get(n) / "corpus.jsonl").is_file()]
    if quick:
        names = [n for n in names if n in QUICK_DATASETS]
    return [f"builtin:{n}" for n in names]


def default_sizes(embedder: Embedder) -> list[int]:
    """Native size plus the Matryoshka sizes, or untrained power-of-two truncations."""
    sizes = {int(embedder.dim)}
    if embedder.matryoshka_dims:
        sizes |= {int(d) for d in embedder.matryoshka_dims if d <= embedder.dim}
    else:
        sizes |= {d for d in UNTRAINED_SIZES if d < embedder.dim}
    return sorted(sizes, reverse=True)


def truncation_kind(embedder: Embedder, dim: int) -> str:
    """``"native"``, ``"trained"`` (a Matryoshka size) or ``"untrained"``."""
    if dim == embedder.dim:
        return "native"
    return "trained" if dim in embedder.matryoshka_dims else "untrained"


def _int(opts: Mapping[str, Any], key: str, default: int | None, minimum: int) -> int | None:
    value = opts.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"[suite.retrieval] {key} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _str_list(opts: Mapping[str, Any], key: str, default: Any) -> list[str]:
    value = opts.get(key, default)
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[suite.retrieval] {key} must be a list of strings, got {value!r}")
    return list(value)


def _metrics(opts: Mapping[str, Any], key: str, default: Any) -> list[str]:
    names = _str_list(opts, key, default)
    for name in names:
        try:
            parse_metric(name)
        except ValueError as exc:
            raise ConfigError(f"[suite.retrieval] {key}: {exc}") from None
    if not names:
        raise ConfigError(f"[suite.retrieval] {key} is empty")
    return list(dict.fromkeys(names))


@dataclass
class RetrievalOptions:
    """Parsed and validated suite options (defaults depend on ``--quick``).

    ``max_queries``/``max_corpus`` of 0 (or absent outside quick mode) mean no cap;
    ``group_attributes`` None means each dataset card's ``group_attributes``. ``engine``
    defaults to "faiss-flat" (exact); approximate engines report their recall against
    exact search next to every number (``details.search_recall``).
    """

    datasets: list[str]
    sizes: list[int] | None
    metrics: list[str]
    group_metrics: list[str]
    group_attributes: list[str] | None
    engine: str
    engine_params: dict[str, Any]
    n_bootstrap: int
    confidence: float
    max_queries: int | None
    max_corpus: int | None
    latency_items: int
    quick: bool = False

    @classmethod
    def parse(cls, opts: Mapping[str, Any], *, quick: bool) -> RetrievalOptions:
        """Validate ``opts``; unknown keys and bad values raise :class:`ConfigError`."""
        check_keys("[suite.retrieval]", opts, _KNOWN, "option")
        sizes = opts.get("sizes")
        if sizes is not None and (
            isinstance(sizes, str | int)
            or not sizes
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in sizes)
        ):
            raise ConfigError(f"[suite.retrieval] sizes must be a list of ints >= 1, got {sizes!r}")
        # FAISS's exact kernel (IndexFlatIP) plus the exact re-scoring and id tie-break:
        # the same rankings as "exact", faster on large corpora.
        engine = opts.get("engine", DEFAULT_ENGINE)
        if engine not in ENGINES:
            raise ConfigError(f"[suite.retrieval] engine must be one of {ENGINES}, got {engine!r}")
        engine_params = opts.get("engine_params", {})
        if not isinstance(engine_params, dict):
            raise ConfigError("[suite.retrieval] engine_params must be a table")
        bad = sorted(set(engine_params) - set(ENGINE_PARAMS))
        if bad:
            raise ConfigError(
                f"[suite.retrieval] engine_params: unknown key(s) {bad}; "
                f"known: {list(ENGINE_PARAMS)}"
            )
        confidence = opts.get("confidence", 0.95)
        if isinstance(confidence, bool) or not isinstance(confidence, int | float):
            raise ConfigError(f"[suite.retrieval] confidence must be a number, got {confidence!r}")
        if not 0 < confidence < 1:
            raise ConfigError(f"[suite.retrieval] confidence must be in (0, 1), got {confidence}")
        groups = opts.get("group_attributes")
        # Quick: 10 queries (MIN_QUERIES, the fewest whose numbers can be read) need 200
        # corpus items for emoji-professions (~18 relevant images per query); 64 left it
        # 3 queries. Measured: +13 s CPU for `audit run --suite retrieval --quick` (31 -> 44).
        caps = (MIN_QUERIES, 200) if quick else (0, 0)
        return cls(
            datasets=_str_list(opts, "datasets", default_datasets(quick)),
            sizes=sorted({int(d) for d in sizes}, reverse=True) if sizes else None,
            metrics=_metrics(opts, "metrics", DEFAULT_METRICS),
            group_metrics=_metrics(opts, "group_metrics", DEFAULT_GROUP_METRICS),
            group_attributes=None if groups is None else _str_list(opts, "group_attributes", []),
            engine=str(engine),
            engine_params=dict(engine_params),
            n_bootstrap=_int(opts, "n_bootstrap", 200 if quick else 1000, 0) or 0,
            confidence=float(confidence),
            max_queries=_int(opts, "max_queries", caps[0], 0) or None,
            max_corpus=_int(opts, "max_corpus", caps[1], 0) or None,
            # Quick: off by default. Honest latency bypasses the cache, so it loads the
            # models even when the cache could answer every item (~25 s CPU for local).
            latency_items=_int(opts, "latency_items", 0 if quick else 16, 0) or 0,
            quick=quick,
        )

    def sizes_for(self, embedder: Embedder) -> list[int]:
        """The sizes to evaluate for one variant (configured sizes above its dim dropped)."""
        if self.sizes is None:
            return default_sizes(embedder)
        kept = [d for d in self.sizes if d <= embedder.dim]
        dropped = [d for d in self.sizes if d > embedder.dim]
        if dropped:
            log.warning(
                "retrieval: sizes %s exceed %s's %d-d; skipped",
                dropped,
                embedder.name,
                embedder.dim,
            )
        if not kept:
            raise ConfigError(
                f"[suite.retrieval] none of the sizes {self.sizes} fits {embedder.name} "
                f"({embedder.dim}-d)"
            )
        return kept
