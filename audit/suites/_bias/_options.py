"""Options of the bias suite (``[suite.bias]`` in the run's TOML file)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.config import ConfigError, check_keys
from audit.retrieval import ENGINES, parse_metric

_KNOWN = (
    "tests",
    "probes",
    "probe_files",
    "n_permutations",
    "exact_max",
    "n_bootstrap",
    "confidence",
    "alpha",
    "skew_k",
    "skew_permutations",
    "gap_permutations",
    "disparity_metrics",
    "speech",
    "debias",
    "sizes",
    "skew_datasets",
    "disparity_datasets",
    "cost_datasets",
    "engine",
    "engine_params",
    "gallery_sample",
    "gallery_sample_method",
    "alternative",
)
#: Alternatives of the association tests: two-sided (default) reads an association in either
#: direction, so an over-corrected debiased space shows; "greater" is Caliskan's one-sided.
ALTERNATIVES = ("two-sided", "greater", "less")
#: Search engine of the skew and disparity probes (exact: FAISS IndexFlatIP candidates,
#: then exact re-scoring with ties by corpus id).
DEFAULT_ENGINE = "faiss-flat"
SAMPLE_METHODS = ("stratified", "uniform")


@dataclass(frozen=True)
class GalleryConfig:
    """A dataset a skew or disparity probe ranks, and the attributes it groups by.

    ``queries`` (skew only): a neutral query set name of ``fairness.probes``
    (``"professions"``), ``"dataset"`` for the dataset's own queries, or a list of texts.
    """

    dataset: str
    attributes: tuple[str, ...]
    queries: str | tuple[str, ...] = "dataset"


@dataclass(frozen=True)
class BiasOptions:
    """Parsed, validated options; defaults depend on ``--quick``."""

    tests: tuple[str, ...] | None
    probes: tuple[str, ...] | None
    probe_files: tuple[Path, ...]
    n_permutations: int
    exact_max: int
    n_bootstrap: int
    confidence: float
    alpha: float
    skew_k: tuple[int, ...]
    skew_permutations: int
    gap_permutations: int
    disparity_metrics: tuple[str, ...]
    speech: bool
    debias: str
    sizes: tuple[int, ...] | None
    skew_datasets: tuple[GalleryConfig, ...] | None
    disparity_datasets: tuple[GalleryConfig, ...] | None
    cost_datasets: tuple[str, ...]
    engine: str = DEFAULT_ENGINE
    engine_params: dict[str, Any] = field(default_factory=dict)
    gallery_sample: int | None = None
    alternative: str = "two-sided"
    gallery_sample_method: str = "stratified"
    quick: bool = False

    @property
    def tests_only(self) -> bool:
        """``tests`` given: run only those association tests, nothing else."""
        return self.tests is not None

    @classmethod
    def parse(cls, opts: Mapping[str, Any], *, quick: bool) -> BiasOptions:
        """Validate ``opts``; unknown keys and bad values raise :class:`ConfigError`."""
        check_keys("[suite.bias]", opts, _KNOWN, "option")
        debias = opts.get("debias", "builtin")
        if debias not in ("builtin", "none"):
            raise ConfigError(f"[suite.bias] debias must be 'builtin' or 'none', got {debias!r}")
        metrics = _str_list(opts, "disparity_metrics") or ("ndcg@10", "recall@10")
        for m in metrics:
            try:
                parse_metric(m)
            except ValueError as exc:
                raise ConfigError(f"[suite.bias] disparity_metrics: {exc}") from None
        sizes = _int_list(opts, "sizes")
        skew_k = _int_list(opts, "skew_k") or (10, 20)
        engine = opts.get("engine", DEFAULT_ENGINE)
        if engine not in ENGINES:
            raise ConfigError(f"[suite.bias] engine must be one of {ENGINES}, got {engine!r}")
        engine_params = opts.get("engine_params", {})
        if not isinstance(engine_params, dict):
            raise ConfigError("[suite.bias] engine_params must be a table")
        method = opts.get("gallery_sample_method", "stratified")
        if method not in SAMPLE_METHODS:
            raise ConfigError(
                f"[suite.bias] gallery_sample_method must be one of {SAMPLE_METHODS}, "
                f"got {method!r}"
            )
        alternative = opts.get("alternative", "two-sided")
        if alternative not in ALTERNATIVES:
            raise ConfigError(
                f"[suite.bias] alternative must be one of {ALTERNATIVES}, got {alternative!r}"
            )
        speech = opts.get("speech", not quick)
        if not isinstance(speech, bool):
            raise ConfigError(f"[suite.bias] speech must be true or false, got {speech!r}")
        return cls(
            tests=_str_list(opts, "tests"),
            probes=_str_list(opts, "probes"),
            probe_files=tuple(Path(p) for p in _str_list(opts, "probe_files") or ()),
            n_permutations=_int(opts, "n_permutations", 10_000 if quick else 100_000, 1),
            exact_max=_int(opts, "exact_max", 100_000, 0),
            n_bootstrap=_int(opts, "n_bootstrap", 500 if quick else 2_000, 0),
            confidence=_fraction(opts, "confidence", 0.95),
            alpha=_fraction(opts, "alpha", 0.05),
            skew_k=tuple(sorted(set(skew_k))),
            skew_permutations=_int(opts, "skew_permutations", 1_000 if quick else 5_000, 0),
            gap_permutations=_int(opts, "gap_permutations", 1_000 if quick else 5_000, 0),
            disparity_metrics=metrics,
            speech=speech,
            debias=str(debias),
            sizes=tuple(sorted(set(sizes), reverse=True)) if sizes else None,
            skew_datasets=_galleries(opts, "skew_datasets", with_queries=True),
            disparity_datasets=_galleries(opts, "disparity_datasets", with_queries=False),
            cost_datasets=_str_list(opts, "cost_datasets") or ("builtin:emoji-professions",),
            engine=str(engine),
            engine_params=_engine_params(engine_params),
            alternative=str(alternative),
            # 0 (the default) ranks the whole gallery.
            gallery_sample=_int(opts, "gallery_sample", 0, 0) or None,
            gallery_sample_method=str(method),
            quick=quick,
        )


def _engine_params(params: dict[str, Any]) -> dict[str, Any]:
    from audit.suites._retrieval import ENGINE_PARAMS

    bad = sorted(set(params) - set(ENGINE_PARAMS))
    if bad:
        raise ConfigError(
            f"[suite.bias] engine_params: unknown key(s) {bad}; known: {list(ENGINE_PARAMS)}"
        )
    return dict(params)


def _int(opts: Mapping[str, Any], key: str, default: int, minimum: int) -> int:
    value = opts.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"[suite.bias] {key} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _fraction(opts: Mapping[str, Any], key: str, default: float) -> float:
    value = opts.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ConfigError(f"[suite.bias] {key} must be a number in (0, 1), got {value!r}")
    return float(value)


def _str_list(opts: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    value = opts.get(key)
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, list):
        raise ConfigError(f"[suite.bias] {key} must be a list of strings, got {value!r}")
    if not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"[suite.bias] {key} must hold non-empty strings, got {value!r}")
    return tuple(value)


def _int_list(opts: Mapping[str, Any], key: str) -> tuple[int, ...] | None:
    value = opts.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
    ):
        raise ConfigError(f"[suite.bias] {key} must be a list of ints >= 1, got {value!r}")
    return tuple(value)


def _galleries(
    opts: Mapping[str, Any], key: str, *, with_queries: bool
) -> tuple[GalleryConfig, ...] | None:
    value = opts.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"[suite.bias] {key} must be a list of tables ([[suite.bias.{key}]])")
    allowed = {"dataset", "attributes", *({"queries"} if with_queries else set())}
    out = []
    for i, entry in enumerate(value):
        where = f"[suite.bias] {key}[{i}]"
        check_keys(where, entry, allowed)
        dataset = entry.get("dataset")
        if not isinstance(dataset, str) or not dataset:
            raise ConfigError(f"{where}: 'dataset' must be a dataset spec string")
        attrs = _str_list(entry, "attributes")
        if not attrs:
            raise ConfigError(f"{where}: 'attributes' must be a non-empty list of names")
        queries: str | tuple[str, ...] = "dataset"
        if with_queries:
            raw = entry.get("queries", "dataset")
            if isinstance(raw, list):
                if not raw or not all(isinstance(q, str) and q.strip() for q in raw):
                    raise ConfigError(f"{where}: 'queries' list must hold non-empty strings")
                queries = tuple(raw)
            elif isinstance(raw, str):
                queries = raw
            else:
                raise ConfigError(f"{where}: 'queries' must be a set name or a list of texts")
        out.append(GalleryConfig(dataset, tuple(attrs), queries))
    return tuple(out)
