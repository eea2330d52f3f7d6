"""Embedding-space concept check and its split-conformal calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from safety_fakes import TableEmbedder

from audit.items import text_item
from audit.safety import ConceptChecker, conformal_threshold

TABLE = {
    "violent scene": [1.0, 0.0, 0.0],
    "gore": [0.0, 1.0, 0.0],
    "a knife fight": [0.6, 0.8, 0.0],  # cos 0.6 to the first description, 0.8 to the second
    "a picnic": [0.28, 0.0, 0.96],  # cos 0.28, 0.0
}


def test_similarity_is_the_max_cosine_to_the_descriptions():
    emb = TableEmbedder(TABLE)
    checker = ConceptChecker(emb, {"violence": ["violent scene", "gore"]}, 0.7)
    fight, picnic = checker.similarities(
        [text_item("f", "a knife fight"), text_item("p", "a picnic")]
    )
    assert fight[0] == pytest.approx(0.8) and picnic[0] == pytest.approx(0.28)
    assert not checker.check(text_item("f", "a knife fight")).allowed
    d = checker.check(text_item("p", "a picnic"))
    assert d.allowed and d.score == pytest.approx(0.28)
    assert "a picnic" not in d.reason


def test_conformal_threshold_by_hand():
    scores = np.arange(1, 20, dtype=float)  # n = 19
    t = conformal_threshold(scores, 0.1)  # k = ceil(20 * 0.9) = 18: just above 18
    assert 18 < t < 18 + 1e-9
    assert conformal_threshold(scores, 0.01) == math.inf  # k = 20 > n
    with pytest.raises(ValueError):
        conformal_threshold(scores, 0.0)


def test_conformal_threshold_keeps_its_promise_out_of_sample():
    """Averaged over many calibration draws, fresh benign scores exceed the threshold at
    most at the target rate (exactly 1 - k/(n+1) for continuous scores)."""
    rng = np.random.default_rng(0)
    n, alpha, reps = 49, 0.1, 4000
    calib = rng.normal(size=(reps, n))
    fresh = rng.normal(size=reps)
    exceed = [fresh[r] >= conformal_threshold(calib[r], alpha) for r in range(reps)]
    expected = 1 - math.ceil((n + 1) * (1 - alpha)) / (n + 1)  # = 0.1
    assert abs(np.mean(exceed) - expected) < 0.015


def test_calibration_is_per_modality_and_keeps_other_thresholds():
    emb = TableEmbedder(TABLE)
    checker = ConceptChecker(
        emb, {"c": ["gore"]}, {"c": {"*": 0.9, "image": 0.3}}, modalities=["text"]
    )
    benign = [text_item(f"b{i}", "a picnic") for i in range(30)]  # all score 0.0
    thresholds = checker.calibrate(benign, target_fpr=0.1)
    assert thresholds["c"]["image"] == 0.3 and thresholds["c"]["*"] == 0.9
    assert 0.0 < thresholds["c"]["text"] < 1e-6
    assert checker.calibration == {"n": {"text": 30}, "target_fpr": 0.1}
    assert not checker.check(text_item("x", "a knife fight")).allowed  # cos 0.8 > ~0


def test_bad_configuration_is_rejected():
    emb = TableEmbedder(TABLE)
    with pytest.raises(ValueError, match="at least one description"):
        ConceptChecker(emb, {"c": []})
    with pytest.raises(ValueError, match="no threshold"):
        ConceptChecker(emb, {"c": ["gore"]}, {"d": 0.5})
    with pytest.raises(ValueError, match="'\\*' entry"):
        ConceptChecker(emb, {"c": ["gore"]}, {"c": {"text": 0.5}})
