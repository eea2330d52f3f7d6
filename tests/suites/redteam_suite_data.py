"""Small data and a tiny differentiable embedder for the red-team suite tests.

The tiny embedder maps an 8x8 RGB image through a fixed linear layer and an eval-mode
BatchNorm (non-trivial running statistics, so a forward in training mode would give other
vectors) to 8-d unit vectors, and text to hash-seeded vectors (as ``HashEmbedder``).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from audit.config import RunConfig
from audit.context import RunContext
from audit.datasets import Dataset
from audit.embedders.base import BaseEmbedder, DifferentiablePath
from audit.items import Item, text_item

SIDE = 8


def png(seed: int, side: int = SIDE) -> bytes:
    """A random RGB image as PNG bytes."""
    rgb = np.random.default_rng(seed).integers(0, 256, size=(side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def decode(items: list[Item]) -> torch.Tensor:
    """(N, 3, H, W) float tensor in [0, 1] of PNG image items (independent of the suite)."""
    arrays = [np.asarray(Image.open(io.BytesIO(it.read_bytes())).convert("RGB")) for it in items]
    return torch.from_numpy(np.stack(arrays).astype(np.float32) / 255).permute(0, 3, 1, 2)


class TinyNet(nn.Module):
    """Linear + eval-mode BatchNorm + L2 normalisation."""

    def __init__(self, seed: int = 0, dim: int = 8) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.proj = nn.Linear(3 * SIDE * SIDE, dim)
        self.bn = nn.BatchNorm1d(dim)
        with torch.no_grad():
            self.proj.weight.copy_(torch.randn(dim, 3 * SIDE * SIDE, generator=g) * 0.3)
            self.proj.bias.zero_()
            self.bn.running_mean.copy_(torch.randn(dim, generator=g))
            self.bn.running_var.copy_(torch.rand(dim, generator=g) + 0.5)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.bn(self.proj(x.flatten(1))), dim=-1)


class TinyImageEmbedder(BaseEmbedder):
    """Text by hash, images through :class:`TinyNet`; exposes ``differentiable("image")``."""

    name = "tiny"
    modalities = frozenset({"text", "image"})
    dim = 8

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.net = TinyNet(seed)
        self.progress = False
        self.image_rows = 0

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        if modality == "image":
            self.image_rows += len(items)
            with torch.no_grad():
                return self.net(decode(items)).numpy()
        out = []
        for it in items:
            seed = int.from_bytes(hashlib.sha256(it.read_bytes()).digest()[:8], "little")
            out.append(np.random.default_rng(seed).normal(size=self.dim))
        return np.asarray(out)

    def differentiable(self, modality: str) -> DifferentiablePath:
        if modality != "image":
            raise NotImplementedError(modality)
        return DifferentiablePath(module=self.net, to_tensor=lambda it: decode([it]))


def text_dataset(n: int = 6) -> Dataset:
    """Queries whose text equals their passage's: a hash embedder retrieves them exactly."""
    topics = [
        "binary search trees",
        "garbage collection",
        "unicode normalisation",
        "socket timeouts",
        "regular expressions",
        "thread pools",
        "hash tables",
        "floating point",
    ]
    texts = [f"Notes on {t} and how the standard library handles them." for t in topics[:n]]
    corpus = [text_item(f"p{i}", t) for i, t in enumerate(texts)]
    corpus += [text_item(f"x{i}", f"Unrelated passage number {i}.") for i in range(30)]
    queries = [text_item(f"q{i}", t) for i, t in enumerate(texts)]
    qrels = {f"q{i}": {f"p{i}": 1} for i in range(n)}
    return Dataset("mini-passages", None, corpus, queries, qrels)


def image_dataset(n: int = 18) -> Dataset:
    """Random 8x8 images, each with a text query naming it (text->image qrels)."""
    corpus = [Item(f"img{i:02d}", "image", png(100 + i)) for i in range(n)]
    queries = [text_item(f"q{i:02d}", f"object number {i}") for i in range(n)]
    qrels = {f"q{i:02d}": {f"img{i:02d}": 1} for i in range(n)}
    return Dataset("mini-images", None, corpus, queries, qrels)


def context(tmp_path: Path, embedder: Any, seed: int = 3, **opts: Any) -> RunContext:
    """A run context whose run dir is ``tmp_path / "run"``."""
    config = RunConfig(suites=["redteam"], suite_options={"redteam": opts}, seed=seed)
    run_dir = tmp_path / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    return RunContext(embedder=embedder, config=config, run_dir=run_dir)
