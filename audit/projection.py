"""ProjectedEmbedder: an Embedder wrapper applying a fitted debiasing projection.

The estimator (FairPCA, PCA, LEACE, ... from ``fairness.debias``) is fitted elsewhere; this
wrapper applies ``transform`` to the base embedder's vectors and re-normalises. FairPCA's
components are ordered by variance, so ``embed(dim=k)`` (first k coordinates, then
re-normalised) is the k-dimensional fair projection: Matryoshka meaning is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audit.embedders._wrapper import EmbedderWrapper
from audit.embedders.base import Embedder, Purpose, check_request, check_vectors, l2_normalize
from audit.embedders.base import truncate as truncate_vectors
from audit.items import Item
from audit.weights import sha256_file
from fairness.debias import needs_groups_at_transform

log = logging.getLogger(__name__)


class ProjectedEmbedder(EmbedderWrapper):
    """Wrap ``base`` with a fitted debiaser.

    Parameters
    ----------
    base : Embedder
        The embedder whose native-size vectors are projected.
    debiaser : object
        A fitted estimator with ``transform(X) -> (n, k)`` that needs no group labels at
        transform time (CorrelationRemover needs them, so it cannot debias a query whose
        group is unknown, and is refused here).
    source : str or Path, optional
        File the debiaser was loaded from (its sha256 goes into the report).
    fit_info : dict, optional
        How it was fitted (dataset, attribute, sizes), recorded in the report.
    """

    def __init__(
        self,
        base: Embedder,
        debiaser: Any,
        *,
        source: str | Path | None = None,
        fit_info: dict[str, Any] | None = None,
    ) -> None:
        if needs_groups_at_transform(debiaser):  # the methods' metadata, not a class name
            raise TypeError(
                "CorrelationRemover needs each row's group at transform time, so it cannot "
                "debias queries or new items; use FairPCA, PCADebiaser or LEACE"
            )
        n_in = getattr(debiaser, "n_features_in_", None)
        if n_in is not None and n_in != base.dim:
            raise ValueError(
                f"projection was fitted on {n_in}-d vectors but {base.name} embeds {base.dim}-d"
            )
        super().__init__(base)
        self.debiaser = debiaser
        self.source = Path(source) if source is not None else None
        self.source_sha256 = sha256_file(self.source) if self.source is not None else None
        self.fit_info = dict(fit_info or {})
        components = getattr(debiaser, "components_", None)
        self.dim = int(components.shape[0]) if components is not None else base.dim
        self.name = f"{base.name}+{type(debiaser).__name__}"
        # Components are variance-ordered: every prefix is a meaningful projection, so the
        # base's trained sizes that fit stay trained sizes of the projected space.
        self.matryoshka_dims = tuple(d for d in base.matryoshka_dims if d <= self.dim)

    @property
    def fingerprint(self) -> str:
        """Base fingerprint plus the projection file's hash."""
        return f"{self.base.fingerprint}+proj@{(self.source_sha256 or 'in-memory')[:16]}"

    def wrapper_info(self) -> dict[str, Any]:
        """The report's ``wrappers.projection`` block."""
        return {
            "projection": {
                "kind": type(self.debiaser).__name__,
                "path": str(self.source) if self.source else None,
                "sha256": self.source_sha256,
                "n_components": self.dim,
                "input_dim": self.base.dim,
                "params": {
                    k: v
                    for k, v in self.debiaser.get_params().items()
                    if isinstance(v, str | int | float | bool | type(None))
                },
                "fit": self.fit_info,
            }
        }

    def project(self, vectors: np.ndarray, items: Sequence[Item]) -> np.ndarray:
        """Project native-size unit vectors and re-normalise."""
        z = self.debiaser.transform(np.asarray(vectors, dtype=np.float64))
        return l2_normalize(check_vectors(z, items, self.dim, self.name))

    def embed(
        self, items: Sequence[Item], *, purpose: Purpose = "index", dim: int | None = None
    ) -> np.ndarray:
        """Embed with the base at native size, project, re-normalise, then truncate."""
        items = list(items)
        check_request(self, items, purpose, dim)
        return truncate_vectors(
            self.project(self.base.embed(items, purpose=purpose), items), dim, self.dim
        )


def load_projection(base: Embedder, path: str | Path) -> ProjectedEmbedder:
    """Load a saved debiaser (.npz/.safetensors, never pickle) and wrap ``base`` with it."""
    from fairness.debias import load_debiaser

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"projection file not found: {path}")
    debiaser = load_debiaser(path)
    return ProjectedEmbedder(base, debiaser, source=path, fit_info=_fit_info_of(path))


def _fit_info_of(path: Path) -> dict[str, Any]:
    """Fit metadata written next to the projection by `audit fit-debias`, if any."""
    import json

    side = path.with_suffix(path.suffix + ".fit.json")
    if side.is_file():
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except json.JSONDecodeError:
            log.warning("ignoring unreadable fit metadata %s", side)
    return {}
