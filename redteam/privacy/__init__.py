"""Privacy attacks and defenses on embeddings: what a vector and an index give away.

Plain functions over numpy arrays, lists of str and an ``embed(texts) -> ndarray``
callable; results are frozen dataclasses carrying the numbers a suite stores (each rate
with its 95 % CI and n, a p-value against chance where one applies). Torch-free (numpy,
scipy, scikit-learn only; the ``torch-free`` import contract checks it). Nothing here is
registered in redteam's registries yet. See docs/privacy.md.

Three parts:

1. Attribute inference (``_attribute``): cross-validated linear probes that read a
   sensitive attribute out of embeddings, and ``erasure_check`` for a projection meant to
   remove it (held-out items, and what leaks through other attributes).
2. Text inversion (``_bow_inverter``, ``_reconstruct``, ``_pii``, ``_corpus``): a
   bag-of-words inverter, black-box iterative reconstruction under a query budget, and
   PII recovery.
3. Membership inference and defenses (``_membership``, ``_defenses``): whether an item is
   in an index from top-k scores, and defenses (noise, secret rotation, truncation) with a
   leakage-versus-utility curve.
"""

# Part 1: attribute inference (P1).
from redteam.privacy._attribute import ProbeScore, probe_attribute
from redteam.privacy._erasure import ErasureResult, ErasureRow, erasure_check

# isort: split
# Part 2: text inversion (P2).
from redteam.privacy._bow_inverter import (
    BowInversionPoint,
    BowInversionResult,
    BowInverter,
    evaluate_bow_inversion,
    fit_bow_inverter,
)
from redteam.privacy._corpus import (
    DOCUMENTED_SHA256,
    SentenceCorpus,
    python_doc_sentences,
    split_sentences,
)
from redteam.privacy._pii import PII_KINDS, PiiItem, PiiRecovery, detect_pii, pii_recovery
from redteam.privacy._reconstruct import (
    BudgetExceeded,
    CountingEmbed,
    ReconstructionCheckpoint,
    ReconstructionResult,
    reconstruct_text,
)
from redteam.privacy._text_metrics import (
    Estimate,
    content_words,
    micro_prf,
    token_f1,
    tokenize,
    wilson_estimate,
)

# isort: split
# Part 3: membership inference and defenses (P3).
from redteam.privacy._defenses import (
    Defense,
    GaussianNoise,
    LeakagePoint,
    MatryoshkaTruncation,
    RandomRotation,
    leakage_curve,
)
from redteam.privacy._membership import (
    MembershipResult,
    index_membership,
    membership_attack,
    top1_scores,
    tpr_at_fpr,
)

__all__: list[str] = [  # noqa: RUF022 - grouped by part, sorted within each
    # Part 1: attribute inference.
    "ErasureResult",
    "ErasureRow",
    "ProbeScore",
    "erasure_check",
    "probe_attribute",
    # Part 2: text inversion.
    "BowInversionPoint",
    "BowInversionResult",
    "BowInverter",
    "BudgetExceeded",
    "CountingEmbed",
    "DOCUMENTED_SHA256",
    "Estimate",
    "PII_KINDS",
    "PiiItem",
    "PiiRecovery",
    "ReconstructionCheckpoint",
    "ReconstructionResult",
    "SentenceCorpus",
    "content_words",
    "detect_pii",
    "evaluate_bow_inversion",
    "fit_bow_inverter",
    "micro_prf",
    "pii_recovery",
    "python_doc_sentences",
    "reconstruct_text",
    "split_sentences",
    "token_f1",
    "tokenize",
    "wilson_estimate",
    # Part 3: membership inference and defenses.
    "Defense",
    "GaussianNoise",
    "LeakagePoint",
    "MatryoshkaTruncation",
    "MembershipResult",
    "RandomRotation",
    "index_membership",
    "leakage_curve",
    "membership_attack",
    "top1_scores",
    "tpr_at_fpr",
]
