"""``audit fit-debias``: embed a labelled dataset, fit a debiasing projection, report it.

One-shot (default), streamed chunk by chunk (``--chunk-size``), or from the Parquet shards
the Ray engine wrote (``--from-shards``); the three give the same projection on the same
split (tests/audit/test_debias_streaming.py).
"""

from __future__ import annotations

import argparse
import sys

from audit.cli import EXIT_OK, EXIT_USAGE


def _fail(message: str) -> int:
    print(f"audit: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_fit_debias(args: argparse.Namespace) -> int:
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
    from audit import debias_fit as fit
    from audit.pipeline import build_embedder

    try:
        if args.dataset == "builtin:gendered-sentences":
            items = fit.gendered_sentences()
        else:
            from audit.datasets import load_dataset

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

            fingerprint = str(getattr(embedder, "fingerprint", embedder.name))
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
    path = fit.save_projection(debiaser, report, args.out)
    print(fit.format_fit_report(report))
    print(f"projection: {path}  (use: audit run --suite bias --debias {path})")
    return EXIT_OK
