"""CLIP/SigLIP image preprocessing in torch, so attacks get gradients through it.

:class:`TorchImagePreprocess` reads a transformers image processor's settings (resize,
resample, centre crop, rescale, normalise) and does the same with torch ops on an NCHW
[0, 1] tensor. Resizing uses ``interpolate(..., antialias=True)``, whose bilinear and
bicubic kernels (bicubic a = -0.5) follow Pillow's, so it agrees with the processor's
PIL output up to Pillow's rounding to 8 bits. :class:`ImageTower` chains it with the
model's image features and L2 normalisation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)

# PIL resample codes (PIL.Image.Resampling) -> torch interpolate modes.
_RESAMPLE = {0: "nearest-exact", 2: "bilinear", 3: "bicubic"}


def _get(obj: Any, key: str) -> Any:
    """Read ``key`` from a dict-like size spec (transformers 4.x dict, 5.x SizeDict)."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


@dataclass(frozen=True)
class ImagePrep:
    """The processor settings the torch path reproduces.

    Attributes
    ----------
    shortest_edge : int or None
        Resize so the shorter side has this length (aspect kept), or
    size : (int, int) or None
        resize to exactly (height, width); both None: no resize.
    mode : str
        torch interpolation mode.
    crop : (int, int) or None
        Centre crop (height, width), or None.
    scale : float
        Multiplier applied to 0..255 pixel values (1/255 when the processor rescales).
    mean, std : tuple of float or None
        Per-channel normalisation, or None.
    """

    shortest_edge: int | None
    size: tuple[int, int] | None
    mode: str
    crop: tuple[int, int] | None
    scale: float
    mean: tuple[float, ...] | None
    std: tuple[float, ...] | None

    @classmethod
    def from_processor(cls, proc: Any) -> ImagePrep:
        """Read the settings of a CLIP/SigLIP image processor.

        Raises
        ------
        ValueError
            For settings this torch path does not reproduce (e.g. a longest-edge resize).
        """
        shortest = size = None
        if getattr(proc, "do_resize", False):
            spec = proc.size
            if _get(spec, "shortest_edge") and not _get(spec, "longest_edge"):
                shortest = int(_get(spec, "shortest_edge"))
            elif _get(spec, "height") and _get(spec, "width"):
                size = (int(_get(spec, "height")), int(_get(spec, "width")))
            else:
                raise ValueError(
                    f"image processor size {spec!r} is not supported by the torch path"
                )
        resample = getattr(proc, "resample", None)
        code = 3 if resample is None else int(resample)  # transformers' default: bicubic
        mode = _RESAMPLE.get(code)
        if mode is None:
            log.warning("resample code %s has no torch equivalent; using bicubic", code)
            mode = "bicubic"
        crop = None
        if getattr(proc, "do_center_crop", False):
            cs = proc.crop_size
            crop = (int(_get(cs, "height")), int(_get(cs, "width")))
        scale = float(proc.rescale_factor) if getattr(proc, "do_rescale", False) else 1.0
        mean = std = None
        if getattr(proc, "do_normalize", False):
            mean = tuple(float(m) for m in np.atleast_1d(proc.image_mean))
            std = tuple(float(s) for s in np.atleast_1d(proc.image_std))
        return cls(shortest, size, mode, crop, scale, mean, std)


def resize_shortest(h: int, w: int, edge: int) -> tuple[int, int]:
    """Output (h, w) of transformers' shortest-edge resize (long side truncated to int)."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = edge, int(edge * long / short)
    return (new_long, new_short) if w <= h else (new_short, new_long)


class TorchImagePreprocess(nn.Module):
    """NCHW [0, 1] images -> the model's ``pixel_values``, differentiably.

    Parameters
    ----------
    prep : ImagePrep
        Settings read from the model's image processor.
    """

    def __init__(self, prep: ImagePrep) -> None:
        super().__init__()
        self.prep = prep
        channels = len(prep.mean) if prep.mean else 3
        mean = torch.tensor(prep.mean or (0.0,) * channels).view(1, -1, 1, 1)
        std = torch.tensor(prep.std or (1.0,) * channels).view(1, -1, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        """Preprocess a batch; returns float32 (N, 3, H', W')."""
        if x01.ndim != 4 or x01.shape[1] not in (1, 3):
            raise ValueError(f"expected an NCHW batch with 1 or 3 channels, got {tuple(x01.shape)}")
        x = x01.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        p = self.prep
        h, w = x.shape[-2:]
        target = resize_shortest(h, w, p.shortest_edge) if p.shortest_edge else p.size
        if target is not None and tuple(target) != (h, w):
            aa = p.mode in ("bilinear", "bicubic")
            kwargs: dict[str, Any] = {"antialias": True, "align_corners": False} if aa else {}
            x = nn.functional.interpolate(x, size=tuple(target), mode=p.mode, **kwargs)
            x = x.clamp(0.0, 1.0)  # Pillow clips the bicubic overshoot to 0..255
        if p.crop is not None:
            x = _center_crop(x, p.crop)
        x = x * (255.0 * p.scale)
        return (x - self.mean) / self.std


def _center_crop(x: torch.Tensor, crop: tuple[int, int]) -> torch.Tensor:
    """transformers' centre crop: offsets floor((size - crop) / 2), zero padding if smaller."""
    ch, cw = crop
    h, w = x.shape[-2:]
    if h < ch or w < cw:
        ph, pw = max(ch - h, 0), max(cw - w, 0)
        x = nn.functional.pad(x, ((pw + 1) // 2, pw // 2, (ph + 1) // 2, ph // 2))
        h, w = x.shape[-2:]
    top, left = (h - ch) // 2, (w - cw) // 2
    return x[..., top : top + ch, left : left + cw]


class ImageTower(nn.Module):
    """NCHW [0, 1] images -> L2-normalised image embeddings of a CLIP/SigLIP model.

    Parameters
    ----------
    preprocess : TorchImagePreprocess
        The torch version of the model's image processor.
    features : callable
        ``pixel_values -> (N, D)`` raw image features (the model's image tower).
    model : nn.Module
        The model, registered so ``.to(device)`` and ``.parameters()`` reach it.
    """

    def __init__(
        self,
        preprocess: TorchImagePreprocess,
        features: Callable[[torch.Tensor], torch.Tensor],
        model: nn.Module,
    ) -> None:
        super().__init__()
        self.preprocess = preprocess
        self.model = model
        self._features = features

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        """Embed a batch of [0, 1] images (any size; all of one size per batch)."""
        device = next(self.model.parameters()).device
        pixels = self.preprocess(x01.to(device))
        return nn.functional.normalize(self._features(pixels), dim=-1)


def pil_to_tensor01(img: Any) -> torch.Tensor:
    """RGB PIL image -> (1, 3, H, W) float32 tensor in [0, 1]."""
    arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous()
