"""Bias probes: statistics of association tests and ranking representation, and their data.

- :func:`association_test` / :func:`s_scores`: WEAT, SEAT and cross-modal association
  tests on embedding arrays (effect size, exact or sampled permutation p-value,
  bootstrap CI).
- :func:`skew_at_k`, :func:`max_skew_at_k`, :func:`min_skew_at_k`, :func:`ndkl`: group
  representation in rankings (Geyik et al., KDD 2019), with target distributions from
  :func:`uniform_target` or :func:`proportional_target`.
- :func:`load_weat_tests`, :func:`seat_sentences`: WEAT 1-10 stimuli and SEAT templates.

Pure numpy/scipy; never imports ``audit``. Formulas and choices: docs/bias-statistics.md.
"""

from fairness.probes._association import AssociationResult, association_test, s_scores
from fairness.probes._skew import (
    LargeKWarning,
    max_skew_at_k,
    min_skew_at_k,
    ndkl,
    proportional_target,
    skew_at_k,
    uniform_target,
)
from fairness.probes._weat_data import (
    WeatSpec,
    WordSet,
    load_seat_templates,
    load_weat_tests,
    seat_sentences,
)

__all__ = [
    "AssociationResult",
    "LargeKWarning",
    "WeatSpec",
    "WordSet",
    "association_test",
    "load_seat_templates",
    "load_weat_tests",
    "max_skew_at_k",
    "min_skew_at_k",
    "ndkl",
    "proportional_target",
    "s_scores",
    "seat_sentences",
    "skew_at_k",
    "uniform_target",
]
