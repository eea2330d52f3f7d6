"""Embedding-space concept check: similarity to text descriptions of unsafe concepts.

An item's score for a concept is its highest cosine similarity to the concept's
descriptions (all rows are unit vectors), in the space of ``embedder``. Thresholds are
calibrated on benign data with a split-conformal quantile: for ``n`` benign scores and
a target false-positive rate ``a``, the threshold is just above the ``k``-th smallest
score, ``k = ceil((n + 1)(1 - a))``, so a new benign item exchangeable with the
calibration set crosses it with probability at most ``a``
(Vovk et al. 2005; Angelopoulos & Bates 2021, sec. 1).

The embedder sees the item before any other check decides, so use a local one (the
default policy names ``local``), never the remote API the filter protects.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from audit.embedders.base import Embedder
from audit.items import Item, text_item
from audit.safety._checker import Checker
from audit.safety._decision import Finding

log = logging.getLogger(__name__)


def conformal_threshold(scores: Sequence[float], target_fpr: float) -> float:
    """Smallest threshold whose benign exceedance rate is at most ``target_fpr``
    (split-conformal; ``+inf`` when ``n`` is too small to promise it).

    A score counts as a hit when ``score >= threshold``.
    """
    if not 0.0 < target_fpr < 1.0:
        raise ValueError(f"target_fpr must be in (0, 1), got {target_fpr!r}")
    s = np.sort(np.asarray(scores, dtype=np.float64))
    n = s.size
    if n == 0:
        raise ValueError("calibration needs at least one benign score")
    k = math.ceil((n + 1) * (1.0 - target_fpr))
    if k > n:
        log.warning(
            "%d benign scores cannot promise FPR %.3g; threshold set to +inf", n, target_fpr
        )
        return math.inf
    return float(np.nextafter(s[k - 1], np.inf))


class ConceptChecker(Checker):
    """Cosine similarity of an item's embedding to unsafe-concept descriptions.

    Parameters
    ----------
    embedder : Embedder
        Embeds items and descriptions in one space (a local one: see module docstring).
    concepts : mapping
        Category -> descriptions (plain text naming the concept, e.g. "graphic violence").
    thresholds : mapping or float
        Category -> similarity at or above which an item hits (a float applies to all).
    modalities : iterable of str, optional
        Modalities checked (default: all the embedder accepts).
    """

    name = "concepts"

    def __init__(
        self,
        embedder: Embedder,
        concepts: Mapping[str, Sequence[str]],
        thresholds: Mapping[str, float | Mapping[str, float]] | float = 0.5,
        *,
        modalities: Iterable[str] | None = None,
    ) -> None:
        if not concepts or any(not d for d in concepts.values()):
            raise ValueError("concepts must map each category to at least one description")
        self.embedder = embedder
        self.concepts = {k: list(v) for k, v in concepts.items()}
        if isinstance(thresholds, int | float):
            thresholds = dict.fromkeys(self.concepts, float(thresholds))
        missing = sorted(set(self.concepts) - set(thresholds))
        if missing:
            raise ValueError(f"no threshold for concept categories {missing}")
        # category -> {modality or "*": threshold}; "*" serves modalities not named
        self.thresholds: dict[str, dict[str, float]] = {}
        for cat in self.concepts:
            t = thresholds[cat]
            table = {"*": float(t)} if isinstance(t, int | float) else dict(t)
            if "*" not in table:
                raise ValueError(f"thresholds of {cat!r} need a '*' entry for other modalities")
            self.thresholds[cat] = {m: float(v) for m, v in table.items()}
        self.modalities = frozenset(modalities or embedder.modalities)
        self.calibration: dict[str, Any] = {}
        self._vectors: dict[str, np.ndarray] | None = None

    def threshold(self, category: str, modality: str) -> float:
        """The threshold of ``category`` for items of ``modality``."""
        table = self.thresholds[category]
        return table.get(modality, table["*"])

    def describe(self) -> dict[str, Any]:
        return {
            "embedder": self.embedder.fingerprint,
            "concepts": {k: len(v) for k, v in self.concepts.items()},
            "thresholds": {
                k: {m: (t if math.isfinite(t) else None) for m, t in v.items()}
                for k, v in self.thresholds.items()
            },
            "calibration": dict(self.calibration),
        }

    @property
    def vectors(self) -> dict[str, np.ndarray]:
        """Category -> unit description embeddings (embedded once)."""
        if self._vectors is None:
            self._vectors = {
                cat: self.embedder.embed(
                    [text_item(f"concept/{cat}/{i}", d) for i, d in enumerate(descs)],
                    purpose="query",
                )
                for cat, descs in self.concepts.items()
            }
        return self._vectors

    def similarities(self, items: Sequence[Item]) -> np.ndarray:
        """(n_items, n_categories) max cosine similarity, columns in ``concepts`` order."""
        if not items:
            return np.zeros((0, len(self.concepts)), dtype=np.float32)
        emb = self.embedder.embed(list(items), purpose="index")
        return np.stack([(emb @ v.T).max(axis=1) for v in self.vectors.values()], axis=1)

    def calibrate(self, benign: Sequence[Item], *, target_fpr: float = 0.01) -> dict[str, Any]:
        """Set each category's threshold per modality from benign items (split-conformal,
        see the module docstring); modalities absent from ``benign`` keep theirs.

        Returns the new thresholds (category -> modality -> threshold; ``+inf`` where too
        few items of a modality to promise the rate).
        """
        sims = self.similarities(benign)
        mods = np.array([it.modality for it in benign])
        counts = {}
        for m in sorted(set(mods.tolist())):
            rows = sims[mods == m]
            counts[m] = int(rows.shape[0])
            for j, cat in enumerate(self.concepts):
                self.thresholds[cat][m] = conformal_threshold(rows[:, j], target_fpr)
        short = sorted(m for m, n in counts.items() if math.ceil((n + 1) * (1 - target_fpr)) > n)
        if short:
            log.warning(
                "too few benign %s items to promise FPR %.3g: those thresholds are +inf",
                "/".join(short),
                target_fpr,
            )
        self.calibration = {"n": counts, "target_fpr": target_fpr}
        return {cat: dict(t) for cat, t in self.thresholds.items()}

    def _findings_batch(self, items: list[Item]) -> list[list[Finding]]:
        # one embedding call for the whole batch
        sims = self.similarities(items)
        return [self._from_row(row, it.modality) for row, it in zip(sims, items, strict=True)]

    def _findings(self, item: Item) -> list[Finding]:
        return self._from_row(self.similarities([item])[0], item.modality)

    def _from_row(self, row: np.ndarray, modality: str) -> list[Finding]:
        out = []
        for cat, s in zip(self.concepts, row, strict=True):
            t = self.threshold(cat, modality)
            out.append(
                Finding(cat, float(s), bool(s >= t), f"similarity {s:.3f} (threshold {t:.3f})")
            )
        return out
