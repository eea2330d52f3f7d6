"""EfficientNet-Lite0 backbone: weights, real-photo classification, gradients, I/O helpers."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.datasets import load_sample_image

from audit.embedders.local._efficientnet import (
    INPUT_SIZE,
    WEIGHTS_SHA256,
    EfficientNetLite0,
    _Conv2dSame,
    _same_pad,
    default_weights_path,
    load_efficientnet_lite0,
    pil_to_tensor01,
    preprocess_tensor,
)
from audit.embedders.local._imagenet import load_imagenet_classes


@pytest.fixture(scope="module")
def model() -> EfficientNetLite0:
    return load_efficientnet_lite0()


@pytest.fixture(scope="module")
def classes() -> list[str]:
    return load_imagenet_classes()


def _top1(model: EfficientNetLite0, img: Image.Image) -> tuple[int, float]:
    x = pil_to_tensor01(img).unsqueeze(0)
    with torch.no_grad():
        probs = model(preprocess_tensor(x)).softmax(dim=-1)[0]
    idx = int(probs.argmax())
    return idx, float(probs[idx])


# --- weights and architecture ---------------------------------------------------------


def test_weights_file_hash_matches_pin() -> None:
    data = default_weights_path().read_bytes()
    assert hashlib.sha256(data).hexdigest() == WEIGHTS_SHA256


def test_state_dict_matches_file_key_for_key(model: EfficientNetLite0) -> None:
    state = torch.load(default_weights_path(), map_location="cpu", weights_only=True)
    ours = model.state_dict()
    assert list(ours) == list(state)
    for key, value in state.items():
        assert ours[key].shape == value.shape, key
        assert torch.equal(ours[key], value), key


def test_parameter_count_is_published_lite0_size() -> None:
    # EfficientNet-Lite0 has 4.652M parameters (TF model card / d-li14 reproduction).
    n = sum(p.numel() for p in EfficientNetLite0().parameters())
    assert round(n / 1e6, 3) == 4.652


def test_wrong_hash_is_rejected_before_loading() -> None:
    with pytest.raises(ValueError, match="sha256"):
        load_efficientnet_lite0(expected_sha256="0" * 64)


def test_incomplete_state_dict_is_a_clear_error(tmp_path) -> None:
    state = EfficientNetLite0().state_dict()
    del state["_fc.bias"]
    path = tmp_path / "partial.pth"
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"_fc\.bias"):
        load_efficientnet_lite0(path, expected_sha256=None)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "expected"),
    [
        (224, 3, 2, (0, 1)),  # (112-1)*2+3-224 = 1: the extra pixel goes after
        (112, 5, 2, (1, 2)),  # (56-1)*2+5-112 = 3
        (7, 3, 2, (1, 1)),  # (4-1)*2+3-7 = 2
        (14, 5, 1, (2, 2)),  # stride 1: symmetric k//2
        (1, 3, 2, (1, 1)),
    ],
)
def test_tf_same_padding_by_hand(
    size: int, kernel: int, stride: int, expected: tuple[int, int]
) -> None:
    assert _same_pad(size, kernel, stride) == expected


def test_same_conv_equals_explicitly_padded_conv() -> None:
    torch.manual_seed(0)
    conv = _Conv2dSame(4, 4, 5, stride=2, groups=4)
    x = torch.randn(2, 4, 10, 9)
    # H=10: (5-1)*2+5-10=3 -> (1,2); W=9: (5-1)*2+5-9=4 -> (2,2)
    ref = F.conv2d(F.pad(x, (2, 2, 1, 2)), conv.weight, stride=2, groups=4)
    assert torch.allclose(conv(x), ref)


def test_batch_rows_are_independent(model: EfficientNetLite0) -> None:
    torch.manual_seed(1)
    x = torch.rand(3, 3, INPUT_SIZE, INPUT_SIZE)
    with torch.no_grad():
        batched = model(preprocess_tensor(x))
        single = model(preprocess_tensor(x[1:2]))
    assert batched.shape == (3, 1000)
    assert torch.allclose(batched[1:2], single, atol=1e-4)


# --- real photos ----------------------------------------------------------------------


def test_sklearn_flower_is_daisy(model: EfficientNetLite0, classes: list[str]) -> None:
    # A dahlia head; ImageNet's only composite-flower class is "daisy".
    idx, prob = _top1(model, Image.fromarray(load_sample_image("flower.jpg")))
    assert classes[idx] == "daisy"
    assert prob == pytest.approx(0.14, abs=0.05)


def test_sklearn_china_has_palace_in_top5(model: EfficientNetLite0, classes: list[str]) -> None:
    # A Chinese temple hall by a lake: several plausible classes, so only top-5 is checked.
    x = pil_to_tensor01(Image.fromarray(load_sample_image("china.jpg"))).unsqueeze(0)
    with torch.no_grad():
        top5 = model(preprocess_tensor(x))[0].topk(5).indices.tolist()
    assert classes.index("palace") in top5


@pytest.mark.parametrize(
    ("name", "expected", "prob"),
    [("chelsea", "Egyptian cat", 0.79), ("coffee", "espresso", 0.88)],
)
def test_skimage_photos(
    model: EfficientNetLite0, classes: list[str], name: str, expected: str, prob: float
) -> None:
    skdata = pytest.importorskip("skimage.data")
    idx, p = _top1(model, Image.fromarray(getattr(skdata, name)()))
    assert classes[idx] == expected
    # Tight enough to catch symmetric padding (chelsea drops to 0.70) or a wrong resize.
    assert p == pytest.approx(prob, abs=0.04)


# --- differentiability ----------------------------------------------------------------


def test_gradient_reaches_input_through_preprocessing(model: EfficientNetLite0) -> None:
    photo = pil_to_tensor01(Image.fromarray(load_sample_image("flower.jpg")))
    x = photo.unsqueeze(0).clone().requires_grad_(True)
    logits = model(preprocess_tensor(x))
    logits[0, int(logits.argmax())].backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0


def test_gradient_matches_finite_difference() -> None:
    # float64 so a central difference is accurate; random weights suffice for the calculus.
    torch.manual_seed(2)
    net = EfficientNetLite0().double().eval()
    x = torch.rand(1, 3, 40, 57, dtype=torch.float64, requires_grad=True)
    direction = torch.randn_like(x)

    def f(inp: torch.Tensor) -> torch.Tensor:
        return net(preprocess_tensor(inp))[0, :5].sum()

    f(x).backward()
    analytic = float((x.grad * direction).sum())
    eps = 1e-6
    with torch.no_grad():
        numeric = float((f(x + eps * direction) - f(x - eps * direction)) / (2 * eps))
    assert analytic == pytest.approx(numeric, rel=1e-4, abs=1e-7)


# --- preprocessing and conversion -----------------------------------------------------


def test_preprocess_is_plain_normalisation_at_native_size() -> None:
    x = torch.rand(2, 3, INPUT_SIZE, INPUT_SIZE)
    assert torch.allclose(preprocess_tensor(x), 2 * x - 1, atol=1e-6)


def test_preprocess_resizes_any_shape_and_keeps_constants() -> None:
    x = torch.full((1, 3, 300, 451), 0.25)
    out = preprocess_tensor(x)
    assert out.shape == (1, 3, INPUT_SIZE, INPUT_SIZE)
    assert torch.allclose(out, torch.full_like(out, -0.5))


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (torch.zeros(3, 8, 8), ValueError),
        (torch.zeros(1, 4, 8, 8), ValueError),
        (torch.zeros(0, 3, 8, 8), ValueError),
        (torch.zeros(1, 3, 8, 8, dtype=torch.uint8), TypeError),
        (np.zeros((1, 3, 8, 8), dtype=np.float32), TypeError),
    ],
)
def test_preprocess_rejects_bad_input(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="preprocess_tensor"):
        preprocess_tensor(bad)  # type: ignore[arg-type]


def test_pil_to_tensor_rgb_layout_and_values() -> None:
    arr = np.zeros((2, 3, 3), dtype=np.uint8)  # H=2, W=3
    arr[0, 2] = (255, 0, 51)
    t = pil_to_tensor01(Image.fromarray(arr))
    assert t.dtype == torch.float32 and t.shape == (3, 2, 3)
    assert torch.allclose(t[:, 0, 2], torch.tensor([1.0, 0.0, 0.2]))
    t[0, 0, 0] = 0.5  # writable, owns its memory


def test_pil_to_tensor_composites_alpha_on_white() -> None:
    rgba = np.zeros((1, 3, 4), dtype=np.uint8)
    rgba[0, 0] = (0, 0, 0, 0)  # fully transparent black -> white
    rgba[0, 1] = (255, 0, 0, 255)  # opaque red stays red
    rgba[0, 2] = (0, 0, 255, 128)  # half blue over white: 255*(1-128/255) = 127
    t = pil_to_tensor01(Image.fromarray(rgba, mode="RGBA"))
    assert torch.allclose(t[:, 0, 0], torch.ones(3))
    assert torch.allclose(t[:, 0, 1], torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(t[:, 0, 2], torch.tensor([127, 127, 255]) / 255.0, atol=1.5 / 255)


def test_pil_to_tensor_palette_transparency_and_grey_modes() -> None:
    pal = Image.new("P", (2, 1))
    pal.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    pal.putpixel((0, 0), 0)
    pal.putpixel((1, 0), 1)
    pal.info["transparency"] = 0
    t = pil_to_tensor01(pal)
    assert torch.allclose(t[:, 0, 0], torch.ones(3))
    assert torch.allclose(t[:, 0, 1], torch.tensor([10.0, 20.0, 30.0]) / 255)

    grey = pil_to_tensor01(Image.fromarray(np.array([[0, 102]], dtype=np.uint8), mode="L"))
    assert torch.allclose(grey[:, 0, 1], torch.full((3,), 0.4))

    deep = Image.fromarray(np.array([[0, 65535, 13107]], dtype=np.uint16))
    assert deep.mode.startswith("I")
    t16 = pil_to_tensor01(deep)
    assert torch.allclose(t16[:, 0], torch.tensor([0.0, 1.0, 0.2]).expand(3, 3), atol=1e-6)


def test_pil_to_tensor_rejects_non_images() -> None:
    with pytest.raises(TypeError, match="PIL"):
        pil_to_tensor01(np.zeros((4, 4, 3)))  # type: ignore[arg-type]


# --- class names ----------------------------------------------------------------------


def test_imagenet_class_names(classes: list[str]) -> None:
    assert len(classes) == 1000
    assert len(set(classes)) == 1000
    assert classes[0] == "tench"
    assert classes[1] == "goldfish"
    assert classes[2] == "great white shark"
    assert classes[285] == "Egyptian cat"
    assert classes[967] == "espresso"
    assert all(name and not name.startswith("#") for name in classes)


def test_loader_returns_a_fresh_list(classes: list[str]) -> None:
    again = load_imagenet_classes()
    again[0] = "mutated"
    assert load_imagenet_classes()[0] == "tench"


def test_loader_rejects_wrong_count(tmp_path) -> None:
    path = tmp_path / "names.txt"
    path.write_text("# header\n" + "\n".join(f"c{i}" for i in range(999)) + "\n")
    with pytest.raises(ValueError, match="expected 1000 names, got 999"):
        load_imagenet_classes(path)
