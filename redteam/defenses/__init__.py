"""Defenses, each measurable by attack success with and without it and by its clean cost.

Registered in :data:`defenses` as :class:`~redteam._specs.DefenseSpec` entries (the class
or function plus where and how it acts); an entry is callable and forwards to it.
"""

from redteam._registry import Registry
from redteam._specs import DefenseSpec
from redteam.defenses._hubness import HubnessReport, detect_hubs, k_occurrence, robust_zscores
from redteam.defenses._rerank import CSLS, MutualProximity
from redteam.defenses._squeeze import (
    SqueezeDetector,
    bit_depth_squeeze,
    detection_auc,
    jpeg_squeeze,
)
from redteam.defenses._unicode import (
    DEFAULT_IGNORABLE_RANGES,
    UnicodeSanitizer,
    fold_confusables,
    is_default_ignorable,
    resolve_bidi_overrides,
)

__all__ = [
    "CSLS",
    "DEFAULT_IGNORABLE_RANGES",
    "DefenseSpec",
    "HubnessReport",
    "MutualProximity",
    "SqueezeDetector",
    "UnicodeSanitizer",
    "bit_depth_squeeze",
    "defenses",
    "detect_hubs",
    "detection_auc",
    "fold_confusables",
    "is_default_ignorable",
    "jpeg_squeeze",
    "k_occurrence",
    "resolve_bidi_overrides",
    "robust_zscores",
]

#: Registered defenses: name -> DefenseSpec (callable: builds or applies the defense); the
#: description is the component's docstring. Registration order is the order a run applies
#: them in (squeezers: jpeg, then bit-depth).
defenses: Registry[DefenseSpec] = Registry("defense")
# The threat models a defense is meant against (DefenseSpec.counters).
_QUERY, _IMAGE, _INDEX = ("text", "index"), ("white-box", "black-box", "index"), ("index",)
defenses.add(DefenseSpec("unicode-sanitize", UnicodeSanitizer, "text-query", "sanitizer", _QUERY))
defenses.add(DefenseSpec("jpeg", jpeg_squeeze, "image-input", "squeezer", _IMAGE))
defenses.add(DefenseSpec("bit-depth", bit_depth_squeeze, "image-input", "squeezer", _IMAGE))
defenses.add(DefenseSpec("squeeze-detector", SqueezeDetector, "image-input", "detector", _IMAGE))
defenses.add(DefenseSpec("hubness", detect_hubs, "index", "detector", _INDEX))
defenses.add(DefenseSpec("csls", CSLS, "index-scores", "reranker", _INDEX))
defenses.add(DefenseSpec("mutual-proximity", MutualProximity, "index-scores", "reranker", _INDEX))
