"""Rates, Wilson intervals and confusion counts against hand-computed values."""

from __future__ import annotations

import pytest

from audit.safety._metrics import confusion, wilson


def test_wilson_interval_by_hand():
    r = wilson(0, 10)  # upper bound z^2 / (n + z^2) with z = 1.959964
    z2 = 1.959964**2
    assert (r.value, r.ci_low) == (0.0, 0.0)
    assert r.ci_high == pytest.approx(z2 / (10 + z2), abs=1e-6)
    half = wilson(5, 10)  # symmetric around 0.5: 0.5 +- z*sqrt(0.025 + z^2/400)/(1 + z^2/10)
    z = 1.959964
    w = z * (0.025 + z * z / 400) ** 0.5 / (1 + z * z / 10)
    assert half.ci_low == pytest.approx(0.5 - w, abs=1e-6)
    assert half.ci_high == pytest.approx(0.5 + w, abs=1e-6)
    assert wilson(10, 10).ci_high == 1.0
    assert wilson(0, 0).value is None
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_confusion_counts_and_scores():
    truth = [1, 1, 1, 0, 0, 0, 0]
    pred = [1, 1, 0, 1, 0, 0, 0]
    c = confusion(truth, pred)
    assert c.as_dict() == {"tp": 2, "fp": 1, "fn": 1, "tn": 3}
    assert c.precision == pytest.approx(2 / 3) and c.recall.value == pytest.approx(2 / 3)
    assert c.f1 == pytest.approx(2 / 3) and c.fpr.value == pytest.approx(1 / 4)
    assert confusion([0, 0], [0, 0]).precision is None
    with pytest.raises(ValueError):
        confusion([1], [1, 0])
