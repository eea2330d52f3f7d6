"""Attribute-probe bootstrap: vectorised resample scores vs a scikit-learn loop.

Both run in this process on the same out-of-fold probabilities and the same resample
indices (stratified within class, as ``probe_attribute`` draws them). The baseline calls
``balanced_accuracy_score`` and ``roc_auc_score`` once per resample; the vectorised path is
``redteam.privacy._attribute.resample_scores`` (Mann-Whitney ranks). The two must agree to
1e-12 on every resample before any time is printed.

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/privacy_bootstrap.py
"""

from __future__ import annotations

import platform
import time

import numpy as np
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from redteam.privacy._attribute import resample_scores

N_PER_CLASS = 500
N_BOOTSTRAP = 1000
REPEATS = 3


def sklearn_loop(codes: np.ndarray, proba: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Per-resample scikit-learn scores (the baseline)."""
    out = np.empty((idx.shape[0], 2))
    for b, ix in enumerate(idx):
        c, p = codes[ix], proba[ix]
        auc = (
            roc_auc_score(c, p[:, 1]) if p.shape[1] == 2 else roc_auc_score(c, p, multi_class="ovr")
        )
        out[b] = balanced_accuracy_score(c, p.argmax(axis=1)), auc
    return out


def best_of(fn, repeats: int) -> tuple[float, np.ndarray]:
    best, out = float("inf"), np.empty(0)
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def compare(k: int, rng: np.random.Generator) -> tuple[float, float]:
    """Seconds of the vectorised path and of the baseline loop for ``k`` classes."""
    codes = np.repeat(np.arange(k), N_PER_CLASS)
    proba = rng.dirichlet(np.ones(k), codes.size)
    by_class = [np.flatnonzero(codes == c) for c in range(k)]
    idx = np.concatenate(
        [ix[rng.integers(0, ix.size, (N_BOOTSTRAP, ix.size))] for ix in by_class], axis=1
    )
    t_vec, fast = best_of(lambda: resample_scores(codes, proba, idx), REPEATS)
    t_loop, slow = best_of(lambda: sklearn_loop(codes, proba, idx), 1)
    assert np.allclose(fast, slow, rtol=0, atol=1e-12), np.abs(fast - slow).max()
    return t_vec, t_loop


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(f"{N_BOOTSTRAP} stratified resamples, {N_PER_CLASS} items per class")
    for k in (2, 3):
        t_vec, t_loop = compare(k, rng)
        print(f"  k = {k}: vectorised                     : {t_vec * 1e3:9.1f} ms")
        print(f"         scikit-learn loop (baseline)   : {t_loop * 1e3:9.1f} ms")
        print(f"         speed-up (baseline / vectorised): {t_loop / t_vec:9.1f}x")


if __name__ == "__main__":
    main()
