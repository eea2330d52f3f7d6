import hashlib

import numpy as np
import pytest

from audit.datasets import load_dataset
from audit.debias.fit import fit_debias
from audit.debias.report import save_projection
from audit.embedders import Embedder
from audit.embedders.base import BaseEmbedder
from audit.items import text_item
from audit.projection import ProjectedEmbedder, load_projection
from fairness.debias import CorrelationRemoverDebiaser, FairPCA


class PlantedEmbedder(BaseEmbedder):
    """Random vectors plus a shift along one direction for group 'b': a planted bias."""

    name = "planted"
    dim = 12
    modalities = frozenset({"text"})

    def __init__(self) -> None:
        super().__init__()
        self.progress = False
        d = np.random.default_rng(0).normal(size=self.dim)
        self.direction = d / np.linalg.norm(d)

    def _embed_batch(self, modality, items, purpose):
        out = []
        for it in items:
            seed = int.from_bytes(hashlib.sha256(it.read_bytes()).digest()[:8], "little")
            v = np.random.default_rng(seed).normal(size=self.dim)
            if it.attributes.get("group") == "b":
                v = v + 1.2 * self.direction
            out.append(v)
        return np.asarray(out)


def _items(n=200):
    return [text_item(f"i{i}", f"item {i}", group="ab"[i % 2]) for i in range(n)]


def test_projected_vectors_equal_manual_projection(hash_embedder):
    items = _items(60)
    X = hash_embedder.embed(items)
    labels = [it.attributes["group"] for it in items]
    fpca = FairPCA(8).fit(X, sensitive_features=labels)
    proj = ProjectedEmbedder(hash_embedder, fpca)
    assert isinstance(proj, Embedder) and proj.dim == 8
    Z = (X - fpca.mean_) @ fpca.components_.T
    manual = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    np.testing.assert_allclose(proj.embed(items), manual, atol=1e-5)
    # Matryoshka: the first 4 coordinates, re-normalised.
    m4 = Z[:, :4] / np.linalg.norm(Z[:, :4], axis=1, keepdims=True)
    np.testing.assert_allclose(proj.embed(items, dim=4), m4, atol=1e-5)
    # Group means of the linear projection are equal on the fit data.
    a, b = Z[np.array(labels) == "a"].mean(0), Z[np.array(labels) == "b"].mean(0)
    assert np.abs(a - b).max() < 1e-6


def test_refuses_group_dependent_and_mismatched_debiasers(hash_embedder):
    X = hash_embedder.embed(_items(40))
    labels = ["ab"[i % 2] for i in range(40)]
    cr = CorrelationRemoverDebiaser().fit(X, sensitive_features=labels)
    with pytest.raises(TypeError, match="transform time"):
        ProjectedEmbedder(hash_embedder, cr)
    small = FairPCA(3).fit(X[:, :8], sensitive_features=labels)
    with pytest.raises(ValueError, match="fitted on 8-d"):
        ProjectedEmbedder(hash_embedder, small)


def test_fit_debias_removes_planted_signal_and_round_trips(tmp_path):
    emb = PlantedEmbedder()
    items = _items(1000)
    debiaser, report = fit_debias(emb, items, attribute="group", sizes=[11, 6], seed=1)
    assert [s.size for s in report.sizes] == [11, 6]
    full = report.sizes[0]
    assert full.probe_accuracy_before > full.majority_rate + 0.15  # the planted signal
    # On unseen items only the fit's estimation error of the group-mean direction is left
    # (about d' = 0.1-0.2 here), so most of the probe's edge over the majority rate is gone.
    edge_before = full.probe_accuracy_before - full.majority_rate
    assert full.probe_accuracy_after - full.majority_rate < edge_before / 2
    for s in report.sizes:
        assert s.max_group_mean_gap_fit < 1e-10  # exact mean matching on the fit items
        assert 0 < s.variance_kept <= 1
    path = save_projection(debiaser, report, tmp_path / "proj.npz")
    loaded = load_projection(emb, path)
    direct = ProjectedEmbedder(emb, debiaser)
    np.testing.assert_allclose(loaded.embed(items[:10]), direct.embed(items[:10]), atol=1e-6)
    info = loaded.wrapper_info()["projection"]
    assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info["fit"]["attribute"] == "group" and info["kind"] == "FairPCA"


def test_fit_debias_validates_input(hash_embedder):
    with pytest.raises(ValueError, match="lack attribute"):
        fit_debias(hash_embedder, [text_item("x", "x")], attribute="gender")
    one_group = [text_item(f"i{i}", f"t{i}", group="a") for i in range(6)]
    with pytest.raises(ValueError, match="one value only"):
        fit_debias(hash_embedder, one_group, attribute="group")


def test_builtin_gendered_sentences_are_balanced():
    items = load_dataset("builtin:gendered-sentences").corpus
    genders = [it.attributes["gender"] for it in items]
    assert genders.count("female") == genders.count("male") > 0
    assert len({it.id for it in items}) == len(items)
