"""One corpus size of bench/scale.py: search time, recall and memory, in a fresh process.

Random unit vectors (seeded) for the corpus and the queries. Timed in this process:

- ``faiss-flat``: our engine (:class:`audit.retrieval.SearchIndex`), FAISS's exact
  IndexFlatIP kernel with over-fetch, then exact float64 re-scoring and the id
  tie-break; against the raw FAISS baseline ``IndexFlatIP.search`` on the same data,
  interleaved (ours, raw, ours, raw, ...), best wall time of each;
- ``faiss-ivf`` and ``faiss-hnsw`` (our engine: index candidates, exact re-rank):
  build time, search time at each nprobe / efSearch, recall@k against the exact
  top k (``recall_vs_exact`` against the faiss-flat result, itself checked against
  the raw baseline), index bytes.

Memory: the peak RSS of this process (VmHWM; a fresh process per size, so it is this
size's) and the bytes each index holds. Run by bench/scale.py, or alone::

    .venv/bin/python bench/_scale_search.py --size 100000 --json-out /tmp/s.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import faiss

from audit.retrieval import SearchIndex, recall_vs_exact


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """Random unit rows, generated in float32 chunks (no float64 copy of the corpus)."""
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 65536):
        block = rng.standard_normal((min(65536, n - start), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + block.shape[0]] = block
    return out


def clustered_rows(
    rng: np.random.Generator, n: int, dim: int, centers: np.ndarray, spread: float
) -> np.ndarray:
    """Unit rows around random unit centres (cosine to the centre about 1/sqrt(1+spread^2)).

    A stand-in for real embeddings, which gather by topic; random isotropic rows are
    the worst case of every approximate index (all distances concentrate).
    """
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 65536):
        m = min(65536, n - start)
        block = rng.standard_normal((m, dim), dtype=np.float32) * (spread / np.sqrt(dim))
        block += centers[rng.integers(0, centers.shape[0], size=m)]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + m] = block
    return out


def _status_mib(field: str) -> float:
    """A memory line of /proc/self/status (VmRSS: now, VmHWM: peak), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def _flat(corpus: np.ndarray, queries: np.ndarray, k: int, repeats: int) -> dict[str, Any]:
    """Our faiss-flat engine against raw IndexFlatIP, interleaved; exact agreement."""
    ours = SearchIndex(corpus, engine="faiss-flat")
    raw = faiss.IndexFlatIP(corpus.shape[1])
    add_s, _ = _timed(raw.add, corpus)
    # Warm-up of both (thread pools, first-touch page faults): not timed.
    ours.search(queries[:16], k)
    raw.search(queries[:16], k)
    t_ours, t_raw = [], []
    for _ in range(repeats):
        t, res = _timed(ours.search, queries, k)
        t_ours.append(t)
        t, (raw_scores, raw_idx) = _timed(raw.search, queries, k)
        t_raw.append(t)
    raw.reset()  # free its copy of the corpus before the next index is built
    # Random float data has no exact ties, so FAISS's own order is the exact order
    # unless two scores are within float32 rounding of each other.
    same_rows = float(np.mean((res.indices == raw_idx).all(axis=1)))
    same_sets = float(
        np.mean([len(set(a) & set(b)) / k for a, b in zip(res.indices, raw_idx, strict=True)])
    )
    return {
        "ours_s": min(t_ours),
        "raw_s": min(t_raw),
        "raw_add_s": add_s,
        "ratio_ours_over_raw": min(t_ours) / min(t_raw),
        "same_topk_rows_as_raw": same_rows,
        "same_topk_sets_as_raw": same_sets,
        "max_score_diff_vs_raw": float(np.abs(res.scores.astype(np.float64) - raw_scores).max()),
        "result": res,
    }


