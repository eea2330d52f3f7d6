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

#: Registered defenses: name -> DefenseSpec (callable: builds or applies the defense).
#: Registration order is the order a run applies them in (squeezers: jpeg, then bit-depth).
defenses: Registry[DefenseSpec] = Registry("defense")
defenses.add(
    DefenseSpec(
        "unicode-sanitize",
        UnicodeSanitizer,
        "NFKC, bidi overrides resolved, invisible characters stripped, homoglyphs folded",
        applies_to="text-query",
        role="sanitizer",
        counters=("text", "index"),
    )
)
defenses.add(
    DefenseSpec(
        "jpeg",
        jpeg_squeeze,
        "feature squeezing by JPEG re-encoding (Xu et al. 2018)",
        applies_to="image-input",
        role="squeezer",
        counters=("white-box", "black-box", "index"),
    )
)
defenses.add(
    DefenseSpec(
        "bit-depth",
        bit_depth_squeeze,
        "feature squeezing by colour bit-depth reduction (Xu et al. 2018)",
        applies_to="image-input",
        role="squeezer",
        counters=("white-box", "black-box", "index"),
    )
)
defenses.add(
    DefenseSpec(
        "squeeze-detector",
        SqueezeDetector,
        "flags inputs whose embedding moves under squeezing (cosine distance)",
        applies_to="image-input",
        role="detector",
        counters=("white-box", "black-box"),
    )
)
defenses.add(
    DefenseSpec(
        "hubness",
        detect_hubs,
        "flags index items with an outlying k-occurrence (robust z-score)",
        applies_to="index",
        role="detector",
        counters=("index",),
    )
)
defenses.add(
    DefenseSpec(
        "csls",
        CSLS,
        "CSLS re-ranking: hubs pay their mean similarity to reference queries",
        applies_to="index-scores",
        role="reranker",
        counters=("index",),
    )
)
defenses.add(
    DefenseSpec(
        "mutual-proximity",
        MutualProximity,
        "mutual-proximity re-ranking (Gaussian form, Schnitzer et al. 2012)",
        applies_to="index-scores",
        role="reranker",
        counters=("index",),
    )
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
