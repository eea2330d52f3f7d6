"""PlanningEmbedder on its own: placeholder vectors, counting, siblings, what it hides."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from hosted_fake import PLANNED, SENT, FakeHosted, units
from PIL import Image

from audit.cache import CachedEmbedder
from audit.embedders import chain, unwrap
from audit.embedders.base import BaseEmbedder, Embedder
from audit.items import BadItemsError, Item, text_item
from audit.usage import LOCAL_NOTE, PlanningEmbedder, embedder_plan, find_planner


@pytest.fixture(autouse=True)
def _clean() -> None:
    SENT.clear()
    PLANNED.clear()


def _image(i: int) -> Item:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (40 * i % 256, 90, 200)).save(buf, "PNG")
    return Item(f"img{i}", "image", buf.getvalue())


class LocalLike(BaseEmbedder):
    """A backend without plan_usage (a local model): it must never be called."""

    name = "local-like"
    dim = 6
    modalities = frozenset({"text"})

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        raise AssertionError("a dry run called the backend")


def test_is_an_embedder_and_hides_the_backend_from_chain_walkers(tmp_path) -> None:
    planner = PlanningEmbedder(FakeHosted("m"))
    assert isinstance(planner, Embedder)
    # Suites reach "the backend" with unwrap() (e.g. to time it); the chain must stop at
    # the planner, or a dry run would send real requests.
    assert chain(planner) == [planner] and unwrap(planner) is planner
    assert unwrap(CachedEmbedder(planner, tmp_path / "c.sqlite")) is planner
    assert (planner.name, planner.dim, planner.matryoshka_dims) == ("fake-m", 8, (8, 4))
    assert planner.fingerprint == FakeHosted("m").fingerprint
    assert planner.served_dims == (8, 4)
    assert planner.describe()["model_id"] == "m"  # other attributes come from the backend


def test_placeholder_vectors_are_unit_deterministic_and_sized() -> None:
    planner = PlanningEmbedder(FakeHosted("m"))
    items = [text_item("a", "red bicycle"), text_item("b", "two cats"), _image(1)]
    v = planner.embed(items)
    assert v.shape == (3, 8) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(v, planner.embed(items, purpose="query"))
    # Computed another way: the seed is the hash of modality and content hash.
    seed = hashlib.sha256(f"text\x1f{items[0].content_sha256()}".encode()).digest()[:8]
    raw = np.random.default_rng(int.from_bytes(seed, "little")).normal(size=8)
    np.testing.assert_allclose(v[0], raw / np.linalg.norm(raw), atol=1e-6)
    # A client-side truncation (3 is not served) is the re-normalised prefix.
    t = planner.embed(items, dim=3)
    np.testing.assert_allclose(t, v[:, :3] / np.linalg.norm(v[:, :3], axis=1, keepdims=True))
    assert SENT == []


def test_counts_equal_plan_usage_unique_and_every_call() -> None:
    planner = PlanningEmbedder(FakeHosted("m"))
    a = [text_item("a", "alpha"), text_item("b", "beta!"), _image(1)]
    planner.embed(a)
    planner.embed([a[0], text_item("c", "gamma")])  # "a" again: a cache would serve it
    planner.embed([a[0]], purpose="query")  # another purpose: a new cache key
    ledger = planner.ledger
    every = units([*a, a[0], text_item("c", "gamma"), a[0]])
    unique = units([*a, text_item("c", "gamma"), a[0]])
    assert {k: ledger.every[k] for k in every} == every
    assert {k: ledger.unique[k] for k in unique} == unique
    assert ledger.repeats == 1
    assert ledger.items == {"text": {"index": 3, "query": 1}, "image": {"index": 1}}
    assert SENT == []


def test_served_size_goes_through_a_planning_sibling_sharing_the_ledger() -> None:
    planner = PlanningEmbedder(FakeHosted("m"))
    sibling = planner.at_dim(4)
    assert sibling is planner.at_dim(4) and sibling.ledger is planner.ledger
    assert sibling.dim == 4 and sibling.fingerprint != planner.fingerprint
    out = planner.embed([text_item("a", "alpha")], dim=4)
    assert out.shape == (1, 4)
    assert PLANNED == [("m", 1)]
    # The same item at the native size is a different cache key: counted again.
    planner.embed([text_item("a", "alpha")])
    assert planner.ledger.unique["requests"] == 2


def test_under_a_read_only_cache_hits_are_not_planned(tmp_path) -> None:
    real = CachedEmbedder(FakeHosted("m"), tmp_path / "c.sqlite")
    cached = [text_item("a", "alpha"), text_item("b", "beta")]
    real.embed(cached)
    assert len(SENT) == 2
    SENT.clear()
    planner = PlanningEmbedder(FakeHosted("m"))
    dry = CachedEmbedder(planner, tmp_path / "c.sqlite", read_only=True)
    dry.embed([*cached, text_item("c", "gamma")])
    assert dry.hits == 2 and planner.ledger.unique["requests"] == 1
    assert SENT == []
    assert find_planner(dry) is planner


def test_unsupported_modality_is_refused_like_a_real_run() -> None:
    planner = PlanningEmbedder(FakeHosted("t", text_only=True))
    with pytest.raises(BadItemsError, match="does not embed modality 'image'"):
        planner.embed([_image(1)])


def test_local_backend_is_counted_per_modality_and_never_called() -> None:
    planner = PlanningEmbedder(LocalLike())
    planner.embed([text_item("a", "alpha"), text_item("b", "beta")], purpose="query")
    plan = embedder_plan("st:x", LocalLike(), planner.ledger, cache=True, cache_hits=0)
    assert not plan.hosted and plan.note == LOCAL_NOTE
    assert plan.usage.requests == 0 and plan.items == {"text": {"query": 2}}
