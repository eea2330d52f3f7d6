"""The debiasing methods by name, with what each one needs: the one list of them.

``audit fit-debias --method`` (its choices), the audit-side fit driver (which estimator a
name stands for) and :func:`~fairness.debias.load_debiaser` (which classes a saved file
may name) all read :data:`METHODS`. Adding a method is one entry here (and its estimator
module). Importing this module is cheap: an estimator class, which imports scikit-learn,
is imported when a method is first built or a file loaded.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._base import PersistableMixin

__all__ = ["METHODS", "DebiasMethod", "debias_method", "needs_groups_at_transform"]


@dataclass(frozen=True)
class DebiasMethod:
    """One debiasing method: a name for an estimator class and its parameters.

    Parameters
    ----------
    name : str
        What users type (``audit fit-debias --method NAME``).
    estimator : str
        ``"module:Class"`` inside :mod:`fairness.debias`; the class name is what a saved
        file records (``meta["class"]``).
    summary : str
        One line for listings and errors.
    params : mapping, optional
        Keyword parameters of the estimator besides the output size.
    sized : bool, default=True
        Whether the estimator takes ``n_components`` (the output size).
    needs_groups_at_transform : bool, default=False
        ``transform`` needs each row's group: such a method cannot debias a query or a
        new item whose group is unknown, so it cannot wrap an embedder.
    incremental : bool, default=True
        Has ``partial_fit(..., finalize=False)`` and ``finalize()``: fits chunk by chunk.
    """

    name: str
    estimator: str
    summary: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    sized: bool = True
    needs_groups_at_transform: bool = False
    incremental: bool = True

    @property
    def class_name(self) -> str:
        """The estimator's class name, as saved files record it."""
        return self.estimator.rpartition(":")[2]

    def estimator_class(self) -> type[PersistableMixin]:
        """The estimator class (imported now: scikit-learn loads with it)."""
        module, _, cls = self.estimator.partition(":")
        # A fixed module of this package from the table above, never a name from a file.
        return getattr(importlib.import_module(f"{__package__}.{module}"), cls)

    def build(self, n_components: int | None = None) -> PersistableMixin:
        """A new, unfitted estimator; ``n_components`` is ignored by unsized methods."""
        cls = self.estimator_class()
        if self.sized:
            return cls(n_components, **self.params)  # type: ignore[call-arg]
        return cls(**self.params)


#: Every method, in the order listings and ``--method`` choices show them.
METHODS: tuple[DebiasMethod, ...] = (
    DebiasMethod(
        "fairpca",
        "_fair_pca:FairPCA",
        "FairPCA with mean matching: group means equal after projection",
        MappingProxyType({"constraint": "mean"}),
    ),
    DebiasMethod(
        "fairpca-cov",
        "_fair_pca:FairPCA",
        "FairPCA matching group means and covariances",
        MappingProxyType({"constraint": "covariance"}),
    ),
    DebiasMethod("pca", "_fair_pca:PCADebiaser", "plain PCA: a size-reduction baseline"),
    DebiasMethod("leace", "_leace:LEACE", "LEACE: least-squares concept erasure", sized=False),
    DebiasMethod(
        "correlation-remover",
        "_correlation_remover:CorrelationRemoverDebiaser",
        "fairlearn's CorrelationRemover: regresses the groups out of each row",
        sized=False,
        needs_groups_at_transform=True,
        incremental=False,
    ),
)


def debias_method(name: str) -> DebiasMethod:
    """The method called ``name``.

    Raises
    ------
    ValueError
        If no method has that name; the message lists the names.
    """
    for method in METHODS:
        if method.name == name:
            return method
    raise ValueError(f"unknown method {name!r}; use one of {tuple(m.name for m in METHODS)}")


def needs_groups_at_transform(debiaser: object) -> bool:
    """Whether a fitted debiaser's ``transform`` needs each row's group label.

    Such a debiaser cannot project a query or an item whose group is unknown.
    """
    return any(
        isinstance(debiaser, m.estimator_class()) for m in METHODS if m.needs_groups_at_transform
    )
