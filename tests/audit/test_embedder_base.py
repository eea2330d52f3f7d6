import numpy as np
import pytest

from audit.embedders import Embedder, EmbeddingError, truncate
from audit.embedders.base import BaseEmbedder
from audit.items import BadItemsError, Item, text_item


def test_protocol_and_normalisation(hash_embedder):
    assert isinstance(hash_embedder, Embedder)
    items = [text_item(f"t{i}", f"text {i}") for i in range(5)]
    v = hash_embedder.embed(items)
    assert v.dtype == np.float32 and v.shape == (5, 16)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-6)


def test_truncation_renormalises_against_manual_computation(hash_embedder):
    items = [text_item("a", "alpha"), text_item("b", "beta")]
    full = hash_embedder.embed(items)
    short = hash_embedder.embed(items, dim=4)
    manual = full[:, :4] / np.linalg.norm(full[:, :4], axis=1, keepdims=True)
    np.testing.assert_allclose(short, manual, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(short, axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="dim must be"):
        hash_embedder.embed(items, dim=17)
    with pytest.raises(ValueError, match="dim must be"):
        truncate(full, 0, 16)


def test_bad_purpose_and_modality(hash_embedder):
    with pytest.raises(ValueError, match="purpose"):
        hash_embedder.embed([text_item("a", "x")], purpose="search")  # type: ignore[arg-type]
    with pytest.raises(BadItemsError) as info:
        hash_embedder.embed([Item("v1", "video", b"x"), Item("a1", "audio", b"y")])
    assert [e.item_id for e in info.value.errors] == ["v1", "a1"]


class _Broken(BaseEmbedder):
    name = "broken"
    dim = 4
    modalities = frozenset({"text"})

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.progress = False

    def _embed_batch(self, modality, items, purpose):
        out = np.ones((len(items), self.dim))
        if self.mode == "nan":
            out[1, 2] = np.nan
        elif self.mode == "zero":
            out[0] = 0
        elif self.mode == "shape":
            out = np.ones((len(items), 3))
        return out


@pytest.mark.parametrize(
    ("mode", "pattern"),
    [("nan", r"b \(NaN/inf"), ("zero", r"a \(all-zero"), ("shape", r"shape \(2, 3\)")],
)
def test_bad_backend_output_is_named(mode, pattern):
    with pytest.raises(EmbeddingError, match=pattern):
        _Broken(mode).embed([text_item("a", "x"), text_item("b", "y")])
