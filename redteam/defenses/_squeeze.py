"""Feature squeezing (Xu, Evans, Qi, NDSS 2018) for embedders.

Squeezers remove detail an adversarial perturbation lives in (JPEG re-encoding, bit-depth
reduction). Used as a detector, the score of an input is the largest embedding divergence
``1 - cos(f(x), f(squeeze(x)))`` over the squeezers (Xu et al. used the L1 distance of
softmax outputs; an embedder has no softmax, so cosine distance takes its place); the
threshold is set on clean inputs for a chosen false-positive rate.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from redteam.metrics import cosine_drift
from redteam.tensor._head import ArrayEmbedFn, module_embed_fn

Squeezer = Callable[[np.ndarray], np.ndarray]


def _as_images(x: ArrayLike | torch.Tensor) -> np.ndarray:
    arr = x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)
    arr = arr.astype(np.float32, copy=False)
    if arr.ndim != 4 or arr.shape[1] not in (1, 3):
        raise ValueError(f"images must be (N, 1|3, H, W), got shape {arr.shape}")
    if arr.min() < 0 or arr.max() > 1:
        raise ValueError("images must lie in [0, 1]")
    return arr


def bit_depth_squeeze(x: ArrayLike | torch.Tensor, *, bits: int = 5) -> np.ndarray:
    """Quantise [0, 1] images to ``bits`` bits per channel: ``round(x * (2^b - 1)) / (2^b - 1)``."""
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in [1, 16], got {bits}")
    levels = 2**bits - 1
    return np.round(_as_images(x) * levels) / levels


def jpeg_squeeze(x: ArrayLike | torch.Tensor, *, quality: int = 75) -> np.ndarray:
    """Round-trip (N, C, H, W) [0, 1] images through JPEG at ``quality`` (Pillow)."""
    from PIL import Image

    if not 1 <= quality <= 95:
        raise ValueError(f"quality must be in [1, 95], got {quality}")
    arr = _as_images(x)
    out = np.empty_like(arr)
    for i, img in enumerate(arr):
        u8 = np.round(np.transpose(img, (1, 2, 0)) * 255).astype(np.uint8)
        mode = "L" if u8.shape[2] == 1 else "RGB"
        buf = io.BytesIO()
        Image.fromarray(u8.squeeze(2) if mode == "L" else u8, mode).save(
            buf, format="JPEG", quality=quality
        )
        dec = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert(mode), dtype=np.float32)
        out[i] = (dec[..., None] if mode == "L" else dec).transpose(2, 0, 1) / 255.0
    return out


class SqueezeDetector:
    """Flags inputs whose embedding moves too much under squeezing.

    Parameters
    ----------
    embed : nn.Module or callable
        Image embedder: a torch module or ``np.ndarray (N, C, H, W) -> (N, dim)``.
    squeezers : sequence of callables, optional
        ``ndarray -> ndarray`` squeezers; default bit depth 5 and JPEG quality 75.
    fpr : float
        False-positive rate on clean inputs that :meth:`fit` calibrates the threshold to.

    Attributes
    ----------
    threshold_ : float
        Score above which an input is flagged (set by :meth:`fit`).
    """

    name = "squeeze-detector"

    def __init__(
        self,
        embed: nn.Module | ArrayEmbedFn,
        squeezers: Sequence[Squeezer] | None = None,
        *,
        fpr: float = 0.05,
    ) -> None:
        if not 0 < fpr < 1:
            raise ValueError(f"fpr must be in (0, 1), got {fpr}")
        self.embed: ArrayEmbedFn = module_embed_fn(embed) if isinstance(embed, nn.Module) else embed
        self.squeezers: list[Squeezer] = list(
            squeezers
            if squeezers is not None
            else (lambda a: bit_depth_squeeze(a, bits=5), lambda a: jpeg_squeeze(a, quality=75))
        )
        if not self.squeezers:
            raise ValueError("need at least one squeezer")
        self.fpr = fpr

    def scores(self, x: ArrayLike | torch.Tensor) -> np.ndarray:
        """Per-input max over squeezers of ``1 - cos(f(x), f(squeeze(x)))``."""
        arr = _as_images(x)
        base = np.asarray(self.embed(arr))
        return np.max([cosine_drift(base, self.embed(s(arr))) for s in self.squeezers], axis=0)

    def fit(self, clean: ArrayLike | torch.Tensor) -> SqueezeDetector:
        """Set :attr:`threshold_` to the ``1 - fpr`` quantile of clean scores."""
        self.threshold_ = float(np.quantile(self.scores(clean), 1 - self.fpr))
        return self

    def detect(self, x: ArrayLike | torch.Tensor) -> np.ndarray:
        """Boolean flags (True = looks adversarial)."""
        if not hasattr(self, "threshold_"):
            raise RuntimeError("SqueezeDetector: call fit(clean_inputs) before detect")
        return self.scores(x) > self.threshold_


def detection_auc(clean_scores: ArrayLike, attacked_scores: ArrayLike) -> float:
    """ROC AUC of a detector score (Mann-Whitney U / (n1 n2); ties count one half)."""
    a = np.asarray(clean_scores, dtype=np.float64).reshape(-1)
    b = np.asarray(attacked_scores, dtype=np.float64).reshape(-1)
    if not a.size or not b.size:
        raise ValueError("need at least one clean and one attacked score")
    greater = (b[:, None] > a[None, :]).sum()
    ties = (b[:, None] == a[None, :]).sum()
    return float((greater + 0.5 * ties) / (a.size * b.size))
