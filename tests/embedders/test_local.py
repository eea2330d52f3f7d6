"""The offline default embedder against independent computations."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from audit.embedders import Embedder
from audit.embedders.local import LocalEmbedder
from audit.embedders.local._embedder import efficientnet_file, load_minilm
from audit.items import Item, text_item


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    emb = LocalEmbedder(top_t=5)
    emb.progress = False
    return emb


def _photo(name: str) -> bytes:
    from PIL import Image
    from sklearn.datasets import load_sample_image

    buf = io.BytesIO()
    Image.fromarray(load_sample_image(name)).save(buf, format="PNG")
    return buf.getvalue()


def test_protocol(local):
    assert isinstance(local, Embedder)
    assert local.dim == 384 and local.matryoshka_dims == ()
    assert {"text", "image"} <= local.modalities


def test_text_equals_raw_sentence_transformers(local):
    sentences = ["A cat sits on the mat.", "Stock markets fell sharply today."]
    raw, _ = load_minilm()
    expected = raw.encode(sentences, convert_to_numpy=True)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    got = local.embed([text_item(f"s{i}", s) for i, s in enumerate(sentences)])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_image_is_conse_of_top_classes(local):
    """Recompute ConSE by hand: classifier probs, top-T, weighted class-name embeddings."""
    from audit.embedders.local._efficientnet import (
        load_efficientnet_lite0,
        pil_to_tensor01,
        preprocess_tensor,
    )
    from audit.embedders.local._imagenet import load_imagenet_classes
    from audit.items import load_image

    item = Item("flower", "image", _photo("flower.jpg"))
    got = local.embed([item])[0]

    model = load_efficientnet_lite0(efficientnet_file())
    with torch.no_grad():
        x = preprocess_tensor(pil_to_tensor01(load_image(item)).unsqueeze(0))
        probs = model(x).softmax(-1)[0].numpy()
    top = np.argsort(-probs)[:5]
    names = load_imagenet_classes()
    raw, _ = load_minilm()
    class_vecs = raw.encode([f"a photo of a {names[i]}" for i in top], convert_to_numpy=True)
    mixed = (probs[top, None] * class_vecs).sum(0) / probs[top].sum()
    np.testing.assert_allclose(got, mixed / np.linalg.norm(mixed), atol=1e-4)
    assert names[top[0]] == "daisy"


def test_cross_modal_retrieval_on_real_photos(local):
    images = [
        Item("china", "image", _photo("china.jpg")),
        Item("flower", "image", _photo("flower.jpg")),
    ]
    texts = [text_item("q1", "a photo of a palace"), text_item("q2", "a photo of a daisy")]
    sims = local.embed(texts, purpose="query") @ local.embed(images).T
    assert sims.argmax(axis=1).tolist() == [0, 1]


def test_differentiable_image_path_matches_embed_and_has_gradients(local):
    item = Item("china", "image", _photo("china.jpg"))
    path = local.differentiable("image")
    x = path.to_tensor(item).clone().requires_grad_(True)
    out = path.module(x)
    np.testing.assert_allclose(out.detach().numpy()[0], local.embed([item])[0], atol=1e-5)
    target = torch.from_numpy(local.embed([text_item("t", "a photo of a daisy")]))
    (out @ target.T).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    with pytest.raises(NotImplementedError):
        local.differentiable("text")


def test_parameters_validated_and_enter_the_fingerprint():
    with pytest.raises(ValueError, match="top_t"):
        LocalEmbedder(top_t=0)
    with pytest.raises(ValueError, match="prompt"):
        LocalEmbedder(prompt="no placeholder")
    assert LocalEmbedder(top_t=3).fingerprint != LocalEmbedder(top_t=5).fingerprint
