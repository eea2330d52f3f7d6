"""The content-safety filter in front of an embedder (see docs/safety.md).

Checkers score items per modality and return :class:`Decision` objects; a TOML
:class:`Policy` maps categories to ``block``/``flag``/``allow``; :class:`SafetyFilter`
screens items fail-closed and logs every verdict (content hash, never content);
:class:`SafeEmbedder` wraps any Embedder so blocked items never reach it.

>>> from audit.safety import SafeEmbedder, build_filter  # doctest: +SKIP
>>> safe = SafeEmbedder(base, build_filter("policy.toml", log_path="run/d.jsonl"))  # doctest: +SKIP
"""

from audit.safety._checker import Checker, ImageChecker, TextChecker
from audit.safety._concept import ConceptChecker, conformal_threshold
from audit.safety._decision import (
    ACTIONS,
    ERROR_CATEGORY,
    UNCHECKED_CATEGORY,
    BlockedItemsError,
    Decision,
    Finding,
    Verdict,
    reduce_findings,
)
from audit.safety._embedder import SafeEmbedder, ScreenedBatch, build_filter
from audit.safety._filter import SafetyFilter
from audit.safety._hashing import DEFAULT_MAX_DISTANCE, HASH_BITS, crop_grid, image_hash
from audit.safety._hashlist import HashList, HashMatch
from audit.safety._image import EXPOSED_LABELS, NUDENET_SHA256, HashListChecker, NudityChecker
from audit.safety._lexicon import AbuseLexiconChecker
from audit.safety._log import DecisionLog
from audit.safety._media import AudioChecker, DocumentChecker, VideoChecker, whisper_transcribe
from audit.safety._policy import (
    PACKAGED_POLICIES,
    Policy,
    PolicyError,
    default_policy,
    load_policy,
    packaged_policy,
    policy_from_dict,
    resolve_policy,
)
from audit.safety._registry import CHECKERS, BuildEnv, build_checkers
from audit.safety._text import (
    PROFANITY_SHA256,
    ListEntry,
    ProfanityChecker,
    TermListChecker,
    read_list,
    term_regex,
)
from audit.safety._unicode import harden, join_spaced, leet_fold, text_views

__all__ = [
    "ACTIONS",
    "CHECKERS",
    "DEFAULT_MAX_DISTANCE",
    "ERROR_CATEGORY",
    "EXPOSED_LABELS",
    "HASH_BITS",
    "NUDENET_SHA256",
    "PACKAGED_POLICIES",
    "PROFANITY_SHA256",
    "UNCHECKED_CATEGORY",
    "AbuseLexiconChecker",
    "AudioChecker",
    "BlockedItemsError",
    "BuildEnv",
    "Checker",
    "ConceptChecker",
    "Decision",
    "DecisionLog",
    "DocumentChecker",
    "Finding",
    "HashList",
    "HashListChecker",
    "HashMatch",
    "ImageChecker",
    "ListEntry",
    "NudityChecker",
    "Policy",
    "PolicyError",
    "ProfanityChecker",
    "SafeEmbedder",
    "SafetyFilter",
    "ScreenedBatch",
    "TermListChecker",
    "TextChecker",
    "Verdict",
    "VideoChecker",
    "build_checkers",
    "build_filter",
    "conformal_threshold",
    "crop_grid",
    "default_policy",
    "harden",
    "image_hash",
    "join_spaced",
    "leet_fold",
    "load_policy",
    "packaged_policy",
    "policy_from_dict",
    "read_list",
    "reduce_findings",
    "resolve_policy",
    "term_regex",
    "text_views",
    "whisper_transcribe",
]
