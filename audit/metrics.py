"""What the metrics in a report mean: direction, unit and range, one registry for all suites.

A result's ``metric`` is a name such as ``recall@10``, ``max_skew@5``, ``effect_size`` or
``recall@10_attacked``. :func:`metric_info` looks it up: the cut-off ``@k`` is taken out
(``recall@10_attacked`` -> ``recall_attacked``) and the rest is the registered name; the
entry says whether the name takes a cut-off. The dashboard's compare page reads the
direction from here; an unknown metric, or one registered with no direction, is shown as
"changed" without a verdict rather than guessed.

Pure data (standard library only): the dashboard and the torch-free CLI import it.

To add a metric: one ``_add(...)`` line below, in the block of the suite that emits it;
``tests/audit/test_metrics_registry.py`` fails for a metric a suite emits with no entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from audit.registry import Registry

#: Which way is better: a larger value, a smaller one, or one closer to zero.
Direction = Literal["higher", "lower", "abs-lower"]
#: Whether a name carries a cut-off ``@k``: never, optionally, or always.
AtK = Literal["no", "optional", "required"]

_CUTOFF = re.compile(r"@\d+")


@dataclass(frozen=True)
class MetricInfo:
    """One registered metric (a family of names when it takes a cut-off ``@k``).

    Attributes
    ----------
    name : str
        Registry name: the metric name without its ``@k`` (``max_skew`` for ``max_skew@5``).
    description : str
        One line for listings and tooltips.
    direction : {"higher", "lower", "abs-lower"} or None
        Which way is better; None where the compare page gives no verdict on a change (a
        count, a timing, a diagnostic).
    unit : str
        What the value is measured in ("fraction", "ms", "Cohen's d", ...).
    low, high : float or None
        The range of possible values; None where unbounded on that side.
    at_k : {"no", "optional", "required"}
        Whether the name carries a cut-off ``@k`` (``recall@10``).
    suffix : str
        What follows the cut-off in the name (``_attacked`` in ``recall@10_attacked``).
    """

    name: str
    description: str
    direction: Direction | None
    unit: str
    low: float | None
    high: float | None
    at_k: AtK = "no"
    suffix: str = ""

    @property
    def template(self) -> str:
        """How the name is written: ``ndcg@k``, ``mrr[@k]``, ``recall@k_attacked``."""
        stem = self.name.removesuffix(self.suffix)
        cut = {"no": "", "optional": "[@k]", "required": "@k"}[self.at_k]
        return f"{stem}{cut}{self.suffix}"

    @property
    def range(self) -> tuple[float | None, float | None]:
        """``(low, high)``; None for an unbounded side."""
        return (self.low, self.high)


#: Every metric a suite reports, by name without its cut-off.
METRICS: Registry[MetricInfo] = Registry("metric")


def _add(
    name: str,
    description: str,
    direction: Direction | None,
    unit: str = "fraction",
    low: float | None = 0.0,
    high: float | None = 1.0,
    at_k: AtK = "no",
    suffix: str = "",
) -> None:
    METRICS.add(MetricInfo(name, description, direction, unit, low, high, at_k, suffix))


def metric_info(metric: str) -> MetricInfo | None:
    """The entry for a report's metric name, or None when none is registered.

    ``recall@10`` and ``recall`` both find ``recall`` (its cut-off is optional);
    ``ndcg`` alone finds nothing (``ndcg`` needs one); ``effect_size@5`` finds nothing;
    ``recall@10_attacked`` finds ``recall_attacked``, ``recall_attacked@10`` nothing.
    """
    cutoffs = _CUTOFF.findall(metric)
    key = _CUTOFF.sub("", metric)
    if len(cutoffs) > 1 or key not in METRICS:
        return None
    info = METRICS.get(key)
    if (cutoffs and info.at_k == "no") or (not cutoffs and info.at_k == "required"):
        return None
    written = f"{info.name.removesuffix(info.suffix)}{''.join(cutoffs)}{info.suffix}"
    return info if written == metric else None  # the cut-off stands before the suffix


def metric_direction(metric: str) -> Direction | None:
    """Which way is better for ``metric`` (None: unknown, or no verdict for it)."""
    info = metric_info(metric)
    return None if info is None else info.direction


# Ranked retrieval (retrieval suite, bias disparity and projection cost; audit.retrieval).
_add("recall", "share of the relevant items found in the top k", "higher", at_k="optional")
_add("hit", "whether any relevant item is in the top k", None, at_k="required")
_add("ndcg", "normalised discounted cumulative gain at k", "higher", at_k="required")
_add("mrr", "mean reciprocal rank of the first relevant item", "higher", at_k="optional")
_add("map", "mean average precision", "higher", at_k="optional")
_add("avg_recall", "recall averaged over the cut-offs", "higher")
_add("avg_hit", "hit averaged over the cut-offs (R@1, R@5, R@10)", None)
_add("precision", "share of the flagged or retrieved items that are relevant", "higher")
for _family in ("recall", "hit", "ndcg", "mrr"):
    _add(
        f"{_family}_difference",
        f"largest minus smallest group {_family}@k (fairlearn MetricFrame)",
        None,
        at_k="required",
        suffix="_difference",
    )
    _add(
        f"{_family}_ratio",
        f"smallest over largest group {_family}@k (fairlearn MetricFrame)",
        None,
        at_k="required",
        suffix="_ratio",
    )
_add("latency_ms_per_item", "embedding wall time per item", None, "ms", 0.0, None)
_add("throughput_items_per_s", "items embedded per second", None, "items/s", 0.0, None)

# Bias suite.
_add("effect_size", "association effect size (WEAT/SEAT)", "abs-lower", "Cohen's d", -2.0, 2.0)
_add(
    "skew",
    "log ratio of a group's share in the top k to its target",
    None,
    "log ratio",
    None,
    None,
    "required",
)
_add(
    "max_skew", "largest group skew in the top k", "abs-lower", "log ratio", None, None, "required"
)
_add(
    "min_skew", "smallest group skew in the top k", "abs-lower", "log ratio", None, None, "required"
)
_add(
    "ndkl",
    "normalised discounted KL divergence from the target shares",
    "lower",
    "nats",
    0.0,
    None,
    "optional",
)
_add("gap", "difference between groups", "abs-lower", "value", None, None)
_add("disparity", "difference between groups", "abs-lower", "value", None, None)
_add("probes_run", "bias probes that ran", None, "count", 0.0, None)

# Content safety suite.
_add("false_positive_rate", "benign items flagged or blocked", "lower")
_add("false_negative_rate", "harmful items let through", "lower")
_add("evasion_rate", "obfuscated harmful items let through", "lower")
_add("f1", "harmonic mean of precision and recall", None)
_add("block_rate", "items blocked", None)
_add("flag_rate", "items flagged", None)
_add("detection_rate", "harmful items flagged or blocked", None)
_add("false_match_rate", "hash-list matches on items not in the list", None)
_add("held_out_fpr", "false-positive rate on held-out benign items after calibration", None)
_add("fpr_gap", "largest minus smallest group false-positive rate", None)
_add("filter_ms_per_item", "safety filter wall time per item", None, "ms", 0.0, None)
_add("embed_ms_per_item", "embedding wall time per item, next to the filter", None, "ms", 0.0, None)
_add("overhead_ratio", "filter time over embedding time", None, "ratio", 0.0, None)

# Red-team suite.
_add("attack_success_rate", "attacked queries or items that reach the attacker's goal", "lower")
_add("asr", "attack success rate counted in the top k", None, at_k="required")
_add(
    "recall_attacked", "recall@k of the attacked queries", None, at_k="required", suffix="_attacked"
)
_add(
    "recall_poisoned",
    "recall@k of the clean passages with poison in the corpus",
    None,
    at_k="required",
    suffix="_poisoned",
)
_add(
    "cosine_drift",
    "cosine distance between clean and attacked embeddings",
    None,
    "cosine",
    0.0,
    2.0,
)
_add("queries_used", "model queries a score-based attack spent", None, "count", 0.0, None)
_add("queries_destroyed", "attacked queries the embedder refused", None, "count", 0.0, None)
_add("rank_after_mean", "mean rank of the hijacked item after the attack", None, "rank", 0.0, None)
_add("hub_flagged", "1 if the hubness detector flags the adversarial hub, else 0", None)
_add("clean_recall_cost", "recall lost on clean queries by a defense", None, "fraction", -1.0, 1.0)
_add("detector_auc", "ROC AUC of the feature-squeezing detector", None)
_add("skipped", "a check that could not run (the reason is in details)", None, "none", None, None)
del _family
