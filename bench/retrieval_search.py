"""Benchmark: exact top-k of audit.retrieval.search against FAISS IndexFlatIP.

Both run on the same random L2-normalised float32 arrays in the same process,
interleaved (ours, FAISS, ours, FAISS, ...) so that load from other processes hits
both alike. Prints the best and median wall time of each, the speed ratio
(FAISS time / our time: >= 1 means ours is at least as fast; target >= 0.8), the CPU
time of each (less sensitive to a shared machine), the peak RSS of the process after
our first run (data included, FAISS not yet run) and the tracemalloc peak of our
own allocations. Target: ratio >= 0.8 and peak RSS < 2 GB. FAISS is timed on
``index.search`` only (the IndexFlatIP is built beforehand); ours on the whole
``search`` call, input validation included.

    .venv/bin/python bench/retrieval_search.py                       # 10k x 200k x 384
    .venv/bin/python bench/retrieval_search.py --n-queries 1000 --n-corpus 20000
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import faiss

from audit.retrieval import search


def _normalised(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """Random unit rows, generated in float32 chunks (no float64 copy of the corpus)."""
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 65536):
        block = rng.standard_normal((min(65536, n - start), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + block.shape[0]] = block
    return out


def _rss_mb() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed(fn: Callable[[], tuple[np.ndarray, np.ndarray]]) -> tuple[float, float, tuple]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-queries", type=int, default=10_000)
    parser.add_argument("--n-corpus", type=int, default=200_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each")
    parser.add_argument("--engine", default="exact", help="our engine (exact or faiss-flat)")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    queries = _normalised(rng, args.n_queries, args.dim)
    corpus = _normalised(rng, args.n_corpus, args.dim)
    print(
        f"queries {queries.shape}, corpus {corpus.shape}, k={args.k}, engine={args.engine}, "
        f"cpus={os.cpu_count()}, faiss {faiss.__version__}, numpy {np.__version__}"
    )
    print(f"load average at start: {os.getloadavg()}")
    rss_data = _rss_mb()

    def ours() -> tuple[np.ndarray, np.ndarray]:
        res = search(queries, corpus, args.k, engine=args.engine, chunk_size=args.chunk_size)
        return res.indices, res.scores

    index = faiss.IndexFlatIP(args.dim)

    def theirs() -> tuple[np.ndarray, np.ndarray]:
        # Only the search is timed; the index (a copy of the corpus) is built once.
        scores, indices = index.search(queries, args.k)
        return indices, scores

    # Memory run (ours first, so the process peak is ours plus the data).
    tracemalloc.start()
    wall, _, _ = _timed(ours)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_ours = _rss_mb()
    print(f"memory run (untimed, tracemalloc on): {wall:.2f} s")
    index.add(corpus)

    ours_wall, ours_cpu, faiss_wall, faiss_cpu = [], [], [], []
    for _ in range(args.repeats):
        w, c, (idx, sc) = _timed(ours)
        ours_wall.append(w)
        ours_cpu.append(c)
        w, c, (f_idx, f_sc) = _timed(theirs)
        faiss_wall.append(w)
        faiss_cpu.append(c)

    same = float((idx == f_idx).mean())
    diff = float(np.abs(sc.astype(np.float64) - f_sc).max())
    best_ours, best_faiss = min(ours_wall), min(faiss_wall)
    med_ours, med_faiss = statistics.median(ours_wall), statistics.median(faiss_wall)
    print(f"ours  wall best {best_ours:.2f} s, median {med_ours:.2f} s, cpu {min(ours_cpu):.2f} s")
    print(
        f"faiss wall best {best_faiss:.2f} s, median {med_faiss:.2f} s, cpu {min(faiss_cpu):.2f} s"
    )
    print(
        f"speed ratio ours/FAISS (FAISS time / our time): best {best_faiss / best_ours:.2f}x, "
        f"median {med_faiss / med_ours:.2f}x, cpu {min(faiss_cpu) / min(ours_cpu):.2f}x "
        f"(target >= 0.8x)"
    )
    print(
        f"peak RSS after our run: {rss_ours:.0f} MiB (data alone {rss_data:.0f} MiB); "
        f"tracemalloc peak of our allocations: {traced_peak / 2**20:.0f} MiB (target < 2 GB)"
    )
    print(f"same indices as FAISS: {same:.6f}; max |score diff|: {diff:.2e}")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
