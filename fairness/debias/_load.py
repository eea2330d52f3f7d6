"""``load_debiaser``: read any saved debiaser back, by its recorded class name."""

from __future__ import annotations

import os

from ._base import PersistableMixin
from ._io import read_file
from .methods import METHODS, DebiasMethod

__all__ = ["load_debiaser"]

# A file names its class, and only the classes of the methods' table can be built (never
# an import by a name read from a file).
_REGISTRY: dict[str, DebiasMethod] = {m.class_name: m for m in METHODS}


def load_debiaser(
    path: str | os.PathLike[str], *, expected_sha256: str | None = None
) -> PersistableMixin:
    """Load a debiaser saved with ``save`` (.npz or .safetensors; never unpickles).

    Parameters
    ----------
    path : str or PathLike
        The saved file.
    expected_sha256 : str, optional
        A digest of the arrays you trust (from the metadata of a file you vetted); the
        file must match it as well as its own recorded digest.

    Returns
    -------
    FairPCA, PCADebiaser, CorrelationRemoverDebiaser or LEACE
        The fitted debiaser, ready to ``transform``.

    Raises
    ------
    ValueError
        If the file is not a saved debiaser, names an unknown class, or its arrays do not
        match the recorded or expected sha256.
    """
    meta, arrays = read_file(path, expected_sha256=expected_sha256)
    name = meta.get("class")
    if name not in _REGISTRY:
        raise ValueError(
            f"{path}: unknown debiaser class {name!r}; known: {', '.join(sorted(_REGISTRY))}"
        )
    params, state = meta.get("params"), meta.get("state")
    if not isinstance(params, dict) or not isinstance(state, dict):
        raise ValueError(f"{path}: metadata lacks the params/state objects")
    try:
        return _REGISTRY[name].estimator_class()._from_state(params, state, arrays)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: inconsistent saved state for {name} ({exc!r})") from exc
