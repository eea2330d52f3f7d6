"""Perturbation size and embedding drift."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from redteam.metrics._retrieval import unit_rows


def edit_distance(a: str, b: str, *, transpositions: bool = False) -> int:
    """Levenshtein distance (insert, delete, substitute), by code point.

    With ``transpositions=True`` an adjacent swap counts as one edit (optimal string
    alignment distance), the unit the swap typo attack spends its budget in.
    """
    if not isinstance(a, str) or not isinstance(b, str):
        raise TypeError("edit_distance compares two str")
    rows = len(a) + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, rows):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if transpositions and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def edit_distances(
    clean: Sequence[str], attacked: Sequence[str], *, transpositions: bool = False
) -> np.ndarray:
    """Element-wise :func:`edit_distance` of two equally long text lists."""
    if len(clean) != len(attacked):
        raise ValueError(f"{len(clean)} clean texts but {len(attacked)} attacked texts")
    pairs = zip(clean, attacked, strict=True)
    return np.array(
        [edit_distance(a, b, transpositions=transpositions) for a, b in pairs], dtype=np.int64
    )


def perturbation_norms(clean: ArrayLike, attacked: ArrayLike) -> dict[str, np.ndarray]:
    """Per-example ``linf`` and ``l2`` norms of ``attacked - clean`` (any shape, batch first)."""
    x = _numpy(clean)
    y = _numpy(attacked)
    if x.shape != y.shape:
        raise ValueError(f"clean has shape {x.shape} but attacked has shape {y.shape}")
    d = (y - x).reshape(x.shape[0], -1)
    return {"linf": np.abs(d).max(axis=1), "l2": np.linalg.norm(d, axis=1)}


def cosine_drift(clean: ArrayLike, attacked: ArrayLike) -> np.ndarray:
    """Per-row ``1 - cos(clean_i, attacked_i)`` of two embedding matrices."""
    a = unit_rows(clean, "clean embeddings")
    b = unit_rows(attacked, "attacked embeddings")
    if a.shape != b.shape:
        raise ValueError(f"clean embeddings {a.shape} and attacked {b.shape} differ in shape")
    return 1.0 - np.sum(a * b, axis=1)


def _numpy(x: ArrayLike) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, without importing torch here
        x = x.detach().cpu().numpy()  # type: ignore[union-attr]
    return np.asarray(x, dtype=np.float64)
