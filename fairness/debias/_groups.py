"""Validation and integer coding of ``sensitive_features`` (one or several attributes)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["EncodedGroups", "encode_sensitive_features", "label_from_json", "label_to_json"]

# Label types that survive a JSON round trip (tuples come from intersectional coding).
_JSON_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class EncodedGroups:
    """Sensitive features as integer codes, one array per attribute.

    Attributes
    ----------
    codes : list of ndarray of int64, shape (n_samples,)
        ``codes[a][i]`` indexes ``labels[a]``.
    labels : list of list
        Distinct labels of each attribute, sorted (see :func:`sort_labels`).
    names : list of str
        One name per attribute (DataFrame column names, else ``"a0"``, ``"a1"`` ...).
    """

    codes: list[np.ndarray]
    labels: list[list[Hashable]]
    names: list[str]


def _to_python(value: Any) -> Hashable:
    """Turn numpy scalars into Python scalars so labels hash, compare and serialise alike."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        raise ValueError(
            "sensitive_features contains a missing value (None/NaN); give every row a group "
            "label (e.g. an explicit 'unknown' group)"
        )
    try:
        hash(value)
    except TypeError as exc:
        raise TypeError(
            f"sensitive_features label {value!r} of type {type(value).__name__} is not hashable"
        ) from exc
    return value


def _label_key(value: Any) -> tuple[Any, ...]:
    """Total order over mixed label types: numbers, then strings, then tuples, then others."""
    if isinstance(value, bool | int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, tuple):
        return (2, tuple(_label_key(v) for v in value))
    return (3, type(value).__name__, repr(value))


def sort_labels(labels: Sequence[Hashable]) -> list[Hashable]:
    """Return ``labels`` in the deterministic order used for ``groups_``."""
    return sorted(labels, key=_label_key)


def _encode_column(column: np.ndarray) -> tuple[np.ndarray, list[Hashable]]:
    """Integer-code one attribute; labels come back sorted."""
    if column.dtype.kind in "fc" and np.isnan(column).any():
        raise ValueError("sensitive_features contains NaN; give every row a group label")
    if column.dtype.kind != "O":
        uniq, inverse = np.unique(column, return_inverse=True)
        return inverse.reshape(-1).astype(np.int64), [_to_python(v) for v in uniq]
    # Object columns may mix types that numpy cannot sort: code them through a dict.
    index: dict[Hashable, int] = {}
    raw = np.empty(column.shape[0], dtype=np.int64)
    for i, value in enumerate(column):
        raw[i] = index.setdefault(_to_python(value), len(index))
    ordered = sort_labels(list(index))
    remap = np.array([ordered.index(label) for label in index], dtype=np.int64)
    return remap[raw], ordered


def _as_2d_object(sensitive_features: Any, n_samples: int) -> tuple[np.ndarray, list[str]]:
    """Return an (n_samples, n_attributes) array and attribute names."""
    names: list[str] | None = None
    if hasattr(sensitive_features, "columns") and hasattr(sensitive_features, "to_numpy"):
        names = [str(c) for c in sensitive_features.columns]
        arr = sensitive_features.to_numpy(dtype=object)
    elif hasattr(sensitive_features, "to_numpy"):  # pandas Series and friends
        name = getattr(sensitive_features, "name", None)
        names = [str(name)] if name is not None else None
        arr = np.asarray(sensitive_features.to_numpy())
    else:
        arr = np.asarray(sensitive_features)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(
            f"sensitive_features must be 1-D (one attribute) or 2-D (one column per "
            f"attribute), got an array with {arr.ndim} dimensions"
        )
    if arr.shape[0] != n_samples:
        raise ValueError(
            f"sensitive_features has {arr.shape[0]} rows but X has {n_samples} samples"
        )
    if arr.shape[1] == 0:
        raise ValueError("sensitive_features has no columns (no attribute given)")
    if names is None:
        names = [f"a{j}" for j in range(arr.shape[1])]
    return arr, names


def encode_sensitive_features(
    sensitive_features: Any, n_samples: int, *, intersectional: bool
) -> EncodedGroups:
    """Validate ``sensitive_features`` and code each attribute as integers.

    Parameters
    ----------
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_attributes)
        Group labels (any hashable values: str, int, bool, ...). A DataFrame's columns name
        the attributes.
    n_samples : int
        Number of rows of ``X``; the labels must have as many rows.
    intersectional : bool
        If True and there are several attributes, code the tuple of values of each row as
        one attribute (groups are the intersections).

    Returns
    -------
    EncodedGroups
        Codes, sorted labels and names, one entry per attribute.

    Raises
    ------
    ValueError
        If the labels are missing, have the wrong number of rows or contain None/NaN.
    """
    if sensitive_features is None:
        raise ValueError(
            "sensitive_features is required: pass one group label per row of X "
            "(1-D for one attribute, 2-D for several)"
        )
    arr, names = _as_2d_object(sensitive_features, n_samples)
    codes: list[np.ndarray] = []
    labels: list[list[Hashable]] = []
    for j in range(arr.shape[1]):
        column = arr[:, j]
        if column.dtype == object and n_samples > 0:
            # A DataFrame gives object columns even for ints; with one uniform scalar type,
            # numpy's sort-based coding is much faster than the dict fallback. (Mixed types
            # stay object: np.asarray would silently turn [1, "a"] into strings.)
            kinds = {type(v) for v in column}
            if len(kinds) == 1 and next(iter(kinds)) in (str, int, float, bool):
                column = np.asarray(column.tolist())
        c, lab = _encode_column(column)
        codes.append(c)
        labels.append(lab)
    if intersectional and len(codes) > 1:
        stacked = np.stack(codes, axis=1)
        cells, inverse = np.unique(stacked, axis=0, return_inverse=True)
        cell_labels = [tuple(labels[a][k] for a, k in enumerate(row)) for row in cells]
        return EncodedGroups(
            codes=[inverse.reshape(-1).astype(np.int64)],
            labels=[cell_labels],
            names=["&".join(names)],
        )
    return EncodedGroups(codes=codes, labels=labels, names=names)


def label_to_json(label: Hashable) -> Any:
    """Return a JSON-serialisable form of a group label (tuples become lists).

    Raises
    ------
    TypeError
        If the label is not a str, int, float, bool or a tuple of those.
    """
    if isinstance(label, tuple):
        return [label_to_json(v) for v in label]
    if isinstance(label, _JSON_SCALARS):
        return label
    raise TypeError(
        f"group label {label!r} of type {type(label).__name__} cannot be saved in the JSON "
        "metadata; use str, int, float or bool labels"
    )


def label_from_json(value: Any) -> Hashable:
    """Inverse of :func:`label_to_json` (lists become tuples)."""
    if isinstance(value, list):
        return tuple(label_from_json(v) for v in value)
    if isinstance(value, _JSON_SCALARS):
        return value
    raise ValueError(f"invalid group label in saved metadata: {value!r}")
