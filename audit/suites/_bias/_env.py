"""What a bias probe may use: variants, memoised embeddings, datasets, seeds and options.

Every item is embedded once per run and variant (keyed by modality and content hash), even
without the embedding cache: WEAT 1-4 share their pleasant/unpleasant words, and the
emoji gallery serves the cross-modal, skew, disparity and cost probes. A ``debiased``
variant that projects the ``raw`` embedder (a ProjectedEmbedder over it) is computed from
the raw vectors instead of embedding again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from audit.embedders import Embedder, unwrap
from audit.items import Item
from audit.suites._bias._options import BiasOptions

log = logging.getLogger(__name__)

#: Label of the projection the suite fits itself when none is configured.
BUILTIN_FIT_DATASET = "builtin:gendered-sentences"


class ProbeEnv:
    """The run state shared by the probes.

    Parameters
    ----------
    variants : dict of str to Embedder
        ``"raw"`` and optionally ``"debiased"``.
    options : BiasOptions
        Parsed suite options.
    dataset_loader : callable
        ``spec -> Dataset`` (the run context's loader, which loads each spec once).
    seed_for : callable
        ``stream -> int`` (stable per stream name).
    projection : dict or None
        What the ``debiased`` variant is (kind, fit data), recorded in its results.
    fit_words : frozenset of str
        Lower-cased words of the projection's fit data when known (built-in fit), used to
        flag association tests whose stimuli the projection was fitted on.
    """

    def __init__(
        self,
        *,
        variants: dict[str, Embedder],
        options: BiasOptions,
        dataset_loader: Callable[[str], Any],
        seed_for: Callable[[str], int],
        projection: dict[str, Any] | None = None,
        fit_words: frozenset[str] = frozenset(),
    ) -> None:
        if "raw" not in variants:
            raise ValueError(f"the bias suite needs a 'raw' variant; got {sorted(variants)}")
        self.variants = dict(variants)
        self.options = options
        self._load = dataset_loader
        self._seed_for = seed_for
        self.projection = projection
        self.fit_words = fit_words
        self._memo: dict[tuple[str, str, str, str], np.ndarray] = {}
        self._stimuli: dict[str, Any] = {}

    # -- context -------------------------------------------------------------------------
    def dataset(self, spec: str) -> Any:
        """Load (once) a dataset by spec."""
        return self._load(spec)

    def seed(self, stream: str) -> int:
        """Seed for one probe's random draws; the same for every variant (paired draws)."""
        return int(self._seed_for(stream))

    def embedder(self, variant: str) -> Embedder:
        """The embedder of a variant."""
        return self.variants[variant]

    def missing_modalities(self, modalities: Iterable[str]) -> list[str]:
        """Modalities some variant's embedder does not accept."""
        need = set(modalities)
        missing: set[str] = set()
        for emb in self.variants.values():
            missing |= need - set(emb.modalities)
        return sorted(missing)

    def stimuli(self, key: str, build: Callable[[], Any]) -> Any:
        """Build a probe's stimuli once per run (they do not depend on the variant)."""
        if key not in self._stimuli:
            self._stimuli[key] = build()
        return self._stimuli[key]

    # -- embeddings ----------------------------------------------------------------------
    def vectors(self, variant: str, items: Sequence[Item], purpose: str = "index") -> np.ndarray:
        """Native-size vectors of ``items`` under ``variant``, embedding only unseen content.

        Returns
        -------
        ndarray of float32, shape (len(items), dim)
        """
        items = list(items)
        keys = [(variant, purpose, it.modality, it.content_sha256()) for it in items]
        todo: dict[tuple[str, str, str, str], Item] = {}
        for key, it in zip(keys, items, strict=True):
            if key not in self._memo and key not in todo:
                todo[key] = it
        if todo:
            fresh = self._embed(variant, list(todo.values()), purpose)
            for key, row in zip(todo, fresh, strict=True):
                self._memo[key] = row
        return np.stack([self._memo[k] for k in keys]).astype(np.float32, copy=False)

    def _embed(self, variant: str, items: list[Item], purpose: str) -> np.ndarray:
        emb = self.variants[variant]
        raw = self.variants["raw"]
        from audit.projection import ProjectedEmbedder

        if variant != "raw" and isinstance(emb, ProjectedEmbedder) and emb.base is raw:
            # A projection of the raw embedder: reuse the raw vectors (no second embedding).
            return np.asarray(emb.project(self.vectors("raw", items, purpose), items))
        return np.asarray(emb.embed(items, purpose=purpose))


def builtin_projection(
    raw: Embedder, seed: int, *, load: Callable[[str], Any] | None = None
) -> tuple[Embedder, dict[str, Any], frozenset[str]]:
    """Fit the project's default projection (``audit fit-debias`` defaults) on the raw embedder.

    FairPCA with mean matching on ``builtin:gendered-sentences`` (Bolukbasi et al.'s
    definitional gender pairs in the SEAT templates), fitted on half of the sentences as
    ``audit fit-debias`` does.

    ``load`` loads a dataset by spec; a run passes ``RunContext.dataset``, so the fit
    data is checked and recorded with the run's datasets (``reproducibility.datasets``).

    Returns
    -------
    (embedder, info, fit_words)
        The debiased embedder, what to record about it, and the fit data's words.
    """
    from audit.datasets import load_dataset
    from audit.debias.fit import fit_debias
    from audit.projection import ProjectedEmbedder

    items = list((load or load_dataset)(BUILTIN_FIT_DATASET).corpus)
    debiaser, report = fit_debias(
        raw,
        items,
        attribute="gender",
        method="fairpca",
        seed=seed,
        dataset_name=BUILTIN_FIT_DATASET,
    )
    fit = report.to_dict()
    info = {
        "kind": type(debiaser).__name__,
        "origin": "fitted by the bias suite because no --debias projection was given "
        "(equivalent to `audit fit-debias` with its defaults)",
        "dataset": BUILTIN_FIT_DATASET,
        "attribute": "gender",
        "method": "fairpca (mean matching)",
        "n_fit": fit["n_fit"],
        "n_components": fit["n_components"],
        "fit_report": fit,
    }
    words = frozenset(str(it.attributes["word"]).lower() for it in items)
    log.info(
        "bias: fitted the built-in %s projection on %d gendered sentences (%d-d)",
        info["kind"],
        fit["n_fit"],
        fit["n_components"],
    )
    return ProjectedEmbedder(raw, debiaser, fit_info=info), info, words


def projection_info(emb: Embedder) -> dict[str, Any] | None:
    """The report's description of a configured projection, if the embedder gives one."""
    from audit.projection import ProjectedEmbedder

    proj = unwrap(emb, ProjectedEmbedder)
    if proj is not None:
        return dict(proj.wrapper_info().get("projection") or {})
    return {"kind": type(emb).__name__}
