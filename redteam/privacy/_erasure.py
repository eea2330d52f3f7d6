"""Erasure check: does a projection remove an attribute on held-out items, and what leaks?

A debiasing projection (LEACE, Belrose et al. 2023; INLP, Ravfogel et al. 2020) is meant
to make an attribute linearly unreadable. Measured on the items it was fitted on, it looks
better than it is: a projection that removes the fit items' own class-mean difference
leaves those items with equal class means exactly, so a probe trained on them finds
nothing, while on fresh items the part of the true direction the estimate missed is still
readable. :func:`erasure_check` therefore splits the items once, fits the projection (when
asked) on one split only, and runs cross-validated probes (:func:`probe_attribute`) within
the other, held-out split: the target attribute raw and through the projection, and every
other attribute column the caller passes (what leaks through, and what the projection
destroyed on the way).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from redteam.privacy._attribute import (
    ProbeScore,
    check_embeddings,
    labels_as_str,
    probe_attribute,
)

__all__ = ["ErasureResult", "ErasureRow", "erasure_check"]

Projection = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ErasureRow:
    """One attribute scored on the held-out items, raw and through the projection.

    Both are cross-validated probes within the held-out items, each on the vectors it is
    scored on (raw on raw, transformed on transformed): an attacker who holds transformed
    vectors and some labels retrains on them. Counts (``n``, ``n_missing``, ``excluded``)
    are of the held-out items, plus any target class too small to split.
    """

    attribute: str
    raw: ProbeScore
    transformed: ProbeScore


@dataclass(frozen=True)
class ErasureResult:
    """Outcome of :func:`erasure_check`.

    Attributes
    ----------
    target : ErasureRow
        The attribute the projection is meant to erase.
    others : tuple of ErasureRow
        Every other attribute passed, in the order given.
    n_fit, n_heldout : int
        Items in the fit split (the projection fitted, when ``fit_transform`` is given) and
        the held-out split (probed); the split is stratified on the target attribute and
        takes only items with a target label.
    fitted : bool
        Whether the projection was fitted here on the fit split (``fit_transform``) or
        passed ready (``transform``).
    """

    target: ErasureRow
    others: tuple[ErasureRow, ...]
    n_fit: int
    n_heldout: int
    fitted: bool


def _score_heldout(
    name: str,
    labels: np.ndarray,
    held: np.ndarray,
    views: tuple[np.ndarray, np.ndarray],
    too_rare: tuple[tuple[str, int], ...],
    **kw: Any,
) -> ErasureRow:
    try:
        raw, moved = (
            probe_attribute(view[held], list(labels[held]), attribute=name, **kw) for view in views
        )
    except ValueError as err:
        raise ValueError(f"{err} (among the {held.size} held-out items)") from err
    if too_rare:
        # Classes too small to split never reach the held-out items; report them anyway.
        raw, moved = (
            replace(s, excluded=tuple(sorted(s.excluded + too_rare))) for s in (raw, moved)
        )
    return ErasureRow(name, raw, moved)


def erasure_check(
    X: Any,
    y: Sequence[Any],
    transform: Projection | None = None,
    *,
    fit_transform: Callable[[np.ndarray, np.ndarray], Projection] | None = None,
    others: Mapping[str, Sequence[Any]] | None = None,
    attribute: str = "attribute",
    heldout_size: float = 0.5,
    n_folds: int = 5,
    C: float = 1.0,
    n_permutations: int = 100,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: int = 0,
) -> ErasureResult:
    """Score attributes on held-out items, raw and through a projection.

    Parameters
    ----------
    X : array-like, shape (n, d)
        Embeddings (finite).
    y : sequence, length n
        The attribute the projection should erase (missing: ``None``, NaN, ``""``).
    transform : callable, optional
        A ready projection ``X -> X'`` (rows in, rows out). Give this or ``fit_transform``.
    fit_transform : callable, optional
        ``fit_transform(X_fit, y_fit) -> projection``: called once with the fit split only
        (rows with a target label; ``y_fit`` as str), so the held-out items are unseen.
    others : mapping of str to sequence, optional
        Other attribute columns (name -> labels, length n), scored on the same split.
    attribute : str
        Name of the target attribute.
    heldout_size : float
        Share of the labelled items held out (stratified on the target).
    n_folds, C, n_permutations, n_bootstrap, confidence, random_state
        Passed to :func:`probe_attribute` for every probe on the held-out items; the seed
        also draws the split.

    Returns
    -------
    ErasureResult

    Raises
    ------
    ValueError
        Neither or both of ``transform`` / ``fit_transform``; bad ``X``; a column of the
        wrong length; the projection changing the number of rows or returning non-finite
        values; an attribute without two classes of at least ``n_folds`` held-out items.
    """
    if (transform is None) == (fit_transform is None):
        raise ValueError("give exactly one of transform (ready) or fit_transform (fitted here)")
    if not 0.0 < heldout_size < 1.0:
        raise ValueError(f"heldout_size must be in (0, 1), got {heldout_size}")
    labels, _ = labels_as_str(y)
    arr = check_embeddings(X, len(labels))
    columns = {}
    for name, col in (others or {}).items():
        if len(col) != len(labels):
            raise ValueError(f"attribute {name!r} has {len(col)} labels, X has {len(labels)} rows")
        columns[name] = labels_as_str(col)[0]
    # A target class of one item cannot be stratified over two splits: it is left out of
    # the split (and reported), like any class missing from one split.
    counts = Counter(v for v in labels if v is not None)
    too_rare = tuple(sorted((c, m) for c, m in counts.items() if m < 2))
    labelled = np.flatnonzero([v is not None and counts[v] >= 2 for v in labels])
    fit, held = train_test_split(
        labelled,
        test_size=heldout_size,
        stratify=labels[labelled].astype(str),
        random_state=random_state,
    )
    fit, held = np.sort(fit), np.sort(held)
    projection = transform
    if projection is None:
        assert fit_transform is not None
        projection = fit_transform(arr[fit], labels[fit].astype(str))
    moved = check_embeddings(projection(arr), name="transform(X)")
    if moved.shape[0] != arr.shape[0]:
        raise ValueError(f"transform returned {moved.shape[0]} rows for {arr.shape[0]}")
    views = (arr, moved)
    kw: dict[str, Any] = dict(
        n_folds=n_folds,
        C=C,
        n_permutations=n_permutations,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        random_state=random_state,
    )
    target = _score_heldout(attribute, labels, held, views, too_rare, **kw)
    rows = tuple(_score_heldout(name, col, held, views, (), **kw) for name, col in columns.items())
    return ErasureResult(target, rows, int(fit.size), int(held.size), transform is None)
