"""Retrieval as classification, so classifier attacks (torchattacks) apply to embedders.

A query x and a gallery G of L2-normalised item embeddings give logits
``scale * cos(f(x), G)`` of shape (N, C): "class" c is gallery item c. An untargeted
attack on label c pushes item c down the ranking; a targeted attack on label t pulls item t
to the top.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn
from torch.nn import functional as F

from redteam._torch import eval_mode

#: A black-box image/audio embedder: float32 array (N, ...) in the module's input range
#: -> (N, dim) embeddings.
ArrayEmbedFn = Callable[[np.ndarray], np.ndarray]


class QueryBudgetExceeded(RuntimeError):
    """A score-based attack asked for more model queries than its budget allows."""


def _gallery_tensor(gallery: ArrayLike | torch.Tensor) -> torch.Tensor:
    g = torch.as_tensor(np.asarray(gallery) if not torch.is_tensor(gallery) else gallery)
    if g.ndim != 2 or g.shape[0] < 2:
        raise ValueError(f"gallery must be (n_items >= 2, dim), got shape {tuple(g.shape)}")
    g = g.detach().to(torch.float32)
    if not torch.isfinite(g).all():
        raise ValueError("gallery contains NaN or infinite values")
    return F.normalize(g, dim=1)


class RetrievalHead(nn.Module):
    """White-box retrieval head: ``logits = scale * cos(embed(x), gallery)``.

    Parameters
    ----------
    embed : nn.Module
        Differentiable embedder, e.g. images NCHW in [0, 1] -> (N, dim) embeddings (they are
        re-normalised here, so unnormalised outputs are fine).
    gallery : array-like or Tensor, shape (C, dim)
        Gallery (indexed item) embeddings; rows are L2-normalised here.
    scale : float
        Logit scale (inverse temperature); 100 is CLIP's. It changes cross-entropy
        gradients' magnitude, not the ranking.
    """

    def __init__(
        self, embed: nn.Module, gallery: ArrayLike | torch.Tensor, *, scale: float = 100.0
    ) -> None:
        super().__init__()
        if not isinstance(embed, nn.Module):
            raise TypeError(f"embed must be a torch.nn.Module, got {type(embed).__name__}")
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.embed = embed
        self.scale = float(scale)
        device = next((p.device for p in embed.parameters()), torch.device("cpu"))
        self.register_buffer("gallery", _gallery_tensor(gallery).to(device))
        # torchattacks finds the device from next(model.parameters()); a module without
        # parameters would make it fail, so an empty anchor is always present.
        self._anchor = nn.Parameter(torch.zeros(0, device=device), requires_grad=False)

    @property
    def n_classes(self) -> int:
        """Number of gallery items (logit columns)."""
        return int(self.gallery.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, ...) inputs -> (N, C) logits."""
        return self.scale * F.normalize(self.embed(x), dim=-1) @ self.gallery.T

    @torch.no_grad()
    def embed_batch(self, x: torch.Tensor, batch_size: int = 32) -> np.ndarray:
        """Normalised embeddings of ``x`` as float64 numpy, in eval mode (for reports)."""
        with eval_mode(self.embed):
            out = [
                F.normalize(self.embed(x[i : i + batch_size].to(self.gallery.device)), dim=-1)
                for i in range(0, x.shape[0], batch_size)
            ]
        return torch.cat(out).double().cpu().numpy()


