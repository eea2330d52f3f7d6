"""Fit time of FairPCA against sklearn's PCA(svd_solver="covariance_eigh"), same process.

Both fit the same 200,000 x 384 float32 matrix (random, anisotropic, with a planted
group-mean shift) to k=256 components; runs alternate between the two and the script
prints every wall and CPU time, the medians and the ratio FairPCA / PCA (target <= 1.5).

Before that, child processes fit FairPCA by streaming (stream-rows / 5, then stream-rows
rows): chunks are generated on the fly and fed to ``partial_fit(..., finalize=False)``, so
the full matrix never exists; each reports its peak RSS (resource.getrusage) after the
first chunk and at the end, to show memory stays O(d^2), not O(n d).

Run from the repository root::

    .venv/bin/python bench/fairpca_fit.py            # defaults: n=200000, d=384, k=256
    .venv/bin/python bench/fairpca_fit.py --repeats 5 --threads 1
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

try:
    from fairness.debias import FairPCA
except ImportError:  # run as a script from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from fairness.debias import FairPCA

from sklearn.decomposition import PCA


def make_chunk(
    rng: np.random.Generator, n: int, d: int, shift: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a decaying spectrum; group 1 (30%) is shifted by ``shift``."""
    spectrum = (1.0 / np.sqrt(np.arange(1, d + 1))).astype(np.float32)
    X = rng.standard_normal((n, d), dtype=np.float32)
    X *= spectrum
    groups = (rng.random(n) < 0.3).astype(np.int8)
    X[groups == 1] += shift
    return X, groups


def peak_rss_mib() -> float:
    """Peak resident set size so far, from getrusage (Linux reports KiB).

    ru_maxrss survives exec, so a child starts at its parent's peak at fork time.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_hwm_mib() -> float | None:
    """Linux's VmHWM (peak RSS of this address space; reset by exec), or None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def stream_child(rows: int, chunk: int, d: int, k: int) -> None:
    """Fit FairPCA on ``rows`` generated rows, ``chunk`` at a time; print JSON."""
    rng = np.random.default_rng(1)
    shift = (rng.standard_normal(d) * 0.05).astype(np.float32)
    est = FairPCA(k)
    X, g = make_chunk(rng, chunk, d, shift)  # warm-up chunk: allocations and BLAS buffers
    est.partial_fit(X, sensitive_features=g, finalize=False)
    before, hwm_before = peak_rss_mib(), vm_hwm_mib()
    t0 = time.perf_counter()
    done = chunk
    while done < rows:
        n = min(chunk, rows - done)
        X, g = make_chunk(rng, n, d, shift)
        est.partial_fit(X, sensitive_features=g, finalize=False)
        done += n
    est.finalize()
    seconds = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "rows": rows,
                "chunk": chunk,
                "seconds": seconds,
                "peak_rss_after_first_chunk_mib": before,
                "peak_rss_end_mib": peak_rss_mib(),
                "vm_hwm_after_first_chunk_mib": hwm_before,
                "vm_hwm_end_mib": vm_hwm_mib(),
                "n_samples_seen": est.n_samples_seen_,
            }
        )
    )


def run_stream_child(rows: int, args: argparse.Namespace) -> dict[str, float | None]:
    """Run :func:`stream_child` in a fresh interpreter and return its JSON report."""
    cmd = [
        sys.executable,
        __file__,
        "--stream-child",
        f"--stream-rows={rows}",
        f"--chunk={args.chunk}",
        f"--d={args.d}",
        f"--k={args.k}",
    ]
    child = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


def group_gap(Y: np.ndarray, g: np.ndarray) -> float:
    """Largest |difference| between the two groups' projected means (float64)."""
    return float(
        np.abs(Y[g == 1].mean(0, dtype=np.float64) - Y[g == 0].mean(0, dtype=np.float64)).max()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--d", type=int, default=384)
    parser.add_argument("--k", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stream-rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: all)")
    parser.add_argument("--stream-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_child:
        stream_child(args.stream_rows, args.chunk, args.d, args.k)
        return

    from threadpoolctl import threadpool_info, threadpool_limits

    blas = [(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()]
    print(f"n={args.n} d={args.d} k={args.k} float32; BLAS pools: {blas}")

    # Streaming first: ru_maxrss survives exec, so a child started after this process
    # allocated the 293 MiB matrix would inherit that peak. Two stream lengths: the peak
    # must not grow with the number of rows.
    for rows in (args.stream_rows // 5, args.stream_rows):
        info = run_stream_child(rows, args)
        full_mib = info["rows"] * args.d * 4 / 2**20
        grew = info["peak_rss_end_mib"] - info["peak_rss_after_first_chunk_mib"]
        print(
            f"streaming {info['rows']:>9d} rows in chunks of {info['chunk']}: "
            f"{info['seconds']:.1f}s; peak RSS {info['peak_rss_after_first_chunk_mib']:.0f} MiB "
            f"after the first chunk, {info['peak_rss_end_mib']:.0f} MiB at the end "
            f"(+{grew:.0f} MiB); the rows themselves would take {full_mib:.0f} MiB"
        )
        if info.get("vm_hwm_end_mib") is not None:
            print(
                f"    the child's own VmHWM: {info['vm_hwm_after_first_chunk_mib']:.0f} MiB "
                f"after the first chunk, {info['vm_hwm_end_mib']:.0f} MiB at the end"
            )

    rng = np.random.default_rng(0)
    shift = (rng.standard_normal(args.d) * 0.05).astype(np.float32)
    X, g = make_chunk(rng, args.n, args.d, shift)
    print(f"data: {X.nbytes / 2**20:.0f} MiB, group 1 share {g.mean():.3f}")

    # Wall time and process CPU time (all threads): on a shared machine the CPU time is
    # the steadier measure of the work done.
    names = ["sklearn PCA covariance_eigh", "FairPCA mean"]
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    fitted: dict[str, object] = {}
    with threadpool_limits(args.threads):
        for r in range(args.repeats):
            for name in names if r % 2 == 0 else names[::-1]:
                t0, c0 = time.perf_counter(), time.process_time()
                if name.startswith("sklearn"):
                    est = PCA(n_components=args.k, svd_solver="covariance_eigh").fit(X)
                else:
                    est = FairPCA(args.k).fit(X, sensitive_features=g)
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
                fitted[name] = est
    for label, table in (("wall", wall), ("cpu ", cpu)):
        for name, ts in table.items():
            runs = " ".join(f"{t:6.2f}" for t in ts)
            print(f"{label} {name:28s} {runs}  median {statistics.median(ts):.2f}s")
        med = statistics.median(table[names[1]]) / statistics.median(table[names[0]])
        best = min(table[names[1]]) / min(table[names[0]])
        print(f"{label} ratio FairPCA / PCA: median {med:.2f}x, best {best:.2f}x (target <= 1.5x)")

    t0 = time.perf_counter()
    cov_est = FairPCA(args.k, constraint="covariance").fit(X, sensitive_features=g)
    print(f"FairPCA covariance (for reference): {time.perf_counter() - t0:.2f}s")
    for name, est in [*fitted.items(), ("FairPCA covariance", cov_est)]:
        gap = group_gap(est.transform(X), g)  # on the fit data: the constraint's guarantee
        print(f"group-mean gap after {name:28s}: {gap:.2e} (float32 output)")


if __name__ == "__main__":
    main()
