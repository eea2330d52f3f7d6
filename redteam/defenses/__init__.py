"""Defenses, each measurable by attack success with and without it and by its clean cost.

Registered in :data:`defenses` (name -> class or function).
"""

from collections.abc import Callable
from typing import Any

from redteam._registry import Registry
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

#: Registered defenses: name -> class or function.
defenses: Registry[Callable[..., Any]] = Registry("defense")
defenses.register("unicode-sanitize", UnicodeSanitizer)
defenses.register("jpeg", jpeg_squeeze)
defenses.register("bit-depth", bit_depth_squeeze)
defenses.register("squeeze-detector", SqueezeDetector)
defenses.register("hubness", detect_hubs)
defenses.register("csls", CSLS)
defenses.register("mutual-proximity", MutualProximity)

__all__ = [
    "CSLS",
    "DEFAULT_IGNORABLE_RANGES",
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
