"""A synthetic bag-of-words embedder for the text-inversion tests (no model needed).

A text's vector is the sum of fixed random Gaussian vectors of its words, normalised:
the words are exactly what the vector encodes, so an ideal inverter recovers them all.
"""

from __future__ import annotations

import numpy as np

WORDS = tuple(f"word{c}" for c in "abcdefghijklmnopqrst")


class BowEmbedder:
    """``embed(texts)``: normalised sum of per-word random vectors; counts its use."""

    def __init__(self, dim: int = 64, seed: int = 0, words: tuple[str, ...] = WORDS) -> None:
        rng = np.random.default_rng(seed)
        self.vectors = {w: rng.standard_normal(dim) for w in words}
        self.dim = dim
        self.calls: list[int] = []  # size of each call, so tests count independently

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim))
        for i, text in enumerate(texts):
            for w in text.split():
                out[i] += self.vectors[w]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


def random_sentences(n: int, seed: int, words: tuple[str, ...] = WORDS) -> list[str]:
    """Distinct sentences of 2-5 distinct words, in draw order."""
    rng = np.random.default_rng(seed)
    draws = (" ".join(rng.choice(words, size=rng.integers(2, 6), replace=False)) for _ in range(n))
    return list(dict.fromkeys(draws))
