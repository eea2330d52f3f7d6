"""Bias probes: statistics of association tests and ranking representation, and their data.

- :func:`association_test` / :func:`s_scores`: WEAT, SEAT and cross-modal association
  tests on embedding arrays (effect size, exact or sampled permutation p-value,
  bootstrap CI).
- :func:`skew_at_k`, :func:`max_skew_at_k`, :func:`min_skew_at_k`, :func:`ndkl`: group
  representation in rankings (Geyik et al., KDD 2019), with target distributions from
  :func:`uniform_target` or :func:`proportional_target`.
- :func:`skew_permutation_test`, :func:`group_gap_test`: significance of ranking skew
  (shuffled gallery labels) and of a best-minus-worst group gap (within-query
  permutations); :func:`cluster_bootstrap_ci`; :func:`holm_bonferroni`.
- :func:`load_weat_tests`, :func:`seat_sentences`: WEAT 1-10 stimuli and SEAT templates;
  :func:`load_neutral_queries`: attribute-free queries for skew probes;
  :func:`load_probe_file`: user association tests from JSON/YAML.

Pure numpy/scipy; never imports ``audit``. Formulas and choices: docs/bias-statistics.md
and docs/bias.md.
"""

from fairness.probes._association import AssociationResult, association_test, s_scores
from fairness.probes._neutral import NeutralQuery, load_neutral_queries, neutral_query_sets
from fairness.probes._probe_sets import (
    MODALITIES,
    ProbeSet,
    StimulusSet,
    load_probe_file,
    parse_probe_sets,
    yaml_available,
)
from fairness.probes._ranking_tests import (
    GapTestResult,
    SkewTestResult,
    cluster_bootstrap_ci,
    group_gap_test,
    holm_bonferroni,
    skew_permutation_test,
)
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
    "MODALITIES",
    "AssociationResult",
    "GapTestResult",
    "LargeKWarning",
    "NeutralQuery",
    "ProbeSet",
    "SkewTestResult",
    "StimulusSet",
    "WeatSpec",
    "WordSet",
    "association_test",
    "cluster_bootstrap_ci",
    "group_gap_test",
    "holm_bonferroni",
    "load_neutral_queries",
    "load_probe_file",
    "load_seat_templates",
    "load_weat_tests",
    "max_skew_at_k",
    "min_skew_at_k",
    "ndkl",
    "neutral_query_sets",
    "parse_probe_sets",
    "proportional_target",
    "s_scores",
    "seat_sentences",
    "skew_at_k",
    "skew_permutation_test",
    "uniform_target",
    "yaml_available",
]
