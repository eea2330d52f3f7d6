"""Scale benchmark: embedding throughput, then search time, recall and memory by corpus size.

Embedding (unless ``--skip-embed``): ``embed_throughput`` of bench/_scale_embed.py on
``--embed-items`` real sentences, in-process and with the Ray engine on this machine;
prints items/s of each and the ratio Ray / in-process.

Search, one fresh process per size (bench/_scale_search.py, so each peak RSS is that
size's): random unit ``--dim``-d corpus and queries (seeded); our "faiss-flat" engine
(exact: FAISS IndexFlatIP candidates, exact re-scoring, id tie-break) against the raw
FAISS ``IndexFlatIP.search`` baseline in the same process (ratio ours / raw, best of
``--repeats`` interleaved runs); IVF and HNSW (our engine over FAISS indexes) with
build time, search time and recall@k against the exact top k at several nprobe /
efSearch values; index bytes and peak RSS. Time per (corpus item x query) shows the
growth curve: flat for exact search (linear in n).

    .venv/bin/python bench/scale.py --sizes 10000,100000,1000000 --json runs/scale.json
    .venv/bin/python bench/scale.py --sizes 10000 --skip-embed          # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(float(x)) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes must be comma-separated ints: {text!r}"
        ) from None
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError("--sizes needs corpus sizes >= 100")
    return sizes


def embed_part(args: argparse.Namespace) -> dict[str, Any]:
    """Throughput in-process and with Ray, from bench/_scale_embed.py (another module)."""
    sys.path.insert(0, str(HERE))
    try:
        from _scale_embed import embed_throughput
    except ImportError as exc:
        msg = (
            f"embedding part skipped: bench/_scale_embed.py is not importable ({exc}); "
            "rerun with --skip-embed to silence this"
        )
        print(msg)
        return {"skipped": msg}
    out: dict[str, Any] = {"n_items": args.embed_items, "spec": args.embed_spec}
    for engine in ("inprocess", "ray"):
        try:
            res = embed_throughput(
                args.embed_items, engine=engine, shard_size=args.shard_size, spec=args.embed_spec
            )
        except Exception as exc:  # a failed engine must not lose the search part
            res = {"error": f"{type(exc).__name__}: {exc}"}
        out[engine] = res
        if "items_per_s" in res:
            print(
                f"embed {engine:9s}: {res['items_per_s']:8.1f} items/s "
                f"({args.embed_items} items in {res['wall_s']:.1f} s)"
            )
        else:
            print(f"embed {engine:9s}: failed: {res.get('error')}")
    if "items_per_s" in out["inprocess"] and "items_per_s" in out.get("ray", {}):
        out["ratio_ray_over_inprocess"] = (
            out["ray"]["items_per_s"] / out["inprocess"]["items_per_s"]
        )
        print(f"throughput ratio Ray / in-process: {out['ratio_ray_over_inprocess']:.2f}x")
    return out


def search_part(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run one size in a child process and read its JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "size.json"
        cmd = [
            sys.executable,
            str(HERE / "_scale_search.py"),
            f"--size={n}",
            f"--dim={args.dim}",
            f"--queries={args.queries}",
            f"--k={args.k}",
            f"--seed={args.seed}",
            f"--data={args.data}",
            f"--repeats={args.repeats}",
            f"--nprobe={args.nprobe}",
            f"--ef-search={args.ef_search}",
            f"--hnsw-m={args.hnsw_m}",
            f"--ef-construction={args.ef_construction}",
            f"--json-out={out}",
        ]
        if args.hnsw_max is not None:
            cmd.append(f"--hnsw-max={args.hnsw_max}")
        subprocess.run(cmd, check=True)
        return json.loads(out.read_text(encoding="utf-8"))


def _mib(b: float) -> str:
    return f"{b / 2**20:.0f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def report(results: list[dict[str, Any]]) -> str:
    """The three tables: exact search, approximate search, growth."""
    exact_rows, approx_rows, growth_rows = [], [], []
    base = results[0]
    for r in results:
        f = r["flat"]
        exact_rows.append(
            [
                f"{r['n']:,}",
                f"{f['ours_s']:.3f}",
                f"{f['raw_s']:.3f}",
                f"{f['ratio_ours_over_raw']:.2f}",
                f"{r['flat_ns_per_item_query']:.2f}",
                f"{r['raw_ns_per_item_query']:.2f}",
                f"{f['same_topk_sets_as_raw']:.4f}",
                _mib(r["corpus_bytes"]),
                f"{r['peak_rss_mib']:.0f}",
            ]
        )
        for name in ("ivf", "hnsw"):
            a = r.get(name)
            if not a:
                continue
            knob = "nprobe" if name == "ivf" else "efSearch"
            build = ", ".join(f"{k}={v}" for k, v in a["build_params"].items())
            for run in a["runs"]:
                approx_rows.append(
                    [
                        f"{r['n']:,}",
                        name,
                        build,
                        f"{knob}={run['knob']}",
                        f"{a['build_s']:.1f}",
                        f"{run['search_s']:.3f}",
                        f"{run['recall']:.3f}",
                        _mib(a["index_bytes"]),
                    ]
                )
        growth_rows.append(
            [
                f"{r['n']:,}",
                f"{r['n'] / base['n']:.0f}x",
                f"{f['ours_s'] / base['flat']['ours_s']:.1f}x",
                f"{r['flat_ns_per_item_query'] / base['flat_ns_per_item_query']:.2f}",
                f"{r['raw_ns_per_item_query'] / base['raw_ns_per_item_query']:.2f}",
            ]
        )
    q, k = base["n_queries"], base["k"]
    return "\n\n".join(
        [
            f"Exact top-{k} of {q} queries (faiss-flat = ours; raw = FAISS IndexFlatIP.search; "
            f"best of {base['repeats']})\n"
            + _table(
                [
                    "corpus",
                    "ours s",
                    "raw s",
                    "ours/raw",
                    "ns/item/q ours",
                    "raw",
                    f"top-{k} = raw",
                    "corpus MiB",
                    "peak RSS MiB",
                ],
                exact_rows,
            ),
            f"Approximate engines (our re-rank over FAISS candidates), recall@{k} vs exact\n"
            + _table(
                [
                    "corpus",
                    "engine",
                    "build",
                    "search knob",
                    "build s",
                    "search s",
                    f"recall@{k}",
                    "index MiB",
                ],
                approx_rows,
            ),
            "Growth (exact search; time per item per query relative to the smallest size: "
            "flat = linear scaling)\n"
            + _table(
                ["corpus", "size x", "time x", "ns/item/q x (ours)", "ns/item/q x (raw)"],
                growth_rows,
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=_sizes("10000,100000,1000000"))
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", choices=["random", "clustered"], default="random")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved flat runs (best)")
    parser.add_argument("--nprobe", default="16,64,256", help="IVF lists probed (<= nlist)")
    parser.add_argument("--ef-search", default="64,256", help="HNSW efSearch values")
    parser.add_argument("--hnsw-m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=40)
    parser.add_argument("--hnsw-max", type=int, default=None, help="skip HNSW above this size")
    parser.add_argument("--embed-items", type=int, default=2000)
    parser.add_argument("--embed-spec", default="local")
    parser.add_argument("--shard-size", type=int, default=256)
    parser.add_argument("--skip-embed", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write every number here")
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, {platform.python_version()}; "
        f"load average {os.getloadavg()}"
    )
    out: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    out["embed"] = {"skipped": "--skip-embed"} if args.skip_embed else embed_part(args)
    results = []
    for n in args.sizes:
        print(f"searching {n:,} x {args.dim} ({args.data}) ...", flush=True)
        results.append(search_part(n, args))
    out["search"] = results
    print()
    print(report(results))
    print(f"\nload average at end: {os.getloadavg()}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
