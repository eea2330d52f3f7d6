"""Attribute inference: how well a linear probe reads a sensitive attribute out of embeddings.

The threat: whoever holds the vectors and a few labelled examples trains a linear classifier
and labels every other vector (Bolukbasi et al. 2016 and Ravfogel et al. 2020 use such
probes to show what an embedding encodes). :func:`probe_attribute` measures it with
out-of-fold predictions of a cross-validated logistic regression; :class:`ProbeScore` holds
the numbers a suite stores. ``_erasure`` reuses the scoring for held-out checks.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import binomtest, rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, permutation_test_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["ProbeScore", "probe_attribute"]


@dataclass(frozen=True)
class ProbeScore:
    """How well a linear probe predicts one attribute; every rate on the scored items.

    Attributes
    ----------
    attribute : str
        The attribute's name (as the caller gave it).
    method : str
        ``"cv-<k>"`` (out-of-fold predictions of ``k``-fold stratified cross-validation)
        or ``"holdout"`` (a probe fitted on one split, scored on the other).
    n : int
        Items scored (classes left out and items with a missing label not counted).
    classes : tuple of str
        The classes scored, sorted; ``n_per_class`` and the recalls follow this order.
    n_per_class : tuple of int
        Items of each class.
    recall_per_class, recall_ci_per_class
        Share of each class's items predicted as that class, with its Wilson interval.
    excluded : tuple of (str, int)
        Classes left out for having too few items (fewer than the folds), with their counts.
    n_missing : int
        Items whose label was missing (``None``, NaN or ``""``), left out.
    balanced_accuracy, balanced_accuracy_ci
        Mean per-class recall (chance ``1 / k`` whatever the class sizes), with a
        percentile-bootstrap interval (items resampled within each class).
    accuracy, accuracy_ci
        Share of items predicted right, with its Wilson interval; compare it with
        ``majority_rate``.
    roc_auc, roc_auc_ci
        ROC AUC of the predicted probabilities (macro one-vs-rest over ``k > 2`` classes;
        chance 0.5), with a percentile-bootstrap interval (within-class resampling).
    majority_rate : float
        Share of the largest class: the accuracy of always guessing it.
    chance : float
        ``1 / k``: the balanced accuracy of any guess that ignores the embedding.
    p_value : float
        Permutation p-value of the balanced accuracy against chance (one-sided, labels
        shuffled ``n_permutations`` times; ``(1 + #{null >= observed}) / (1 + B)``).
    n_permutations : int
        Label shuffles behind ``p_value``.
    confidence : float
        Level of every interval (0.95 by default).
    """

    attribute: str
    method: str
    n: int
    classes: tuple[str, ...]
    n_per_class: tuple[int, ...]
    recall_per_class: tuple[float, ...]
    recall_ci_per_class: tuple[tuple[float, float], ...]
    excluded: tuple[tuple[str, int], ...]
    n_missing: int
    balanced_accuracy: float
    balanced_accuracy_ci: tuple[float, float]
    accuracy: float
    accuracy_ci: tuple[float, float]
    roc_auc: float
    roc_auc_ci: tuple[float, float]
    majority_rate: float
    chance: float
    p_value: float
    n_permutations: int
    confidence: float


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v == ""
    return isinstance(v, float | np.floating) and math.isnan(v)


def check_embeddings(X: Any, n_labels: int | None = None, name: str = "X") -> np.ndarray:
    """``X`` as a finite 2-D float array, with a clear error otherwise."""
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (items x dims), got shape {arr.shape}")
    if n_labels is not None and arr.shape[0] != n_labels:
        raise ValueError(f"{name} has {arr.shape[0]} rows but {n_labels} labels were given")
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if bad.size:
        raise ValueError(f"{name} row {int(bad[0])} holds NaN or inf ({bad.size} such rows)")
    return arr


def labels_as_str(y: Sequence[Any]) -> tuple[np.ndarray, int]:
    """Labels as an object array of str (``None`` where missing) and the count missing."""
    out = np.array([None if _is_missing(v) else str(v) for v in y], dtype=object)
    return out, int(sum(v is None for v in out))


def resample_scores(codes: np.ndarray, proba: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Balanced accuracy and ROC AUC of each resample ``idx[b]``; shape ``(B, 2)``.

    Vectorised over resamples because scikit-learn's per-call checks cost milliseconds,
    which a thousand resamples turn into seconds. The AUC is the Mann-Whitney form,
    ``(rank sum of positives - n1 (n1 + 1) / 2) / (n1 n0)`` with average ranks for ties,
    per class against the rest and averaged: what ``roc_auc_score`` computes (binary on
    ``proba[:, 1]``; ``multi_class="ovr", average="macro"`` otherwise). Tests compare the two.
    """
    k = proba.shape[1]
    c = codes[idx]  # (B, n)
    right = (proba.argmax(axis=1) == codes)[idx]
    ba = np.mean([right.sum(axis=1, where=c == j) / (c == j).sum(axis=1) for j in range(k)], axis=0)
    aucs = []
    for j in range(1 if k == 2 else 0, k):
        pos = c == j
        n1 = pos.sum(axis=1)
        n0 = c.shape[1] - n1
        ranks = rankdata(proba[idx, j], axis=1)
        aucs.append(((ranks * pos).sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0))
    return np.column_stack([ba, np.mean(aucs, axis=0)])


def bootstrap_scores(
    codes: np.ndarray,
    proba: np.ndarray,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Percentile-bootstrap intervals of balanced accuracy and ROC AUC.

    Items are resampled within each class so every resample has every class with its
    observed count: the AUC is always defined and the class balance is the one measured.
    """
    by_class = [np.flatnonzero(codes == c) for c in range(proba.shape[1])]
    # Chunks of resamples keep the (chunk, n) index arrays near a few MB.
    chunk = max(1, 2_000_000 // codes.size)
    out = []
    for start in range(0, n_bootstrap, chunk):
        b = min(chunk, n_bootstrap - start)
        idx = np.concatenate([ix[rng.integers(0, ix.size, (b, ix.size))] for ix in by_class], 1)
        out.append(resample_scores(codes, proba, idx))
    scores = np.concatenate(out)
    q = [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2]
    (ba_lo, auc_lo), (ba_hi, auc_hi) = np.percentile(scores, q, axis=0)
    return (float(ba_lo), float(ba_hi)), (float(auc_lo), float(auc_hi))


def _ba_auc(codes: np.ndarray, proba: np.ndarray) -> tuple[float, float]:
    ba = balanced_accuracy_score(codes, proba.argmax(axis=1))
    if proba.shape[1] == 2:
        auc = roc_auc_score(codes, proba[:, 1])
    else:
        auc = roc_auc_score(codes, proba, multi_class="ovr", average="macro")
    return float(ba), float(auc)


def wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of ``k / n`` (scipy's binomtest)."""
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def score_predictions(
    attribute: str,
    method: str,
    codes: np.ndarray,
    classes: Sequence[str],
    proba: np.ndarray,
    *,
    excluded: tuple[tuple[str, int], ...],
    n_missing: int,
    p_value: float,
    n_permutations: int,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> ProbeScore:
    """A :class:`ProbeScore` from integer labels ``codes`` and class probabilities."""
    k = len(classes)
    pred = proba.argmax(axis=1)
    counts = np.bincount(codes, minlength=k)
    right = pred == codes
    recalls = tuple(float(right[codes == c].mean()) for c in range(k))
    recall_cis = tuple(
        wilson(int(right[codes == c].sum()), int(counts[c]), confidence) for c in range(k)
    )
    ba, auc = _ba_auc(codes, proba)
    ba_ci, auc_ci = bootstrap_scores(codes, proba, n_bootstrap, confidence, rng)
    n = int(codes.size)
    return ProbeScore(
        attribute=attribute,
        method=method,
        n=n,
        classes=tuple(classes),
        n_per_class=tuple(int(c) for c in counts),
        recall_per_class=recalls,
        recall_ci_per_class=recall_cis,
        excluded=excluded,
        n_missing=n_missing,
        balanced_accuracy=ba,
        balanced_accuracy_ci=ba_ci,
        accuracy=float(right.mean()),
        accuracy_ci=wilson(int(right.sum()), n, confidence),
        roc_auc=auc,
        roc_auc_ci=auc_ci,
        majority_rate=float(counts.max() / n),
        chance=1.0 / k,
        p_value=p_value,
        n_permutations=n_permutations,
        confidence=confidence,
    )


def make_probe(C: float, seed: int) -> Pipeline:
    """Standardise, then an L2 logistic regression (multinomial over ``k > 2`` classes)."""
    # Standardising first makes one C fit embeddings of any scale.
    return make_pipeline(
        StandardScaler(), LogisticRegression(C=C, max_iter=2000, random_state=seed)
    )


def probe_attribute(
    X: Any,
    y: Sequence[Any],
    *,
    attribute: str = "attribute",
    n_folds: int = 5,
    C: float = 1.0,
    n_permutations: int = 100,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int = 0,
) -> ProbeScore:
    """Cross-validated linear probe predicting ``y`` from embeddings ``X``.

    Each item is predicted once by a probe fitted on the other folds (stratified
    ``n_folds``-fold, shuffled), and the out-of-fold predictions are scored.

    Parameters
    ----------
    X : array-like, shape (n, d)
        Embeddings (finite).
    y : sequence, length n
        Attribute labels (any values; compared as str). ``None``, NaN and ``""`` are
        missing: those items are left out and counted.
    attribute : str
        Name stored in the result.
    n_folds : int
        Cross-validation folds (at least 2). Classes with fewer items than folds are left
        out and listed in ``excluded``.
    C : float
        Inverse L2 strength of the logistic regression (on standardised dims).
    n_permutations : int
        Label shuffles for the p-value (scikit-learn's ``permutation_test_score``, which
        refits the probe per shuffle; its statistic is the fold-mean balanced accuracy).
    n_bootstrap : int
        Bootstrap resamples for the balanced-accuracy and AUC intervals.
    confidence : float
        Level of the intervals.
    random_state : int
        Seed of the folds, the shuffles and the bootstrap.

    Returns
    -------
    ProbeScore

    Raises
    ------
    ValueError
        ``X`` not finite 2-D or not one row per label, ``n_folds < 2``, or fewer than two
        classes with at least ``n_folds`` items.
    """
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2, got {n_folds}")
    if n_permutations < 1 or n_bootstrap < 1:
        raise ValueError("n_permutations and n_bootstrap must be >= 1")
    labels, n_missing = labels_as_str(y)
    arr = check_embeddings(X, len(labels))
    counts = Counter(v for v in labels if v is not None)
    kept = sorted(c for c, m in counts.items() if m >= n_folds)
    excluded = tuple(sorted((c, m) for c, m in counts.items() if m < n_folds))
    if len(kept) < 2:
        raise ValueError(
            f"attribute {attribute!r}: need two classes with at least {n_folds} items each "
            f"for {n_folds}-fold probing; class counts {dict(sorted(counts.items()))}"
        )
    index = {c: i for i, c in enumerate(kept)}
    keep = np.array([v in index for v in labels])
    codes = np.array([index[v] for v in labels[keep]], dtype=int)
    Xk = arr[keep]
    cv = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
    probe = make_probe(C, random_state)
    proba = cross_val_predict(probe, Xk, codes, cv=cv, method="predict_proba")
    _, _, p_value = permutation_test_score(
        probe,
        Xk,
        codes,
        cv=cv,
        n_permutations=n_permutations,
        scoring="balanced_accuracy",
        random_state=random_state,
    )
    return score_predictions(
        attribute,
        f"cv-{n_folds}",
        codes,
        kept,
        proba,
        excluded=excluded,
        n_missing=n_missing,
        p_value=float(p_value),
        n_permutations=n_permutations,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        rng=np.random.default_rng(random_state),
    )
