"""The fit report of ``audit fit-debias``: what it measures, how it prints, where it goes.

For each target size it answers "does the projection remove the group signal, and at
what cost?": the largest group-mean gap after projection (on the fit items, and on the
held-out probe items), a linear probe's accuracy at predicting the group (before, after,
and the majority rate) and the share of variance kept. The probe is trained and scored
(cross-validated) on items disjoint from the projection's fit items: exact mean matching
on the fit items would otherwise push cross-validated accuracy below chance and the
number would mean nothing.

The fit-side numbers come from the fit rows' statistics (mean, scatter, group means) and
the projection's affine map, so a streamed fit that never holds its rows measures them
the same way as a one-shot fit.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: Level of the interval around the held-out probe accuracy after debiasing.
PROBE_CI_LEVEL = 0.95


@dataclass
class SizeReport:
    """Fit-report numbers at one target size."""

    size: int
    max_group_mean_gap_fit: float
    max_group_mean_gap_probe: float
    probe_accuracy_before: float
    probe_accuracy_after: float
    majority_rate: float
    variance_kept: float
    #: Wilson interval (PROBE_CI_LEVEL) of ``probe_accuracy_after`` over the probe items.
    probe_accuracy_after_ci: tuple[float, float] | None = None
    #: Set when the group is still predictable after debiasing (see :func:`leak_warning`).
    warning: str | None = None


@dataclass
class FitReport:
    """What `audit fit-debias` prints and writes next to the projection (``.fit.json``)."""

    method: str
    dataset: str
    attribute: str
    embedder: str
    n_fit: int
    n_probe: int
    groups: dict[str, int]
    n_components: int
    seed: int
    sizes: list[SizeReport] = field(default_factory=list)
    #: Streaming fits: chunk size, chunks, rows read and left out, probe cap.
    streaming: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _project(debiaser: Any, X: np.ndarray, size: int) -> np.ndarray:
    """As ProjectedEmbedder does: transform, keep ``size`` coordinates, re-normalise."""
    Z = np.asarray(debiaser.transform(X), dtype=np.float64)[:, :size]
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


def _max_mean_gap(Z: np.ndarray, labels: np.ndarray) -> float:
    means = np.stack([Z[labels == g].mean(0) for g in np.unique(labels)])
    diffs = means[:, None, :] - means[None, :, :]
    return float(np.linalg.norm(diffs, axis=-1).max())


def _probe_accuracy(Z: np.ndarray, labels: np.ndarray, seed: int) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    folds = int(min(5, np.unique(labels, return_counts=True)[1].min()))
    if folds < 2:
        raise ValueError("each group needs at least 2 probe items for a cross-validated probe")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    clf = LogisticRegression(max_iter=2000)
    return float(cross_val_score(clf, Z, labels, cv=cv, scoring="accuracy").mean())


def accuracy_ci(accuracy: float, n: int, level: float = PROBE_CI_LEVEL) -> tuple[float, float]:
    """Wilson interval of a cross-validated accuracy over ``n`` items (scipy's binomtest).

    Each probe item is predicted once across the folds, so ``round(accuracy * n)`` items
    were right (exact when the folds have equal sizes, within one item otherwise).
    """
    from scipy.stats import binomtest

    k = round(accuracy * n)
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def leak_warning(s: SizeReport, n_probe: int) -> str | None:
    """A warning when the held-out probe still predicts the group after debiasing.

    The rule: the whole interval of the after-debiasing accuracy lies above the majority
    rate (what always guessing the largest group scores), i.e. the projection left group
    information a linear probe recovers beyond chance at this sample size.
    """
    if s.probe_accuracy_after_ci is None or s.probe_accuracy_after_ci[0] <= s.majority_rate:
        return None
    lo, hi = s.probe_accuracy_after_ci
    return (
        f"size {s.size}: the held-out probe still predicts the group after debiasing: "
        f"accuracy {s.probe_accuracy_after:.3f} ({PROBE_CI_LEVEL:.0%} CI [{lo:.3f}, {hi:.3f}], "
        f"n={n_probe}) vs majority rate {s.majority_rate:.3f}; the projection leaves group "
        "information a linear classifier recovers"
    )


def measure_sizes(
    debiaser: Any,
    *,
    scatter: np.ndarray,
    group_means: np.ndarray,
    probe_X: np.ndarray,
    probe_y: np.ndarray,
    sizes: list[int] | None,
    seed: int,
) -> tuple[int, list[SizeReport]]:
    """The projection's output size and its report at each target size.

    Parameters
    ----------
    debiaser : fitted affine estimator
        ``transform(X) = X @ A + b`` (every projection method is).
    scatter : ndarray of shape (d, d)
        Centred scatter of the fit rows.
    group_means : ndarray of shape (n_groups, d)
        Mean fit row of each group.
    probe_X, probe_y : ndarray
        The held-out rows and their groups, in the split's probe order (the probe's
        cross-validation folds depend on it).
    sizes : list of int, optional
        Target sizes; those above the output size are left out (none left: the output size).
    seed : int
        Seed of the probe's folds.
    """
    d = scatter.shape[0]
    b = np.asarray(debiaser.transform(np.zeros((1, d))), dtype=np.float64)[0]
    A = np.asarray(debiaser.transform(np.eye(d)), dtype=np.float64) - b
    out_dim = A.shape[1]
    majority = float(np.unique(probe_y, return_counts=True)[1].max() / len(probe_y))
    chosen = sorted({s for s in (sizes or [out_dim]) if s <= out_dim} or {out_dim}, reverse=True)
    reports = []
    for size in chosen:
        A_s = A[:, :size]
        gm = group_means @ A_s
        gaps = np.linalg.norm(gm[:, None, :] - gm[None, :, :], axis=-1)
        raw_k = probe_X[:, : min(size, d)]
        raw_k = raw_k / np.linalg.norm(raw_k, axis=1, keepdims=True)
        after = _project(debiaser, probe_X, size)
        reports.append(
            SizeReport(
                size=size,
                # Gap of the linear projection on its own fit data: ~1e-12 for mean matching.
                max_group_mean_gap_fit=float(gaps.max()),
                # Gap of the deployed (re-normalised) vectors on unseen items.
                max_group_mean_gap_probe=_max_mean_gap(after, probe_y),
                probe_accuracy_before=_probe_accuracy(raw_k, probe_y, seed),
                probe_accuracy_after=_probe_accuracy(after, probe_y, seed),
                majority_rate=majority,
                variance_kept=float(np.trace(A_s.T @ scatter @ A_s) / np.trace(scatter)),
            )
        )
        rep = reports[-1]
        rep.probe_accuracy_after_ci = accuracy_ci(rep.probe_accuracy_after, len(probe_y))
        rep.warning = leak_warning(rep, len(probe_y))
        if rep.warning:
            log.warning("fit-debias: %s", rep.warning)
    return out_dim, reports


def save_projection(debiaser: Any, report: FitReport, path: str | Path) -> Path:
    """Save the estimator (.npz/.safetensors, no pickle) and its ``.fit.json`` sidecar."""
    path = Path(debiaser.save(path))
    side = path.with_suffix(path.suffix + ".fit.json")
    side.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def format_fit_report(report: FitReport) -> str:
    """The table `audit fit-debias` prints."""
    from audit.summary import format_table

    rows = [
        [
            str(s.size),
            f"{s.max_group_mean_gap_fit:.1e}",
            f"{s.max_group_mean_gap_probe:.3f}",
            f"{s.probe_accuracy_before:.3f}",
            f"{s.probe_accuracy_after:.3f}",
            f"{s.majority_rate:.3f}",
            f"{s.variance_kept:.3f}",
        ]
        for s in report.sizes
    ]
    header = ["size", "gap(fit)", "gap(probe)", "probe acc before", "after", "majority", "var kept"]
    head = (
        f"{report.method} on {report.dataset} by {report.attribute}: "
        f"{report.n_fit} fit / {report.n_probe} probe items, groups {report.groups}"
    )
    warnings = [f"WARNING: {s.warning}" for s in report.sizes if s.warning]
    return "\n".join([head, format_table(rows, header), *warnings])
