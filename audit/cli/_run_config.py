"""``audit run``'s flags and config file to a validated :class:`~audit.config.RunConfig`.

Everything is checked here, before anything runs: a misspelled suite, option, embedder
spec, engine option, safety policy or projection file is a usage error (exit 2).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from audit.engines import DEFAULT_ENGINE, ENGINES
from audit.registry import did_you_mean

#: ``--suite all``: every registered suite.
SUITE_CHOICES_ALL = "all"


def run_config(args: argparse.Namespace):
    """The run configuration and the embedder specs (two or more: a comparison run)."""
    from audit.config import ConfigError, RunConfig, load_config_file
    from audit.suites import SUITES

    file = load_config_file(args.config) if args.config else {}
    suites: list[str] = []
    for s in args.suite:
        for name in s.split(","):
            name = name.strip()
            if name == SUITE_CHOICES_ALL:
                suites.extend(n for n in SUITES.names() if n not in suites)
            else:
                SUITES.get(name)  # unknown names fail here with a suggestion
                if name not in suites:
                    suites.append(name)
    out = args.out or Path(file.get("out", "runs"))
    cache: Path | None = args.cache or (Path(file["cache"]) if "cache" in file else None)
    if args.no_cache:
        cache = None
    elif cache is None:
        cache = out / ".cache" / "embeddings.sqlite"
    seed = args.seed if args.seed is not None else file.get("seed", 0)
    if not isinstance(seed, int):
        raise ConfigError(f"seed must be an integer, got {seed!r}")
    specs = _embedder_specs(args.embedder, file)
    quick = bool(args.quick or file.get("quick", False))
    engine = str(args.engine or file.get("engine", DEFAULT_ENGINE))
    engine_options = _engine_options(args, engine, dict(file.get("engine_options", {})))
    if (
        engine == "ray"
        and "shard_dir" not in engine_options
        and not os.environ.get("AUDIT_SHARD_DIR")
    ):
        # Shards live beside the run's embedding cache (both are resumable state).
        engine_options["shard_dir"] = str(out / ".cache" / "shards")
    config = RunConfig(
        suites=suites,
        embedder=specs[0],
        out=out,
        cache=cache,
        quick=quick,
        seed=seed,
        skip_bad_items=bool(args.skip_bad_items or file.get("skip_bad_items", False)),
        progress=not args.no_progress,
        suite_options=_suite_options(file.get("suite", {}), suites, quick),
        debias=_debias_path(args.debias or file.get("debias")),
        safety_policy=_safety_policy(args.safety_policy or file.get("safety_policy")),
        engine=engine,
        engine_options=engine_options,
        dry_run=bool(args.dry_run),
        allow_errors=bool(args.allow_errors or file.get("allow_errors", False)),
    )
    return config, specs


def _suite_options(tables: dict, suites: list[str], quick: bool) -> dict[str, dict]:
    """``[suite.NAME]`` tables, checked now: a misspelled suite or option exits 2.

    Every table must name a registered suite (a typo is never silently ignored); the
    options of the suites this run executes are parsed by the suite itself.
    """
    from audit.config import ConfigError
    from audit.registry import RegistryError
    from audit.suites import SUITES, get_suite

    for name, options in tables.items():
        try:
            SUITES.get(name)
        except RegistryError as exc:
            raise ConfigError(f"[suite.{name}]: {exc}") from None
        if not isinstance(options, dict):
            raise ConfigError(f"[suite.{name}] must be a table of options")
    for name in suites:
        get_suite(name).check_options(tables.get(name, {}), quick=quick)
    return dict(tables)


def _embedder_specs(given: list[str] | None, file: dict) -> list[str]:
    """``--embedder`` values, else the config file's ``embedders``/``embedder``, else local."""
    from audit.config import ConfigError
    from audit.embedders import check_spec

    specs = [s.strip() for s in given] if given else None
    if specs is None:
        specs = list(file.get("embedders") or [file.get("embedder", "local")])
    if any(not s for s in specs):
        raise ConfigError("--embedder needs a spec, e.g. --embedder local")
    twice = sorted({s for s in specs if specs.count(s) > 1})
    if twice:
        raise ConfigError(f"embedder(s) given more than once: {', '.join(twice)}")
    for spec in specs:
        try:  # fail fast on a typo in the kind or an ?option, with the closest names
            check_spec(spec)
        except ValueError as exc:  # the spec is not echoed: a mistyped key may hold a secret
            raise ConfigError(f"embedder spec: {exc}") from None
    return specs


def _engine_options(
    args: argparse.Namespace, engine: str, opts: dict[str, object]
) -> dict[str, object]:
    """The config file's ``[engine_options]`` overridden by flags, validated up front."""
    from audit.config import ConfigError

    if engine not in ENGINES:
        known = " or ".join(map(repr, ENGINES))
        raise ConfigError(f"engine must be {known}, got {engine!r}{did_you_mean(engine, ENGINES)}")
    if args.ray_address is not None:
        opts["address"] = args.ray_address
    if args.shard_size is not None:
        if args.shard_size < 1:
            raise ConfigError(f"--shard-size must be >= 1, got {args.shard_size}")
        opts["shard_size"] = args.shard_size
    if opts and not ENGINES.get(engine).takes_options:
        raise ConfigError("--ray-address, --shard-size and [engine_options] need engine ray")
    if opts:
        from audit.engines._options import RayOptions  # validates without importing Ray

        try:
            RayOptions.parse(opts)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
    return opts


def _safety_policy(value: object) -> Path | str | None:
    """Validate a safety policy up front, so a bad one exits 2 before anything runs."""
    from audit.safety import PACKAGED_POLICIES, load_policy  # PolicyError is a ConfigError

    if value is None or str(value) in PACKAGED_POLICIES:  # "default", "strict"
        return None if value is None else str(value)

    load_policy(Path(str(value)))
    return Path(str(value))


def _debias_path(value: object) -> Path | None:
    from audit.config import ConfigError

    if value is None:
        return None
    path = Path(str(value))
    if not path.is_file():
        raise ConfigError(f"debiasing projection not found: {path} (make one: audit fit-debias)")
    from fairness.debias import load_debiaser

    try:  # read it now (small, never unpickled), so a bad file exits 2 before any suite runs
        load_debiaser(path)
    except ValueError as exc:
        raise ConfigError(f"--debias: {exc}") from None
    return path


def dry_run_options(args: argparse.Namespace):
    """The prices of a dry run (validated now); flags a dry run cannot use are refused."""
    from audit.config import ConfigError

    if not args.dry_run:
        if args.prices is not None:
            raise ConfigError("--prices prices a dry run's plan; add --dry-run")
        return None
    used = [f for f in ("policy", "baseline", "junit", "summary") if getattr(args, f) is not None]
    if used:
        flags = ", ".join(f"--{f}" for f in used)
        raise ConfigError(f"{flags}: a dry run writes no report to gate; drop them or --dry-run")
    if args.prices is None:
        return None
    from audit.usage import load_prices

    return load_prices(args.prices)
