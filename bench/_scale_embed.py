"""Embedding throughput of one engine (in-process or Ray) on real sentences.

Used by bench/scale.py (``embed_throughput``); runnable alone to compare the two engines
in one process:

    python bench/_scale_embed.py [--n 2000] [--shard-size 256] [--spec local]

Both numbers are cold: a fresh backend per measurement (the in-process engine loads its
model inside the timed call; Ray actors load theirs inside the timed job), an empty shard
folder (nothing reused). Ray's own start-up (``ray.init``, once per process) is reported
apart as ``startup_s``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import real_sentences


def embed_throughput(
    n_items: int, *, engine: str, shard_size: int, spec: str = "local"
) -> dict[str, Any]:
    """Embed ``n_items`` real sentences once with ``engine``; return timings.

    Parameters
    ----------
    n_items : int
        Number of distinct text items (Debian license/copyright sentences).
    engine : {"inprocess", "ray"}
        Where embedding runs.
    shard_size : int
        Items per Parquet shard (Ray only; recorded either way).
    spec : str
        Embedder spec.

    Returns
    -------
    dict
        ``engine``, ``spec``, ``n_items``, ``shard_size``, ``wall_s`` (the embed call),
        ``items_per_s``, ``startup_s`` (ray.init when this call started Ray, else 0),
        ``shards``, ``actors`` (Ray only: computed shards and actor-pool size).
    """
    from audit.embedders import BaseEmbedder, create_embedder
    from audit.engines import wrap_engine
    from audit.items import text_item

    items = [text_item(f"s{i}", s) for i, s in enumerate(real_sentences(n_items))]
    base = create_embedder(spec)
    if isinstance(base, BaseEmbedder):
        base.progress = False
    startup = 0.0
    with tempfile.TemporaryDirectory(prefix="scale-embed-") as shard_dir:
        if engine == "ray":
            import ray

            if not ray.is_initialized():
                t0 = time.perf_counter()
                ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
                startup = time.perf_counter() - t0
            emb = wrap_engine(
                base,
                spec,
                engine="ray",
                options={"shard_size": shard_size, "shard_dir": shard_dir},
            )
        else:
            emb = wrap_engine(base, spec, engine=engine, options={})
        t0 = time.perf_counter()
        vectors = emb.embed(items)
        wall = time.perf_counter() - t0
        info = emb.describe().get("engine", {}) if engine == "ray" else {}
    if vectors.shape != (n_items, base.dim):
        raise RuntimeError(f"got {vectors.shape}, expected ({n_items}, {base.dim})")
    return {
        "engine": engine,
        "spec": spec,
        "n_items": n_items,
        "shard_size": shard_size,
        "wall_s": round(wall, 3),
        "items_per_s": round(n_items / wall, 1),
        "startup_s": round(startup, 3),
        "shards": int(info.get("shards_computed", 0)),
        "actors": int(info.get("actors", 0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--shard-size", type=int, default=256)
    parser.add_argument("--spec", default="local")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved; best kept")
    args = parser.parse_args()
    best: dict[str, dict[str, Any]] = {}
    startup = 0.0
    for _ in range(args.repeats):  # interleaved, so machine-load drift hits both alike
        for engine in ("inprocess", "ray"):
            r = embed_throughput(args.n, engine=engine, shard_size=args.shard_size, spec=args.spec)
            startup = max(startup, r["startup_s"])
            if engine not in best or r["wall_s"] < best[engine]["wall_s"]:
                best[engine] = r
    for r in best.values():
        print(
            f"{r['engine']:9s} n={r['n_items']} shard={r['shard_size']} wall={r['wall_s']:.2f}s "
            f"{r['items_per_s']:.1f} items/s shards={r['shards']} actors={r['actors']}"
        )
    ratio = best["ray"]["items_per_s"] / best["inprocess"]["items_per_s"]
    print(f"ray.init (once, not in wall): {startup:.1f}s")
    print(f"ray / inprocess throughput (baseline: inprocess, same process): {ratio:.2f}")


if __name__ == "__main__":
    main()
