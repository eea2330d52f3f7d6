"""The embedding engines ``audit run --engine`` accepts: one registry, read by the config
check, the CLI's ``--engine`` choices, :func:`~audit.engines.wrap_engine` and ``audit list``.

Standard library only (through :mod:`audit.registry`), so the CLI can build its parser from
it without importing numpy, the embedders or Ray.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.registry import Registry


@dataclass(frozen=True)
class EngineEntry:
    """One registered embedding engine.

    Attributes
    ----------
    name : str
        Registry name (the ``--engine`` value and ``engine`` in a run's TOML file).
    description : str
        One line for ``--help`` and ``audit list``.
    takes_options : bool
        Whether ``[engine_options]`` apply (else giving any is a config error).
    wrap : str, optional
        ``"module:function"`` putting the engine around a backend:
        ``function(base, spec, options) -> Embedder``, imported when used. None: the
        backend runs as it is, in this process.
    """

    name: str
    description: str
    takes_options: bool = False
    wrap: str | None = None


#: Registered engines; ``inprocess`` is the default.
ENGINES: Registry[EngineEntry] = Registry("engine")
ENGINES.add(EngineEntry("inprocess", "embeds in this process (the default)"))
ENGINES.add(
    EngineEntry(
        "ray",
        "embeds on a Ray Data actor pool (GPU-aware), Parquet shards, resumable",
        takes_options=True,
        wrap="audit.engines._options:wrap_ray",
    )
)
DEFAULT_ENGINE = "inprocess"
