"""The `audit` command: thin subcommands over RunConfig and the runner.

Exit codes: 0 all gates pass (or no policy), 1 a gate failed, 2 usage or config error,
3 the run failed (it stopped, or a requested check errored: status "incomplete" unless
--allow-errors). Heavy modules (torch, models) are imported only inside commands,
so `audit --help` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from audit._version import __version__

if TYPE_CHECKING:  # annotations only: importing these at run time would slow `--help`
    from audit.gates import Policy
    from audit.report import Report

    # policy, baseline, baseline path, --allow-errors
    Gating = tuple[Policy | None, Report | None, str | None, bool]

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
    run.add_argument(
        "--embedder",
        action="append",
        default=None,
        metavar="SPEC",
        help="embedder spec (default: local); repeat it to compare embedders in one "
        "comparison run (out/<comparison-id>/: one report per embedder, comparison.json/.md)",
    )
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
    run.add_argument(
        "--skip-bad-items",
        action="store_true",
        help="leave out dataset items that fail the checks made before embedding (bad "
        "text, empty or corrupt files, bombs) and record each in the report, instead of "
        "stopping with one error naming them all (exit 2)",
    )
    run.add_argument(
        "--debias",
        type=Path,
        default=None,
        metavar="FILE",
        help="debiasing projection (from `audit fit-debias`); suites then report the raw "
        "and the debiased embedder side by side",
    )
    run.add_argument(
        "--safety-policy",
        default=None,
        metavar="FILE",
        help="content-safety policy TOML, or a packaged one: 'default' (abuse flagged) or "
        "'strict' (abuse blocked); blocked items "
        "are never embedded",
    )
    run.add_argument(
        "--engine",
        choices=["inprocess", "ray"],
        default=None,
        help="where embedding runs: this process (default) or Ray (actor pool, Parquet "
        "shards, resumable); see docs/scale.md",
    )
    run.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="Ray cluster to join (e.g. ray://head:10001 or auto); default: a local Ray",
    )
    run.add_argument(
        "--shard-size",
        type=int,
        default=None,
        metavar="N",
        help="items per Parquet shard with --engine ray (default 1024)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="plan instead of run: count the requests, text characters, images and media "
        "seconds each embedder would be sent (cache hits excluded), send nothing, write "
        "out/<plan-id>/plan.json (no report); see docs/compare.md",
    )
    run.add_argument(
        "--prices",
        type=Path,
        default=None,
        metavar="FILE",
        help="with --dry-run: prices TOML to cost the plan (you fill it in; see "
        "docs/examples/prices.example.toml)",
    )
    _add_gate_arguments(run, policy_required=False)

    fit = sub.add_parser(
        "fit-debias",
        help="fit a debiasing projection (FairPCA, PCA, LEACE) and print its fit report",
        description="Embed a dataset with group attributes, fit a debiasing projection on "
        "one half and measure it on the other: group-mean gap, linear-probe accuracy "
        "(before, after, majority rate) and variance kept, per target size.",
    )
    fit.add_argument("--embedder", default="local", help="embedder spec (default: local)")
    fit.add_argument(
        "--dataset",
        default="builtin:gendered-sentences",
        help="builtin:gendered-sentences (default), builtin:emoji-professions, or any "
        "dataset spec; its corpus items must carry the attribute",
    )
    fit.add_argument("--attribute", default="gender", help="group attribute (default gender)")
    fit.add_argument(
        "--method",
        default="fairpca",
        choices=["fairpca", "fairpca-cov", "pca", "leace"],
        help="debiaser (default fairpca: mean matching)",
    )
    fit.add_argument("--n-components", type=int, default=None, help="output size (default max)")
    fit.add_argument(
        "--sizes", default=None, help="comma-separated target sizes for the report (e.g. 256,128)"
    )
    fit.add_argument("--probe-fraction", type=float, default=0.5, help="held-out share")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--out", type=Path, required=True, help="projection file (.npz/.safetensors)")
    fit.add_argument("--cache", type=Path, default=Path("runs/.cache/embeddings.sqlite"))
    fit.add_argument("--no-cache", action="store_true")
    fit.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        metavar="N",
        help="stream: embed and accumulate N items at a time (memory: one chunk plus d x d "
        "statistics); same result as the one-shot fit",
    )
    fit.add_argument(
        "--from-shards",
        type=Path,
        default=None,
        metavar="DIR",
        help="fit on vectors the Ray engine already wrote (Parquet shards of this embedder, "
        "purpose index), joined to the dataset's labels by item id; embeds nothing",
    )
    fit.add_argument(
        "--max-probe",
        type=int,
        default=50_000,
        metavar="M",
        help="streaming fits: most held-out items kept for the linear probe (default 50000)",
    )

    gate = sub.add_parser(
        "gate",
        help="judge a finished run by a policy (rewrites its report's gates and status)",
        description="Judge a finished run by a gate policy, optionally against a baseline "
        "run, and rewrite the gates and status of its report.json. Exit codes: 0 all gates "
        "pass, 1 a gate failed, 2 usage or policy error, 3 the run had failed or has errored "
        "checks (see --allow-errors).",
    )
    gate.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run folder or report.json")
    _add_gate_arguments(gate, policy_required=True)

    from dashboard.launch import add_dashboard_parser  # cheap: no streamlit import

    add_dashboard_parser(sub)

    lst = sub.add_parser("list", help="list registered suites, embedders or bias probes")
    lst.add_argument("what", choices=["suites", "embedders", "probes"])
    return parser


def _add_gate_arguments(p: argparse.ArgumentParser, *, policy_required: bool) -> None:
    p.add_argument(
        "--policy",
        type=Path,
        required=policy_required,
        metavar="FILE",
        help="gate policy (TOML), validated before anything runs; see policies/default.toml",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="baseline run (folder or report.json) for the policy's regression gates",
    )
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML, one test per gate")
    p.add_argument(
        "--summary", type=Path, metavar="FILE", help="write a Markdown summary (CI job summary)"
    )
    p.add_argument(
        "--allow-errors",
        action="store_true",
        help="accept a run in which some checks errored: judge it by its gates (exit 0/1) "
        "instead of status 'incomplete' and exit 3; errored checks are still reported",
    )


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose == 0 and not quiet:
        level = logging.WARNING  # the summary is the default output
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _run_config(args: argparse.Namespace):
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
    engine = str(args.engine or file.get("engine", "inprocess"))
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

    if engine not in ("inprocess", "ray"):
        raise ConfigError(f"engine must be 'inprocess' or 'ray', got {engine!r}")
    if args.ray_address is not None:
        opts["address"] = args.ray_address
    if args.shard_size is not None:
        if args.shard_size < 1:
            raise ConfigError(f"--shard-size must be >= 1, got {args.shard_size}")
        opts["shard_size"] = args.shard_size
    if opts and engine != "ray":
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


def _cmd_fit_debias(args: argparse.Namespace) -> int:
    from audit._cli_fit import cmd_fit_debias

    return cmd_fit_debias(args)


def _load_gating(args: argparse.Namespace) -> Gating:
    """The policy and baseline named on the command line, validated (ConfigError if not)."""
    from audit.config import ConfigError
    from audit.gates import load_policy, load_run

    if args.policy is None:
        if args.baseline is not None or args.junit is not None:
            raise ConfigError("--baseline and --junit need --policy")
        return None, None, None, bool(args.allow_errors)
    policy = load_policy(args.policy)
    baseline, baseline_path = None, None
    if args.baseline is not None:
        baseline, file = load_run(args.baseline, what="baseline")
        baseline_path = str(file)
        if baseline.status == "error":
            raise ConfigError(f"baseline run {baseline.run_id} failed; its results are incomplete")
        if baseline.status == "incomplete":
            raise ConfigError(
                f"baseline run {baseline.run_id} is incomplete: "
                f"{_errored_checks(baseline)}; to use it anyway, re-gate it first with "
                "`audit gate RUN_DIR --allow-errors --policy FILE`"
            )
    needs = policy.needs_baseline()
    if needs and baseline is None:
        raise ConfigError(
            f"gate(s) {', '.join(map(repr, needs))} compare with a baseline run; "
            "pass --baseline RUN_DIR"
        )
    if baseline is not None and not needs:
        log.warning("--baseline given, but the policy has no regression gate to use it")
    return policy, baseline, baseline_path, bool(args.allow_errors)


def _errored_checks(report: Report) -> str:
    """``N errored check(s): suite/check, ...`` for messages."""
    names = [f"{e.suite}/{e.check}" for e in report.check_errors]
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return f"{len(names)} errored check(s): {', '.join(names[:5])}{more}"


def _write_outputs(
    args: argparse.Namespace, report: Report, path: Path, error: tuple[str, str] | None
) -> None:
    """JUnit (gates, or one errored test saying why none were judged) and the summary."""
    from audit.gates import write_junit, write_junit_error, write_summary

    if args.junit is not None:
        if error is None:
            write_junit(report, args.junit)
        else:
            write_junit_error(args.junit, name=error[0], message=error[1], report=report)
    if args.summary is not None:
        write_summary(report, args.summary, report_path=str(path))


def _gate_report(
    report: Report, path: Path, gating: Gating
) -> tuple[Report, int, tuple[str, str] | None]:
    """Judge a finished run by the policy and save it: (report, exit code, error).

    ``error`` is (JUnit test name, message) when nothing was judged. A run with errored
    checks is ``incomplete`` (exit 3, gates still judged; JUnit lists the errored checks)
    unless errors are allowed by ``--allow-errors`` or by the run's own ``allow_errors``.
    """
    from audit.config import ConfigError
    from audit.gates import apply_policy

    policy, baseline, baseline_path, allow = gating
    allow = allow or bool(report.config.get("allow_errors", False))
    if report.status == "error":
        return (
            report,
            EXIT_RUN_FAILED,
            ("run", f"run {report.run_id} failed:\n" + "\n".join(report.errors)),
        )
    if policy is not None:
        try:
            report = apply_policy(
                report, policy, baseline=baseline, baseline_path=baseline_path, allow_errors=allow
            )
            report.save(path)
        except ConfigError as exc:
            return report, EXIT_USAGE, ("policy", f"policy error: {exc}")
    if report.status == "incomplete":
        return report, EXIT_RUN_FAILED, None
    return report, EXIT_GATE_FAILED if report.status == "failed" else EXIT_OK, None


def _judge(args: argparse.Namespace, report: Report, path: Path, gating: Gating) -> int:
    """Gate a finished run, rewrite its report, write CI files, print; the exit code."""
    from audit.summary import summarize

    report, code, error = _gate_report(report, path, gating)
    print(summarize(report, path=str(path)))
    try:
        _write_outputs(args, report, path, error)
    except OSError as exc:
        print(f"audit: error: cannot write an output file: {exc}", file=sys.stderr)
        return code if code != EXIT_OK else EXIT_USAGE
    if code == EXIT_USAGE and error is not None:
        hint = f"fix the policy, then re-gate without re-running: audit gate {path.parent}"
        print(f"audit: error: {error[1]}\naudit: {hint} --policy FILE", file=sys.stderr)
    elif code == EXIT_RUN_FAILED and report.status == "incomplete":
        print(
            f"audit: error: run {report.run_id} is incomplete: {_errored_checks(report)} "
            "(an errored check is not a pass; --allow-errors accepts partial runs)",
            file=sys.stderr,
        )
    elif code == EXIT_RUN_FAILED:
        print(f"audit: error: run {report.run_id} failed; no gate was judged", file=sys.stderr)
    return code


def _cmd_run(args: argparse.Namespace) -> int:
    from audit.config import ConfigError
    from audit.registry import RegistryError

    try:
        config, specs = _run_config(args)
        prices = _dry_run_options(args)
        gating = _load_gating(args)  # a bad policy or baseline fails before any suite runs
    except (ConfigError, RegistryError) as exc:
        print(f"audit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from audit.preflight import RunItemsError
    from audit.runner import preflight_datasets, run_suites

    try:  # every item the run will embed, checked before anything runs
        datasets = preflight_datasets(config)
    except RunItemsError as exc:  # bad input data: a usage error, like a bad config
        print(f"audit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if config.dry_run:
        return _plan(config, specs, prices)
    if len(specs) > 1:
        return _compare(args, config, specs, gating)
    outcome = run_suites(config, datasets=datasets)
    return _judge(args, outcome.report, outcome.path, gating)


def _compare(args: argparse.Namespace, config, specs: list[str], gating: Gating) -> int:
    """A comparison run: each embedder's run gated on its own; the exit code is the worst."""
    from audit.compare import run_comparison, write_comparison_ci
    from audit.summary import summarize_comparison

    judged: dict[Path, tuple[int, tuple[str, str] | None]] = {}

    def gate(report: Report, path: Path) -> Report:
        report, code, error = _gate_report(report, path, gating)
        judged[path] = (code, error)
        return report

    outcome = run_comparison(config, specs, gate=gate)
    print(summarize_comparison(outcome.comparison, path=str(outcome.path)))
    codes = [
        judged.get(r.path, (EXIT_RUN_FAILED, None)) if r.path else (EXIT_RUN_FAILED, None)
        for r in outcome.runs
    ]
    for ref, (code, error) in zip(outcome.runs, codes, strict=True):
        if code == EXIT_RUN_FAILED and ref.report and ref.report.status == "incomplete":
            why = _errored_checks(ref.report)
            print(f"audit: error: {ref.spec}: run incomplete, {why}", file=sys.stderr)
        elif code == EXIT_RUN_FAILED:
            why = ref.report.errors[0] if ref.report and ref.report.errors else ref.error
            print(f"audit: error: {ref.spec} failed: {why or 'no report'}", file=sys.stderr)
        elif code == EXIT_USAGE and error is not None:
            print(f"audit: error: {ref.spec}: {error[1]}", file=sys.stderr)
    try:
        errors = {path: error for path, (_, error) in judged.items()}
        write_comparison_ci(outcome, junit=args.junit, summary=args.summary, errors=errors)
    except OSError as exc:
        print(f"audit: error: cannot write an output file: {exc}", file=sys.stderr)
        return max(max(c for c, _ in codes), EXIT_USAGE)
    return max(c for c, _ in codes)


