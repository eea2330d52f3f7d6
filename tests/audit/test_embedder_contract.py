"""The explicit Embedder contract: the Protocol, the optional abilities, and the wrapper
base's chain()/unwrap() on a pipeline composed by build_pipeline."""

from __future__ import annotations

import hashlib
import itertools
import json

import numpy as np
import pytest
from fakes import HashEmbedder, register_embedder

from audit.cache import CachedEmbedder
from audit.embedders import (
    BaseEmbedder,
    Describable,
    Embedder,
    EmbedderWrapper,
    SupportsAtDim,
    SupportsDifferentiable,
    SupportsServedDims,
    SupportsUsagePlanning,
    chain,
    served_dims_of,
    unwrap,
)
from audit.items import text_item
from audit.pipeline import build_pipeline, wrappers_info
from audit.projection import ProjectedEmbedder
from audit.safety import BlockedItemsError, SafeEmbedder
from audit.usage import PlanningEmbedder
from fairness.debias import FairPCA

POLICY = '[categories]\noffensive-term = "block"\n[checkers.terms]\nterms = ["zorkword"]\n'


def _items(n: int = 12) -> list:
    return [text_item(f"t{i}", f"sentence number {i}", group="ab"[i % 2]) for i in range(n)]


@pytest.fixture
def composed(tmp_path, monkeypatch):
    """A real pipeline: safety(projection(cache(hash backend))) and safety(cache(backend))."""
    spec = register_embedder(monkeypatch, "hash-contract", HashEmbedder)
    items = _items(40)
    X = HashEmbedder().embed(items)
    fpca = FairPCA(6).fit(X, sensitive_features=[it.attributes["group"] for it in items])
    proj_path = fpca.save(tmp_path / "proj.npz")
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    return build_pipeline(
        spec,
        cache_path=tmp_path / "cache.sqlite",
        projection_path=proj_path,
        safety_policy=policy,
        run_dir=tmp_path / "run",
        progress=False,
    )


def test_chain_and_unwrap_walk_a_built_pipeline(composed) -> None:
    deployed = composed.deployed
    layers = chain(deployed)
    assert [type(layer) for layer in layers] == [
        SafeEmbedder,
        ProjectedEmbedder,
        CachedEmbedder,
        HashEmbedder,
    ]
    assert layers == deployed.chain()
    # Each layer wraps the next one: the chain is the composition, outside in.
    assert all(outer.base is inner for outer, inner in itertools.pairwise(layers))
    backend = layers[-1]
    assert backend is composed.base and unwrap(deployed) is backend
    assert deployed.unwrap(CachedEmbedder) is layers[2]
    assert unwrap(deployed, ProjectedEmbedder) is layers[1]
    assert unwrap(composed.variants["raw"], ProjectedEmbedder) is None
    assert chain(backend) == [backend] and unwrap(backend) is backend
    # A Protocol works as a kind: the first layer with the ability.
    assert unwrap(deployed, SupportsDifferentiable) is backend


def test_wrappers_forward_identity_and_the_cache_key(composed) -> None:
    safe, proj, cache, backend = chain(composed.deployed)
    blob = json.dumps({"name": "hash", "params": {"dim": 16}, "weights": {}}, sort_keys=True)
    want = f"hash@{hashlib.sha256(blob.encode()).hexdigest()[:16]}"
    assert backend.fingerprint == want  # BaseEmbedder's default, byte for byte (cache keys)
    assert safe.fingerprint == proj.fingerprint == f"{want}+proj@{proj.source_sha256[:16]}"
    assert cache.fingerprint == want
    assert (cache.name, cache.dim, cache.modalities) == ("hash", 16, backend.modalities)
    assert (safe.name, safe.dim) == ("hash+FairPCA", 6) == (proj.name, proj.dim)
    assert safe.describe() == proj.describe() == backend.describe()