def _approx(
    engine: str,
    corpus: np.ndarray,
    queries: np.ndarray,
    k: int,
    exact: Any,
    knobs: list[int],
    build: dict[str, Any],
) -> dict[str, Any]:
    """Build once, then search at each knob value; recall@k against the exact result."""
    rss0 = _status_mib("VmRSS")
    index = SearchIndex(corpus, engine=engine, **build)
    rss1 = _status_mib("VmRSS")
    # Build-time parameters only (nprobe is the search knob, varied below).
    built = {kk: v for kk, v in index.params.items() if kk != "nprobe"}
    runs = []
    for knob in knobs:
        index.tune(**({"nprobe": knob} if engine == "faiss-ivf" else {"ef_search": knob}))
        t, res = _timed(index.search, queries, k, measure_recall=False)
        runs.append(
            {
                "knob": knob,
                "search_s": t,
                "recall": recall_vs_exact(res, exact),
                "params": {kk: v for kk, v in res.params.items() if kk != "chunk_size"},
            }
        )
    out = {
        "build_s": index.build_seconds,
        "index_bytes": index.index_bytes,
        "rss_growth_mib": rss1 - rss0,
        "build_params": built,
        "runs": runs,
    }
    return out


def measure(
    n: int,
    *,
    dim: int = 384,
    n_queries: int = 1000,
    k: int = 10,
    seed: int = 0,
    data: str = "random",
    repeats: int = 3,
    nprobes: tuple[int, ...] = (16, 64, 256),
    ef_searches: tuple[int, ...] = (64, 256),
    hnsw_m: int = 16,
    ef_construction: int = 40,
    hnsw_max: int | None = None,
) -> dict[str, Any]:
    """Every number of one corpus size (see the module docstring)."""
    rng = np.random.default_rng(seed)
    if data == "random":
        t_gen, corpus = _timed(unit_rows, rng, n, dim)
        queries = unit_rows(rng, n_queries, dim)
    else:
        centers = unit_rows(rng, 1000, dim)
        t_gen, corpus = _timed(clustered_rows, rng, n, dim, centers, 1.0)
        queries = clustered_rows(rng, n_queries, dim, centers, 1.0)
    rss_data = _status_mib("VmRSS")
    flat = _flat(corpus, queries, k, repeats)
    exact = flat.pop("result")
    nlist = max(1, round(float(np.sqrt(n))))
    ivf = _approx(
        "faiss-ivf",
        corpus,
        queries,
        k,
        exact,
        [p for p in nprobes if p <= nlist],
        # sqrt(n) lists, k-means on 64 points per list: minutes, not hours, on 2 cores.
        {"nlist": nlist, "train_size": min(n, 64 * nlist), "seed": seed},
    )
    hnsw = None
    if hnsw_max is None or n <= hnsw_max:
        hnsw = _approx(
            "faiss-hnsw",
            corpus,
            queries,
            k,
            exact,
            list(ef_searches),
            {"hnsw_m": hnsw_m, "ef_construction": ef_construction},
        )
    pairs = n * n_queries
    return {
        "n": n,
        "dim": dim,
        "n_queries": n_queries,
        "k": k,
        "seed": seed,
        "data": data,
        "repeats": repeats,
        "threads": faiss.omp_get_max_threads(),
        "load_average": list(os.getloadavg()),
        "data_gen_s": t_gen,
        "corpus_bytes": int(corpus.nbytes),
        "rss_after_data_mib": rss_data,
        "flat": flat,
        "flat_ns_per_item_query": 1e9 * flat["ours_s"] / pairs,
        "raw_ns_per_item_query": 1e9 * flat["raw_s"] / pairs,
        "ivf": ivf,
        "hnsw": hnsw,
        "peak_rss_mib": _status_mib("VmHWM"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", choices=["random", "clustered"], default="random")
    parser.add_argument("--nprobe", default="16,64,256")
    parser.add_argument("--ef-search", default="64,256")
    parser.add_argument("--hnsw-m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=40)
    parser.add_argument("--hnsw-max", type=int, default=None)
    parser.add_argument("--json-out", type=Path, required=True)
    args = parser.parse_args()
    out = measure(
        args.size,
        dim=args.dim,
        n_queries=args.queries,
        k=args.k,
        seed=args.seed,
        data=args.data,
        repeats=args.repeats,
        nprobes=tuple(int(x) for x in args.nprobe.split(",")),
        ef_searches=tuple(int(x) for x in args.ef_search.split(",")),
        hnsw_m=args.hnsw_m,
        ef_construction=args.ef_construction,
        hnsw_max=args.hnsw_max,
    )
    args.json_out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
