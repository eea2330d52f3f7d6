"""Run configuration: one dataclass the CLI fills and the runner reads."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A configuration or usage error (CLI exit code 2)."""


def check_keys(where: str, given: Iterable[str], known: Iterable[str], what: str = "key") -> None:
    """Refuse keys not in ``known``, naming each and the closest known one.

    Parameters
    ----------
    where : str
        Where the keys were read, for the message (``"run.toml"``, ``"[suite.bias]"``).
    given, known : iterable of str
        The keys found and the keys allowed.
    what : str
        What a key is called there (``"key"``, ``"option"``).

    Raises
    ------
    ConfigError
        For the first unknown key (sorted), with a suggestion and the known keys.
    """
    from audit.registry import did_you_mean

    known = sorted(known)
    unknown = sorted(set(given) - set(known))
    if unknown:
        more = f" (and {', '.join(map(repr, unknown[1:]))})" if len(unknown) > 1 else ""
        raise ConfigError(
            f"{where}: unknown {what} {unknown[0]!r}{did_you_mean(unknown[0], known)}{more}; "
            f"known: {', '.join(known)}"
        )


@dataclass
class RunConfig:
    """Everything a run needs to know.

    Attributes
    ----------
    suites : list of str
        Suite names to run (``all`` is expanded by the CLI).
    embedder : str
        Embedder spec (``local``, ``st:PATH``, ``hf:PATH``, ``bedrock:MODEL``).
    out : Path
        Runs directory; the report goes to ``out/<run-id>/report.json``.
    cache : Path or None
        SQLite embedding cache; ``None`` disables caching.
    debias : Path or None
        A saved debiasing projection (``audit fit-debias``); suites then report the raw
        and the debiased embedder side by side.
    safety_policy : Path, "default" or None
        Content-safety policy; the filter then wraps every embedder of the run.
    quick : bool
        Smaller samples (fewer permutations, bootstrap draws) for fast feedback.
    seed : int
        Seed for every random draw, recorded in the report.
    skip_bad_items : bool
        Leave out the dataset items that fail the checks made before embedding starts
        (``--skip-bad-items``), recording each in the report's ``skipped_items``, instead
        of stopping the run with one error naming them all (see :mod:`audit.preflight`).
    suite_options : dict
        Per-suite options from the config file's ``[suite.NAME]`` tables.
    engine : {"inprocess", "ray"}
        Where backend embedding runs: in this process (default) or on a Ray cluster
        (Ray Data actor pool, Parquet shards; see docs/scale.md).
    engine_options : dict
        Engine settings (``address``, ``shard_size``, ``shard_dir``, ``num_actors``,
        ``num_gpus``); see :func:`audit.engines.wrap_engine`.
    dry_run : bool
        Count what the suites would send to each backend (requests, characters,
        images, media seconds) without sending anything.
    comparison : str or None
        The comparison run this run belongs to (``audit run`` with several
        ``--embedder``); None for a run of its own.
    allow_errors : bool
        Accept a run in which some checks errored (``--allow-errors``): it is then judged
        by its gates alone instead of ending ``incomplete`` with exit code 3. The errored
        checks are recorded and shown either way.
    """

    suites: list[str] = field(default_factory=lambda: ["bias"])
    embedder: str = "local"
    out: Path = Path("runs")
    cache: Path | None = Path("runs/.cache/embeddings.sqlite")
    debias: Path | None = None
    safety_policy: Path | str | None = None
    quick: bool = False
    seed: int = 0
    skip_bad_items: bool = False
    progress: bool = True
    suite_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    engine: str = "inprocess"
    engine_options: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    comparison: str | None = None
    allow_errors: bool = False

    def options_for(self, suite: str) -> dict[str, Any]:
        """Options of one suite (empty when the config file has none)."""
        return dict(self.suite_options.get(suite, {}))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for the report."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = str(v) if isinstance(v, Path) else v
        return out


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML run configuration.

    Known top-level keys: ``embedder`` (one spec) or ``embedders`` (a list: a comparison
    run), ``out``, ``cache``, ``debias``, ``safety_policy``, ``quick``, ``seed``,
    ``skip_bad_items``,
    ``engine``, ``[engine_options]`` (Ray: address, shard_size, shard_dir, num_actors,
    num_gpus, num_cpus), ``allow_errors``, ``[suite.NAME]`` tables of per-suite options.
    An unknown key is a :class:`ConfigError` naming the closest known one.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from exc
    known = {
        "embedder",
        "embedders",
        "out",
        "cache",
        "debias",
        "safety_policy",
        "quick",
        "seed",
        "skip_bad_items",
        "suite",
        "engine",
        "engine_options",
        "allow_errors",
    }
    check_keys(str(path), data, known)
    if "allow_errors" in data and not isinstance(data["allow_errors"], bool):
        raise ConfigError(f"{path}: allow_errors must be true or false")
    if "engine_options" in data and not isinstance(data["engine_options"], dict):
        raise ConfigError(f"{path}: engine_options must be a table ([engine_options])")
    if "suite" in data and not isinstance(data["suite"], dict):
        raise ConfigError(f"{path}: [suite] must be a table of [suite.NAME] tables")
    if "embedder" in data and "embedders" in data:
        raise ConfigError(f"{path}: give 'embedder' (one spec) or 'embedders' (a list), not both")
    if "embedder" in data and (not isinstance(data["embedder"], str) or not data["embedder"]):
        raise ConfigError(f"{path}: 'embedder' must be a spec string, got {data['embedder']!r}")
    if "skip_bad_items" in data and not isinstance(data["skip_bad_items"], bool):
        raise ConfigError(f"{path}: skip_bad_items must be true or false")
    specs = data.get("embedders", ["local"])
    if (
        not isinstance(specs, list)
        or not specs
        or not all(isinstance(s, str) and s.strip() for s in specs)
    ):
        raise ConfigError(f"{path}: 'embedders' must be a non-empty list of spec strings")
    return data
