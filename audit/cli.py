"""The `audit` command: thin subcommands over RunConfig and the runner.

Exit codes: 0 all gates pass (or no policy), 1 a gate failed, 2 usage or config error,
3 the run itself failed. Heavy modules (torch, models) are imported only inside commands,
so `audit --help` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from audit._version import __version__

EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE, EXIT_RUN_FAILED = 0, 1, 2, 3
SUITE_CHOICES_ALL = "all"

log = logging.getLogger("audit")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audit",
        description="Responsible-AI audits of multimodal embedding models: "
        "bias, red team, safety and retrieval suites, with reports and CI gates.",
    )
    parser.add_argument("--version", action="version", version=f"mme-audit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run suites and write runs/<run-id>/report.json")
    run.add_argument(
        "--suite",
        required=True,
        action="append",
        help="suite to run (repeatable), or 'all'; see `audit list suites`",
    )
    run.add_argument("--embedder", default=None, help="embedder spec (default: local)")
    run.add_argument("--config", type=Path, help="TOML run configuration")
    run.add_argument("--out", type=Path, default=None, help="runs directory (default: ./runs)")
    run.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="embedding cache file (default: <out>/.cache/embeddings.sqlite)",
    )
    run.add_argument("--no-cache", action="store_true", help="do not use the embedding cache")
    run.add_argument("--quick", action="store_true", help="smaller samples for fast feedback")
    run.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")

    lst = sub.add_parser("list", help="list registered suites or embedders")
    lst.add_argument("what", choices=["suites", "embedders"])
    return parser


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose == 0 and not quiet:
        level = logging.WARNING  # the summary is the default output
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _cmd_list(args: argparse.Namespace) -> int:
    if args.what == "suites":
        from audit.suites import SUITES

        for name in SUITES.names():
            print(f"{name:12s} {SUITES.get(name).description}")
    else:
        from audit.embedders import EMBEDDERS

        for name in EMBEDDERS.names():
            entry = EMBEDDERS.get(name)
            spec = f"{name}:<arg>" if entry.needs_arg else name
            print(f"{spec:16s} {entry.description}")
    return EXIT_OK


def _run_config(args: argparse.Namespace):
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
    return RunConfig(
        suites=suites,
        embedder=args.embedder or file.get("embedder", "local"),
        out=out,
        cache=cache,
        quick=bool(args.quick or file.get("quick", False)),
        seed=seed,
        progress=not args.no_progress,
        suite_options=dict(file.get("suite", {})),
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from audit.config import ConfigError
    from audit.registry import RegistryError

    try:
        config = _run_config(args)
        from audit.embedders import EMBEDDERS, parse_spec

        EMBEDDERS.get(parse_spec(config.embedder)[0])  # fail fast on a typo
    except (ConfigError, RegistryError) as exc:
        print(f"audit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from audit.runner import run_suites
    from audit.summary import summarize

    outcome = run_suites(config)
    print(summarize(outcome.report, path=str(outcome.path)))
    if outcome.failed:
        return EXIT_RUN_FAILED
    return EXIT_GATE_FAILED if outcome.report.status == "failed" else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `audit` console script; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    _setup_logging(args.verbose, args.quiet)
    handlers = {"run": _cmd_run, "list": _cmd_list}
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