def test_the_chain_embeds_what_each_layer_computes(composed) -> None:
    safe, proj, cache, backend = chain(composed.deployed)
    items = _items(6)
    raw = HashEmbedder().embed(items)  # a fresh backend: the vectors another way
    z = proj.debiaser.transform(raw.astype(np.float64))
    want = z / np.linalg.norm(z, axis=1, keepdims=True)
    np.testing.assert_allclose(safe.embed(items), want, atol=1e-5)
    assert (cache.hits, cache.misses) == (0, 6) and len(backend.calls) == 6
    np.testing.assert_allclose(composed.variants["raw"].embed(items), raw, atol=1e-6)
    assert (cache.hits, cache.misses) == (6, 6) and len(backend.calls) == 6
    with pytest.raises(BlockedItemsError):
        safe.embed([text_item("bad", "a zorkword here")])
    info = wrappers_info(composed.deployed)
    assert info.cache == {"path": str(cache.store.path), "hits": 6, "misses": 6}
    assert info.projection["n_components"] == 6 and info.safety is not None


def test_a_wrapper_forwards_nothing_implicitly(composed) -> None:
    safe = composed.deployed
    with pytest.raises(AttributeError, match=r"does not pass 'hits'.*unwrap"):
        _ = safe.hits  # the cache's counter: reach the cache with unwrap()
    with pytest.raises(AttributeError, match="does not pass 'differentiable'"):
        _ = safe.differentiable
    assert not isinstance(safe, SupportsDifferentiable)


class _NoFingerprint:
    name = "nofp"
    modalities = frozenset({"text"})
    dim = 4
    matryoshka_dims = ()

    def embed(self, items, *, purpose="index", dim=None):  # type: ignore[no-untyped-def]
        return np.ones((len(items), 4), dtype=np.float32) / 2


class _WithFingerprint(_NoFingerprint):
    fingerprint = "nofp@1"


def test_protocols_are_checked_at_runtime() -> None:
    assert not isinstance(_NoFingerprint(), Embedder)
    assert isinstance(_WithFingerprint(), Embedder)
    with pytest.raises(TypeError, match=r"wraps an Embedder.*fingerprint.*_NoFingerprint"):
        CachedEmbedder(_NoFingerprint(), "unused.sqlite")  # type: ignore[arg-type]
    hashed = HashEmbedder()
    assert isinstance(hashed, Describable) and isinstance(hashed, SupportsDifferentiable)
    assert not isinstance(hashed, SupportsServedDims) and not isinstance(hashed, SupportsAtDim)
    assert not isinstance(hashed, SupportsUsagePlanning) and served_dims_of(hashed) == ()
    assert not isinstance(_WithFingerprint(), Describable)


class _Served(HashEmbedder):
    """Serves 8-d vectors itself (different from truncation), with an 8-d sibling."""

    served_dims = (8,)

    def at_dim(self, dim: int) -> HashEmbedder:
        sibling = HashEmbedder(dim=dim)
        sibling.name = "served-sibling"
        return sibling


def test_served_sizes_are_found_through_the_chain_and_keyed_apart(tmp_path) -> None:
    backend = _Served()
    cache = CachedEmbedder(backend, tmp_path / "c.sqlite")
    assert isinstance(backend, SupportsServedDims) and isinstance(backend, SupportsAtDim)
    assert served_dims_of(cache) == (8,) == cache.served_dims
    items = _items(3)
    np.testing.assert_allclose(cache.embed(items, dim=8), HashEmbedder(dim=8).embed(items))
    # The sibling's own fingerprint keys the 8-d rows: the 16-d ones are not served for them.
    assert cache.store.count() == 3 and cache.misses == 3
    cache.embed(items)
    assert cache.store.count() == 6 and cache.misses == 6


def test_planner_is_terminal_and_passes_on_only_what_sends_nothing(tmp_path) -> None:
    backend = HashEmbedder()
    planner = PlanningEmbedder(backend)
    dry = CachedEmbedder(planner, tmp_path / "c.sqlite", read_only=True)
    assert chain(dry) == [dry, planner] and unwrap(dry) is planner
    assert planner.backend is backend and planner.fingerprint == backend.fingerprint
    assert planner.limits == backend.limits
    assert not planner.ledger.hosted  # the hash backend has no plan_usage
    dry.embed(_items(4))
    assert backend.calls == []


def test_every_wrapper_of_the_project_is_an_embedder_wrapper() -> None:
    from audit.engines._ray import RayEngineEmbedder

    for cls in (CachedEmbedder, ProjectedEmbedder, SafeEmbedder, PlanningEmbedder):
        assert issubclass(cls, EmbedderWrapper)
    assert issubclass(RayEngineEmbedder, EmbedderWrapper)
    assert not issubclass(BaseEmbedder, EmbedderWrapper)