def _dry_run_options(args: argparse.Namespace):
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


def _plan(config, specs: list[str], prices) -> int:
    """Dry run: print the plan table; exit 0, or 3 when planning failed for an embedder."""
    from audit.runner import plan_suites
    from audit.summary import summarize_plan

    outcome = plan_suites(config, specs, prices=prices)
    print(summarize_plan(outcome.plan, path=str(outcome.path)))
    if outcome.failed:
        bad = [e.spec for e in outcome.plan.embedders if e.status == "error"]
        print(f"audit: error: planning failed for {', '.join(bad)}", file=sys.stderr)
        return EXIT_RUN_FAILED
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    from audit._cli_list import cmd_list

    return cmd_list(args.what)


def _cmd_gate(args: argparse.Namespace) -> int:
    from audit.config import ConfigError
    from audit.gates import load_run

    try:
        report, path = load_run(args.run_dir)
        gating = _load_gating(args)
    except ConfigError as exc:
        print(f"audit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _judge(args, report, path, gating)


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboard.launch import run_dashboard

    return run_dashboard(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `audit` console script; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    _setup_logging(args.verbose, args.quiet)
    handlers = {
        "run": _cmd_run,
        "gate": _cmd_gate,
        "list": _cmd_list,
        "fit-debias": _cmd_fit_debias,
        "dashboard": _cmd_dashboard,
    }
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
