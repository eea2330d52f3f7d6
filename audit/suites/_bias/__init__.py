"""Private parts of the bias suite: options, probe contract and registry, probes.

The terminal summary of a bias report is :mod:`audit.suites._summaries.bias`.
"""

from audit.suites._bias._association import AssociationProbe, Stimuli, StimulusItems
from audit.suites._bias._builtin import (
    NOT_RUN_BY_DESIGN,
    builtin_probes,
    list_probes,
    run_registry,
    select,
)
from audit.suites._bias._cost import CostProbe
from audit.suites._bias._env import ProbeEnv, builtin_projection, projection_info
from audit.suites._bias._options import BiasOptions, GalleryConfig
from audit.suites._bias._post import deltas, finish_statistics, too_few_reason
from audit.suites._bias._probe import ASSOCIATION_KINDS, KINDS, Probe, ProbeRegistry
from audit.suites._bias._ranking import DisparityProbe, SkewProbe
from audit.suites._summaries._holm import adjust_families, significant
from audit.suites._summaries.bias import COVERAGE_CHECK

__all__ = [
    "ASSOCIATION_KINDS",
    "COVERAGE_CHECK",
    "KINDS",
    "NOT_RUN_BY_DESIGN",
    "AssociationProbe",
    "BiasOptions",
    "CostProbe",
    "DisparityProbe",
    "GalleryConfig",
    "Probe",
    "ProbeEnv",
    "ProbeRegistry",
    "SkewProbe",
    "Stimuli",
    "StimulusItems",
    "adjust_families",
    "builtin_probes",
    "builtin_projection",
    "deltas",
    "finish_statistics",
    "list_probes",
    "projection_info",
    "run_registry",
    "select",
    "significant",
    "too_few_reason",
]
