"""What a report needs for someone to reproduce it: the ``reproducibility`` block.

Vectors are a function of the items, the embedder's fingerprint (weights and every
output-changing parameter, pinned thread counts included) and the numeric libraries and
CPU they ran on; results add the suites' settings and the seed. This block records all of
them as they were in the auditing process, so a re-run can be checked against it. See
docs/scale.md ("Identical results") for which numbers are bitwise reproducible.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any

#: Distributions whose versions can change a number (kernels, decoders, search, stats).
NUMERIC_PACKAGES = (
    "numpy",
    "scipy",
    "torch",
    "sentence-transformers",
    "transformers",
    "tokenizers",
    "faster-whisper",
    "ctranslate2",
    "onnxruntime",
    "av",
    "pypdfium2",
    "pillow",
    "faiss-cpu",
    "scikit-learn",
    "ray",
)
#: Environment variables that set thread counts of the runtimes above.
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "CT2_FORCE_CPU_ISA",
    "CT2_USE_EXPERIMENTAL_PACKED_GEMM",
)


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def thread_settings() -> dict[str, Any]:
    """Thread counts of this process's numeric runtimes and the variables that set them.

    Torch is read only if the run imported it (importing it here would cost seconds).
    The ``local`` embedder pins its own counts while it embeds (see its ``params``); these
    are the process-wide ones everything else (search, statistics) ran with.
    """
    out: dict[str, Any] = {"cpu_count": os.cpu_count()}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        out["torch_intra_op"] = int(torch.get_num_threads())
        out["torch_inter_op"] = int(torch.get_num_interop_threads())
    try:
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
    except Exception:  # threadpoolctl missing or a library it cannot query: record why
        pools = []
        out["threadpools_error"] = "threadpoolctl could not read the thread pools"
    out["threadpools"] = [
        {
            "api": p.get("user_api"),
            "library": p.get("internal_api"),
            "file": p.get("prefix"),  # which copy (numpy's, scipy's, ...); not its path
            "version": p.get("version"),
            "threads": p.get("num_threads"),
            "architecture": p.get("architecture"),  # OpenBLAS kernel: part of the rounding
        }
        for p in pools
    ]
    out["env"] = {k: os.environ[k] for k in THREAD_ENV if k in os.environ}
    return out


def reproducibility_info(
    *,
    tool_version: str,
    fingerprint: str | None,
    engine: str,
    engine_options: dict[str, Any] | None,
    seed: int,
) -> dict[str, Any]:
    """The report's ``reproducibility`` block (JSON-ready).

    Parameters
    ----------
    tool_version : str
        mme-audit's version.
    fingerprint : str or None
        The backend's fingerprint (the cache and shard key); None if it was never built.
    engine : str
        ``inprocess`` or ``ray``.
    engine_options : dict or None
        The engine's options (CPUs per actor, shard size, ...).
    seed : int
        The run's seed (bootstrap, permutations, sampling).
    """
    return {
        "tool_version": tool_version,
        "embedder_fingerprint": fingerprint,
        "engine": engine,
        "engine_options": dict(engine_options or {}),
        "seed": seed,
        "threads": thread_settings(),
        "platform": {
            "python": platform.python_version(),
            "system": platform.system(),
            "machine": platform.machine(),
            "processor": platform.processor(),
        },
        "packages": {d: v for d in NUMERIC_PACKAGES if (v := _version(d)) is not None},
    }
