"""Tiny deterministic models and data for the red-team tests (imported by conftest).

ToyEmbedder: f(x) = normalize(W (x - 0.5) + b), a linear image embedder over
(3, S, S) inputs in [0, 1]; the bias b plays the role of a modality offset. Images are
smooth (4x4 noise upsampled bilinearly) so JPEG and bit-depth squeezing barely move them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

DIM = 32


class ToyEmbedder(nn.Module):
    """normalize(W (x - 0.5) + b) over flattened (C, S, S) inputs."""

    def __init__(self, d_in: int, dim: int = DIM, *, gain: float = 1.0, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.lin = nn.Linear(d_in, dim)
        with torch.no_grad():
            self.lin.weight.copy_(gain * torch.randn(dim, d_in, generator=g) / d_in**0.5)
            self.lin.bias.zero_()
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.lin(x.flatten(1) - 0.5), dim=-1)


def smooth_images(n: int, size: int, seed: int) -> torch.Tensor:
    """(n, 3, size, size) smooth images in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 4, 4, generator=g)
    return F.interpolate(low, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)


@dataclass
class QueryWorld:
    """Image queries x, gallery of noisy copies: item i is relevant to query i."""

    f: ToyEmbedder
    x: torch.Tensor
    gallery: np.ndarray


def make_query_world() -> QueryWorld:
    torch.manual_seed(0)
    size = 16
    f = ToyEmbedder(3 * size * size)
    x = smooth_images(24, size, seed=1)
    with torch.no_grad():
        e = f(x)
    g = torch.Generator().manual_seed(2)
    gallery = F.normalize(e + 0.5 * torch.randn(e.shape, generator=g) / DIM**0.5, dim=-1)
    return QueryWorld(f=f, x=x, gallery=gallery.double().numpy())


@dataclass
class IndexWorld:
    """Image items embedded with an image offset; text-like queries with another offset.

    Query i (text modality) is relevant to item i. The offsets model the modality gap that
    makes adversarial hubs possible (Zhang et al. 2024).
    """

    f: ToyEmbedder
    items: torch.Tensor
    gallery: np.ndarray
    queries_train: np.ndarray
    queries_test: np.ndarray
    relevant_train: np.ndarray
    relevant_test: np.ndarray


def make_index_world() -> IndexWorld:
    size, n_items = 32, 150
    f = ToyEmbedder(3 * size * size, gain=0.35, seed=3)
    rng = np.random.default_rng(4)
    b_img, b_txt = np.linalg.qr(rng.standard_normal((DIM, 2)))[0].T  # orthonormal offsets
    with torch.no_grad():
        f.lin.bias.copy_(torch.from_numpy(b_img).float())
    # White-noise items with no component along the query offset: natural items then have
    # no per-item bias toward all queries (little natural hubness); an attacker can still
    # move along that direction, which is what an adversarial hub exploits.
    noise = 0.1 + 0.8 * torch.rand(
        n_items, 3 * size * size, generator=torch.Generator().manual_seed(5)
    )
    v = f.lin.weight.T.double() @ torch.from_numpy(b_txt)
    centred = noise.double() - 0.5
    centred -= (centred @ v)[:, None] * v[None, :] / (v @ v)
    items = (0.5 + centred).float().clamp(0, 1).reshape(n_items, 3, size, size)
    with torch.no_grad():
        gallery = f(items).double().numpy()
        content = (f.lin(items.flatten(1) - 0.5) - f.lin.bias).double().numpy()

    def queries(n: int) -> tuple[np.ndarray, np.ndarray]:
        rel = rng.integers(0, n_items, n)
        q = 0.4 * b_txt + content[rel] + 0.1 * rng.standard_normal((n, DIM))
        return q / np.linalg.norm(q, axis=1, keepdims=True), rel

    q_tr, r_tr = queries(200)
    q_te, r_te = queries(200)
    return IndexWorld(f, items, gallery, q_tr, q_te, r_tr, r_te)


def hash_embed(texts: list[str], dim: int = 256) -> np.ndarray:
    """Character-trigram hashing embedder (deterministic, sensitive to every code point)."""
    out = np.zeros((len(texts), dim))
    for i, t in enumerate(texts):
        padded = f"  {t}  "
        for j in range(len(padded) - 2):
            out[i, zlib.crc32(padded[j : j + 3].encode("utf-8")) % dim] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


QUERIES = [
    "a photo of a red sports car parked outside",
    "golden retriever playing fetch on the beach",
    "snow covered mountains at sunrise",
    "a bowl of ramen with a soft boiled egg",
    "children flying kites in a park",
    "an old lighthouse on a rocky coast",
    "fresh strawberries in a wooden basket",
    "a busy train station during rush hour",
    "astronaut floating above the earth",
    "a cat sleeping on a stack of books",
    "hot air balloons over a desert canyon",
    "vintage typewriter on a cluttered desk",
]
