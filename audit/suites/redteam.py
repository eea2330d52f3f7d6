"""The red-team suite: the ``redteam`` library run against the run's deployed embedder.

Families (option ``families``; private modules in ``audit.suites._redteam``):

- ``text``: black-box text query attacks (typos, homoglyphs, invisible and bidi characters,
  case/whitespace noise) at several edit budgets, undefended and behind Unicode
  sanitisation (``text/<attack>``); works on any embedder, remote ones included;
- ``image``: white-box query attacks (PGD, FGSM, ... untargeted and targeted) through the
  embedder's ``differentiable("image")`` path, checked against ``embed()`` first, with JPEG
  and bit-depth squeezing as defenses and the feature-squeezing detector's AUC
  (``image/<attack>``, ``image/<attack>-targeted``); skipped with the reason when there is
  no trustworthy gradient path;
- ``square``: Square, score-based, through ``embed()`` only, at several per-input query
  budgets enforced by a counting :class:`~redteam.tensor.ScoreHead` (``image/square``);
- ``index``: targeted hijack and adversarial hub on the image index, with squeezing at
  ingestion, CSLS / mutual-proximity re-ranking and the hubness detector as defenses
  (``index/hijack``, ``index/hub``);
- ``poison``: PoisonedRAG-style prefix poisoning of a text corpus, undefended and with
  every passage and query sanitised (``index/poison-prefix``, ``index/poison-keywords``).

Variant ``raw`` is the undefended number, ``defended`` the same attack behind the defense
named in ``details.defense``; ``defense/<name>`` results give a defense's cost on clean
retrieval. Every random draw is seeded from the run seed. See docs/redteam.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from audit.context import RunContext
from audit.datasets import Dataset
from audit.report import Result
from audit.suites import _redteam
from audit.suites._redteam import Env, RedteamOptions
from audit.suites._redteam._options import FAMILY_RUNNERS
from audit.suites.base import Suite

__all__ = ["RedteamSuite"]

log = logging.getLogger(__name__)

_FAMILIES: dict[str, Callable[[Env, RedteamOptions], Iterator[Result]]] = {
    family: getattr(_redteam, runner) for family, runner in FAMILY_RUNNERS.items()
}


class RedteamSuite(Suite):
    """Adversarial attacks on queries and on indexed data, each with and without defenses.

    Options (``[suite.redteam]``; defaults differ with ``--quick``): ``families``,
    ``text_dataset``, ``text_attacks``, ``text_budgets``, ``text_queries``, ``k``,
    ``image_dataset``, ``image_queries``, ``gallery_size``, ``image_attacks``, ``eps_255``,
    ``pgd_steps``, ``targeted``, ``squeezers``, ``jpeg_quality``, ``bit_depth``,
    ``consistency_min_cosine``, ``square_queries``, ``square_budgets``, ``square_eps_255``,
    ``hijack_items``, ``hijack_eps_255``, ``hijack_steps``, ``hub_eps_255``, ``hub_steps``,
    ``hub_k``, ``hubness_k``, ``hubness_threshold``, ``rerankers``, ``poison_queries``,
    ``poison_modes``, ``poison_k``, ``malicious``, ``artifacts_per_attack``. See
    docs/redteam.md, "The suite".

    Parameters
    ----------
    text_dataset, image_dataset : Dataset, optional
        In-memory datasets to use instead of the ``text_dataset`` / ``image_dataset``
        options (tests, notebooks).
    """

    name = "redteam"
    description = "adversarial attacks on queries and indexed data, with and without defenses"

    def __init__(
        self, *, text_dataset: Dataset | None = None, image_dataset: Dataset | None = None
    ) -> None:
        self._text = text_dataset
        self._image = image_dataset

    def check_options(self, options: Mapping[str, Any], *, quick: bool) -> None:
        """Validate ``[suite.redteam]`` (see :class:`RedteamOptions`)."""
        RedteamOptions.parse(options, quick=quick)

    def dataset_specs(self, options: Mapping[str, Any], *, quick: bool) -> list[str]:
        """``text_dataset`` and ``image_dataset``, unless given in memory."""
        opts = RedteamOptions.parse(options, quick=quick)
        given = ((self._text, opts.text_dataset), (self._image, opts.image_dataset))
        return [spec for data, spec in given if data is None]

    def _run(self, ctx: RunContext) -> Iterable[Result]:
        opts = RedteamOptions.parse(ctx.options(self.name), quick=ctx.config.quick)
        variant = "debiased" if ctx.embedder is ctx.variants.get("debiased") else "raw"
        env = Env(
            embedder=ctx.embedder,
            run_dir=ctx.run_dir,
            seed=ctx.seed_for,
            rng=ctx.rng,
            text_data=lambda: self._text or ctx.dataset(opts.text_dataset),
            image_data=lambda: self._image or ctx.dataset(opts.image_dataset),
            embedder_variant=variant,
        )
        for family in opts.families:
            start = time.perf_counter()
            count = 0
            for r in _FAMILIES[family](env, opts):
                r.details.setdefault("family", family)
                r.details.setdefault("embedder_variant", variant)
                count += 1
                yield r
            log.info(
                "redteam: %s: %d result(s) in %.1f s", family, count, time.perf_counter() - start
            )
