"""Defenses: hubness detection, re-ranking, feature squeezing."""

from __future__ import annotations

import numpy as np
import pytest
from redteam_toys import smooth_images
from scipy import stats

from redteam.defenses import (
    CSLS,
    MutualProximity,
    SqueezeDetector,
    bit_depth_squeeze,
    detect_hubs,
    detection_auc,
    jpeg_squeeze,
    k_occurrence,
    robust_zscores,
)
from redteam.index import adversarial_hub
from redteam.metrics import ranks_of
from redteam.tensor import RetrievalHead, craft


@pytest.fixture(scope="module")
def hub(index_world) -> np.ndarray:
    w = index_world
    res = adversarial_hub(
        w.f, smooth_images(1, 32, seed=99), w.queries_train, w.queries_test, w.gallery,
        eps=16 / 255,
    )  # fmt: skip
    return res.embedding


def test_k_occurrence_and_robust_z_independently() -> None:
    rng = np.random.default_rng(0)
    index, queries = rng.standard_normal((20, 5)), rng.standard_normal((40, 5))
    nk = k_occurrence(index, queries, k=3)
    expected = np.zeros(20, int)
    for q in queries:
        s = index @ q / np.linalg.norm(index, axis=1)
        for j in sorted(range(20), key=lambda j: (-s[j], j))[:3]:
            expected[j] += 1
    assert np.array_equal(nk, expected) and nk.sum() == 120
    v = rng.standard_normal(50)
    mad = stats.median_abs_deviation(v, scale="normal")
    assert np.allclose(robust_zscores(v), (v - np.median(v)) / mad, rtol=1e-4)
    assert np.all(robust_zscores(np.ones(5)) == 0)


def test_hubness_detector_flags_the_planted_hub_only(index_world, hub) -> None:
    w = index_world
    clean = detect_hubs(w.gallery, w.queries_test, k=10)
    assert clean.flagged.size == 0
    attacked = detect_hubs(np.vstack([w.gallery, hub]), w.queries_test, k=10)
    assert attacked.flagged.tolist() == [len(w.gallery)]
    assert attacked.skewness > clean.skewness
    assert set(attacked.to_dict()) >= {"k_occurrence", "robust_z", "flagged"}
    # without probe queries, index items probe each other (a hub among images is not one)
    assert detect_hubs(w.gallery, k=10).k_occurrence.sum() == 10 * len(w.gallery)


def test_reranking_reduces_hub_occurrence_at_small_clean_cost(index_world, hub) -> None:
    w = index_world
    full = np.vstack([w.gallery, hub])
    base = k_occurrence(full, w.queries_test, k=10)[-1]
    r_cos = np.mean(ranks_of(w.queries_test @ w.gallery.T, w.relevant_test) < 10)
    for reranker in (CSLS(k=10), MutualProximity()):
        reranker.fit(full, w.queries_train)
        scores = reranker.scores(w.queries_test)
        assert k_occurrence(full, w.queries_test, k=10, scores=scores)[-1] < base
        clean = type(reranker)().fit(w.gallery, w.queries_train).scores(w.queries_test)
        assert np.mean(ranks_of(clean, w.relevant_test) < 10) >= r_cos - 0.05
    with pytest.raises(RuntimeError, match="fit"):
        CSLS().scores(w.queries_test)


def test_csls_formula() -> None:
    rng = np.random.default_rng(3)
    index, ref, q = (
        rng.standard_normal((6, 4)),
        rng.standard_normal((15, 4)),
        rng.standard_normal((2, 4)),
    )
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    cos_ref, cos_q = unit(ref) @ unit(index).T, unit(q) @ unit(index).T
    r_x = np.sort(cos_ref, axis=0)[-3:].mean(0)
    r_q = np.sort(cos_q, axis=1)[:, -3:].mean(1, keepdims=True)
    got = CSLS(k=3).fit(index, ref).scores(q)
    assert np.allclose(got, 2 * cos_q - r_x - r_q)


def test_squeezers() -> None:
    x = smooth_images(3, 16, seed=0).numpy()
    b = bit_depth_squeeze(x, bits=3)
    assert np.allclose(b * 7, np.round(b * 7)) and np.abs(b - x).max() <= 0.5 / 7 + 1e-6
    j = jpeg_squeeze(x, quality=90)
    assert j.shape == x.shape and np.abs(j - x).mean() < 0.05
    with pytest.raises(ValueError, match="quality"):
        jpeg_squeeze(x, quality=0)
    assert detection_auc([0, 1], [2, 3]) == 1.0 and detection_auc([1], [1]) == 0.5


def test_squeeze_detector_separates_adversarial_queries(query_world) -> None:
    w = query_world
    head = RetrievalHead(w.f, w.gallery, scale=20.0)
    adv = craft(head, w.x, np.arange(len(w.x)), attack="pgd", eps=8 / 255, steps=10)
    det = SqueezeDetector(w.f, fpr=0.1).fit(w.x[:12])
    clean_scores, adv_scores = det.scores(w.x[12:]), det.scores(adv[12:])
    auc = detection_auc(clean_scores, adv_scores)
    assert auc > 0.8, auc
    assert det.detect(adv[12:]).mean() > det.detect(w.x[12:]).mean()
