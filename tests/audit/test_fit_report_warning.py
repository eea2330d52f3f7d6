"""`audit fit-debias` warns when the held-out probe still predicts the group (issue 18)."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from audit.debias.report import (
    FitReport,
    SizeReport,
    accuracy_ci,
    format_fit_report,
    leak_warning,
    measure_sizes,
)


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    # Wilson score interval written out (Wilson 1927), independent of scipy.
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("acc", "n"), [(0.757, 74), (0.5, 40), (1.0, 12)])
def test_accuracy_ci_is_the_wilson_interval(acc, n):
    k = round(acc * n)
    assert accuracy_ci(acc, n) == pytest.approx(_wilson(k, n), abs=1e-9)


def _size(after: float, majority: float, n: int) -> SizeReport:
    s = SizeReport(
        size=8,
        max_group_mean_gap_fit=0.0,
        max_group_mean_gap_probe=0.1,
        probe_accuracy_before=0.95,
        probe_accuracy_after=after,
        majority_rate=majority,
        variance_kept=0.9,
    )
    s.probe_accuracy_after_ci = accuracy_ci(after, n)
    return s


def test_warning_names_accuracy_majority_and_ci_only_beyond_chance():
    # The case: 0.757 after debiasing vs majority 0.50 on 74 probe items; the
    # Wilson interval (by hand above) starts near 0.65 > 0.50: a leak.
    s = _size(0.757, 0.5, 74)
    lo, hi = _wilson(56, 74)
    msg = leak_warning(s, 74)
    assert msg is not None and lo > 0.5
    assert "0.757" in msg and "majority rate 0.500" in msg and f"[{lo:.3f}, {hi:.3f}]" in msg
    # 0.58 on 40 items: the interval reaches 0.5 (sampling noise), no warning.
    assert _wilson(23, 40)[0] < 0.5 and leak_warning(_size(0.58, 0.5, 40), 40) is None


class _Identity:
    """A 'projection' that removes nothing: the group stays predictable."""

    def transform(self, X):
        return np.asarray(X, dtype=np.float64)


def test_measure_sizes_warns_and_logs_when_the_group_leaks(caplog):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 40)
    X = rng.normal(size=(80, 6))
    X[:, 0] += np.where(y == 1, 3.0, -3.0)  # a strong group direction the identity keeps
    scatter = np.cov(X.T) * (len(X) - 1)
    means = np.stack([X[y == g].mean(0) for g in (0, 1)])
    with caplog.at_level(logging.WARNING, logger="audit.debias.report"):
        _, reports = measure_sizes(
            _Identity(), scatter=scatter, group_means=means, probe_X=X, probe_y=y,
            sizes=None, seed=0,
        )  # fmt: skip
    (rep,) = reports
    assert rep.probe_accuracy_after > 0.9 and rep.majority_rate == 0.5
    assert rep.probe_accuracy_after_ci == pytest.approx(
        _wilson(round(rep.probe_accuracy_after * 80), 80), abs=1e-9
    )
    assert rep.warning is not None and "still predicts the group" in caplog.text
    report = FitReport(
        method="identity", dataset="synthetic", attribute="g", embedder="none", n_fit=0,
        n_probe=80, groups={"0": 40, "1": 40}, n_components=0, seed=0, sizes=reports,
    )  # fmt: skip
    text = format_fit_report(report)
    assert "WARNING: size 6: the held-out probe still predicts the group" in text
    assert report.to_dict()["sizes"][0]["warning"] == rep.warning