class ScoreHead(nn.Module):
    """Score-based (black-box) retrieval head over any embed callable, counting queries.

    Parameters
    ----------
    embed : callable
        ``np.ndarray (N, ...) float32 -> (N, dim)``; e.g. a remote API behind an encoder.
        No gradients are taken; every input row sent is one query.
    gallery : array-like, shape (C, dim)
        Gallery embeddings from the same embedder.
    scale : float
        Logit scale (score-based attacks use margins, so it only rescales them).
    max_queries : int, optional
        Hard cap on rows sent through :meth:`forward`; exceeding it raises
        :class:`QueryBudgetExceeded` before the call is made.

    Attributes
    ----------
    queries_used : int
        Rows sent through :meth:`forward` since construction or :meth:`reset`.
    calls : int
        Calls of ``embed`` made through :meth:`forward`.
    """

    def __init__(
        self,
        embed: ArrayEmbedFn,
        gallery: ArrayLike | torch.Tensor,
        *,
        scale: float = 100.0,
        max_queries: int | None = None,
    ) -> None:
        super().__init__()
        if not callable(embed):
            raise TypeError(f"embed must be callable, got {type(embed).__name__}")
        if max_queries is not None and max_queries < 1:
            raise ValueError(f"max_queries must be >= 1, got {max_queries}")
        self.embed_fn = embed
        self.scale = float(scale)
        self.max_queries = max_queries
        self.register_buffer("gallery", _gallery_tensor(gallery))
        self._anchor = nn.Parameter(torch.zeros(0), requires_grad=False)
        self.queries_used = 0
        self.calls = 0

    @property
    def n_classes(self) -> int:
        """Number of gallery items (logit columns)."""
        return int(self.gallery.shape[0])

    def reset(self) -> None:
        """Zero the query counters."""
        self.queries_used = 0
        self.calls = 0

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        arr = x.detach().cpu().numpy().astype(np.float32, copy=False)
        emb = np.asarray(self.embed_fn(arr), dtype=np.float32)
        if emb.ndim != 2 or emb.shape != (x.shape[0], self.gallery.shape[1]):
            raise ValueError(
                f"embed returned shape {emb.shape} for {x.shape[0]} inputs; "
                f"expected ({x.shape[0]}, {self.gallery.shape[1]})"
            )
        return F.normalize(torch.from_numpy(emb), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, ...) inputs -> (N, C) logits, counting N queries."""
        n = int(x.shape[0])
        if self.max_queries is not None and self.queries_used + n > self.max_queries:
            raise QueryBudgetExceeded(
                f"{n} more queries would exceed the budget of {self.max_queries} "
                f"({self.queries_used} used)"
            )
        self.queries_used += n
        self.calls += 1
        with torch.no_grad():
            return (self.scale * self._embed(x) @ self.gallery.T).to(x.device)

    def embed_batch(self, x: torch.Tensor, batch_size: int = 32) -> np.ndarray:
        """Embeddings for reports; these calls are not counted as attack queries."""
        out = [self._embed(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)]
        return torch.cat(out).double().numpy()


class WaveformAdapter(nn.Module):
    """Lets [0, 1]-range attacks perturb audio: (N, 1, 1, T) in [0, 1] -> waveform -> embed.

    torchattacks clamps to [0, 1] and several attacks assume 4-D inputs, so a waveform
    batch (N, T) in [low, high] is carried as (N, 1, 1, T) in [0, 1] by the affine map
    ``u = (w - low) / (high - low)``. An attack budget ``eps`` in that space is
    ``eps * (high - low)`` in waveform units (:meth:`eps_in_waveform_units`).

    Parameters
    ----------
    embed : nn.Module
        Waveform embedder taking (N, T) in [low, high].
    low, high : float
        Waveform range (default [-1, 1]).
    """

    def __init__(self, embed: nn.Module, *, low: float = -1.0, high: float = 1.0) -> None:
        super().__init__()
        if not high > low:
            raise ValueError(f"need high > low, got low={low}, high={high}")
        self.embed = embed
        self.low, self.high = float(low), float(high)

    def to_unit(self, wave: torch.Tensor) -> torch.Tensor:
        """(N, T) waveform in [low, high] -> (N, 1, 1, T) in [0, 1]."""
        if wave.ndim != 2:
            raise ValueError(f"waveforms must be (N, T), got shape {tuple(wave.shape)}")
        if wave.min() < self.low - 1e-6 or wave.max() > self.high + 1e-6:
            raise ValueError(f"waveform values must lie in [{self.low}, {self.high}]")
        return ((wave - self.low) / (self.high - self.low)).clamp(0, 1)[:, None, None, :]

    def from_unit(self, x01: torch.Tensor) -> torch.Tensor:
        """(N, 1, 1, T) in [0, 1] -> (N, T) waveform."""
        return self.low + (self.high - self.low) * x01.reshape(x01.shape[0], -1)

    def eps_in_waveform_units(self, eps: float) -> float:
        """An attack-space budget expressed in waveform amplitude."""
        return eps * (self.high - self.low)

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        """(N, 1, 1, T) in [0, 1] -> embeddings of the waveforms."""
        return self.embed(self.from_unit(x01))


def module_embed_fn(module: nn.Module, *, batch_size: int = 32) -> ArrayEmbedFn:
    """Wrap a torch embedder as a numpy embed callable (no gradients, batched)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")

    def embed(x: np.ndarray) -> np.ndarray:
        device = next((p.device for p in module.parameters()), torch.device("cpu"))
        t = torch.as_tensor(np.asarray(x, dtype=np.float32))
        with torch.no_grad(), eval_mode(module):
            out = [
                module(t[i : i + batch_size].to(device)).float().cpu()
                for i in range(0, t.shape[0], batch_size)
            ]
        return torch.cat(out).numpy()

    return embed
