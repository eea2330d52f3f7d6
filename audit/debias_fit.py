"""`audit fit-debias`: fit a debiasing projection on embeddings of a grouped dataset.

The fit report answers "does it remove the group signal, and at what cost?" for each
target size: the largest group-mean gap after projection, a linear probe's accuracy at
predicting the group (before, after, and the majority rate) and the share of variance
kept. The probe is trained and scored (cross-validated) on items disjoint from the
projection's fit items: exact mean matching on the fit items would otherwise push
cross-validated accuracy below chance and the number would mean nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audit.embedders.base import Embedder
from audit.items import Item, text_item

log = logging.getLogger(__name__)

METHODS = ("fairpca", "fairpca-cov", "pca", "leace")

# Definitional gender pairs of Bolukbasi et al., "Man is to Computer Programmer as Woman is
# to Homemaker?", NeurIPS 2016 (their definitional_pairs.json), used with the bleached SEAT
# templates of May et al. 2019 to make gendered sentences that carry no other content.
GENDER_PAIRS = (
    ("she", "he"), ("her", "his"), ("woman", "man"), ("Mary", "John"),
    ("herself", "himself"), ("daughter", "son"), ("mother", "father"), ("gal", "guy"),
    ("girl", "boy"), ("female", "male"),
)  # fmt: skip


def gendered_sentences() -> list[Item]:
    """Built-in fit set ``builtin:gendered-sentences``: SEAT templates x gender pairs."""
    from fairness.probes import seat_sentences

    items: list[Item] = []
    for female, male in GENDER_PAIRS:
        for gender, word in (("female", female), ("male", male)):
            for i, sent in enumerate(seat_sentences([word])):
                items.append(text_item(f"{gender}/{word}/{i}", sent, gender=gender, word=word))
    return items


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_debiaser(method: str, n_components: int | None) -> Any:
    """The estimator a method name stands for."""
    from fairness.debias import LEACE, FairPCA, PCADebiaser

    if method == "fairpca":
        return FairPCA(n_components, constraint="mean")
    if method == "fairpca-cov":
        return FairPCA(n_components, constraint="covariance")
    if method == "pca":
        return PCADebiaser(n_components)
    if method == "leace":
        return LEACE()
    raise ValueError(f"unknown method {method!r}; use one of {METHODS}")


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


def fit_debias(
    embedder: Embedder,
    items: list[Item],
    *,
    attribute: str,
    method: str = "fairpca",
    n_components: int | None = None,
    sizes: list[int] | None = None,
    probe_fraction: float = 0.5,
    seed: int = 0,
    dataset_name: str = "",
) -> tuple[Any, FitReport]:
    """Fit a debiaser on a disjoint split and measure it on the other split.

    Returns
    -------
    (debiaser, report)
        The fitted estimator (save it with ``.save(path)``) and the fit report.
    """
    from sklearn.model_selection import train_test_split

    missing = [it.id for it in items if attribute not in it.attributes]
    if missing:
        raise ValueError(
            f"{len(missing)} item(s) lack attribute {attribute!r}, e.g. {missing[:5]}"
        )
    if not 0 < probe_fraction < 1:
        raise ValueError(f"probe_fraction must be in (0, 1), got {probe_fraction}")
    labels = np.asarray([str(it.attributes[attribute]) for it in items])
    groups, counts = np.unique(labels, return_counts=True)
    if len(groups) < 2:
        raise ValueError(f"attribute {attribute!r} has one value only: {groups.tolist()}")
    X = embedder.embed(items, purpose="index").astype(np.float64)
    fit_idx, probe_idx = train_test_split(
        np.arange(len(items)), test_size=probe_fraction, stratify=labels, random_state=seed
    )
    debiaser = make_debiaser(method, n_components)
    debiaser.fit(X[fit_idx], sensitive_features=labels[fit_idx])
    out_dim = int(np.asarray(debiaser.transform(X[:1])).shape[1])
    sizes = sorted({s for s in (sizes or [out_dim]) if s <= out_dim} or {out_dim}, reverse=True)
    centred = X[fit_idx] - X[fit_idx].mean(0)
    total_var = float((centred**2).sum())
    report = FitReport(
        method=method,
        dataset=dataset_name,
        attribute=attribute,
        embedder=getattr(embedder, "fingerprint", embedder.name),
        n_fit=len(fit_idx),
        n_probe=len(probe_idx),
        groups={str(g): int(c) for g, c in zip(groups, counts, strict=True)},
        n_components=out_dim,
        seed=seed,
    )
    majority = float(np.unique(labels[probe_idx], return_counts=True)[1].max() / len(probe_idx))
    for size in sizes:
        raw_k = X[:, : min(size, X.shape[1])]
        raw_k = raw_k / np.linalg.norm(raw_k, axis=1, keepdims=True)
        Zfit = np.asarray(debiaser.transform(X[fit_idx]), dtype=np.float64)[:, :size]
        Zc = Zfit - Zfit.mean(0)
        report.sizes.append(
            SizeReport(
                size=size,
                # Gap of the linear projection on its own fit data: ~1e-12 for mean matching.
                max_group_mean_gap_fit=_max_mean_gap(Zfit, labels[fit_idx]),
                # Gap of the deployed (re-normalised) vectors on unseen items.
                max_group_mean_gap_probe=_max_mean_gap(
                    _project(debiaser, X[probe_idx], size), labels[probe_idx]
                ),
                probe_accuracy_before=_probe_accuracy(raw_k[probe_idx], labels[probe_idx], seed),
                probe_accuracy_after=_probe_accuracy(
                    _project(debiaser, X[probe_idx], size), labels[probe_idx], seed
                ),
                majority_rate=majority,
                variance_kept=float((Zc**2).sum() / total_var),
            )
        )
    return debiaser, report


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
    return head + "\n" + format_table(rows, header)
