"""``audit fit-debias``: embed a labelled dataset, fit a debiasing projection, report it.

One-shot (default), streamed chunk by chunk (``--chunk-size``), or from the Parquet shards
the Ray engine wrote (``--from-shards``); the three give the same projection on the same
split (tests/audit/test_debias_streaming.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audit.cli._exit import ExitCode
from audit.debias.methods import PROJECTION_METHODS  # cheap: no scikit-learn

NAME = "fit-debias"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``audit fit-debias`` and its flags."""
    fit = sub.add_parser(
        NAME,
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
        choices=PROJECTION_METHODS,
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


def _fail(message: str) -> ExitCode:
    print(f"audit: error: {message}", file=sys.stderr)
    return ExitCode.USAGE


def run(args: argparse.Namespace) -> ExitCode:
    """Run ``audit fit-debias``; the exit code (0, or 2 for a usage or data error)."""
    from audit.config import ConfigError
    from audit.registry import RegistryError

    if args.out.suffix not in (".npz", ".safetensors"):
        return _fail("--out must end in .npz or .safetensors")
    try:
        sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else None
    except ValueError:
        return _fail(f"--sizes must be integers, got {args.sizes!r}")
    if args.chunk_size is not None and args.chunk_size < 1:
        return _fail(f"--chunk-size must be >= 1, got {args.chunk_size}")
    if args.chunk_size is not None and args.from_shards is not None:
        return _fail("--chunk-size and --from-shards exclude each other")
    if args.from_shards is not None and not args.from_shards.is_dir():
        return _fail(f"--from-shards: no such folder {args.from_shards}")
    from audit.datasets import load_dataset
    from audit.debias import fit
    from audit.debias.report import format_fit_report, save_projection
    from audit.pipeline import build_embedder

    try:
        items = list(load_dataset(args.dataset).corpus)
        embedder, _ = build_embedder(
            args.embedder, cache_path=None if args.no_cache else args.cache
        )
    except (ConfigError, RegistryError, FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))
    common = {
        "method": args.method,
        "n_components": args.n_components,
        "sizes": sizes,
        "probe_fraction": args.probe_fraction,
        "seed": args.seed,
        "dataset_name": args.dataset,
    }
    try:
        if args.from_shards is not None:
            from audit.engines import iter_shards

            fingerprint = str(embedder.fingerprint)
            debiaser, report = fit.fit_debias_from_shards(
                iter_shards(args.from_shards, fingerprint, purpose="index"),
                fit.group_labels(items, args.attribute),
                attribute=args.attribute,
                embedder_name=embedder.name,
                max_probe=args.max_probe,
                **common,
            )
        elif args.chunk_size is not None:
            debiaser, report = fit.fit_debias_streaming(
                embedder,
                items,
                attribute=args.attribute,
                chunk_size=args.chunk_size,
                max_probe=args.max_probe,
                **common,
            )
        else:
            debiaser, report = fit.fit_debias(embedder, items, attribute=args.attribute, **common)
    except ValueError as exc:
        return _fail(str(exc))
    path = save_projection(debiaser, report, args.out)
    print(format_fit_report(report))
    print(f"projection: {path}  (use: audit run --suite bias --debias {path})")
    return ExitCode.OK
