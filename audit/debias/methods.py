"""The debiasing methods that can debias an embedder, from :data:`fairness.debias.METHODS`.

A projection wraps an embedder (:class:`audit.projection.ProjectedEmbedder`), so its
``transform`` must work without group labels (queries have none), and the fit driver
feeds it chunk by chunk, so it must fit incrementally. Cheap to import (no scikit-learn).
"""

from __future__ import annotations

from typing import Any

from fairness.debias.methods import METHODS

#: ``audit fit-debias --method`` choices, in the table's order.
PROJECTION_METHODS: tuple[str, ...] = tuple(
    m.name for m in METHODS if m.incremental and not m.needs_groups_at_transform
)


def make_debiaser(method: str, n_components: int | None) -> Any:
    """A new estimator for a projection method.

    Raises
    ------
    ValueError
        If ``method`` is not one of :data:`PROJECTION_METHODS`.
    """
    for entry in METHODS:
        if entry.name == method and entry.name in PROJECTION_METHODS:
            return entry.build(n_components)
    raise ValueError(f"unknown method {method!r}; use one of {PROJECTION_METHODS}")
