"""The metric registry: every metric a suite emits has an entry, and the dashboard's
"which way is better" reads it with the verdicts the dashboard gave before (issue 17)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from audit.metrics import METRICS, metric_direction, metric_info
from audit.retrieval._metrics import METRICS as RANKING_FAMILIES

ROOT = Path(__file__).resolve().parents[2]

# Metric names the suites emit (``k`` stands for any cut-off), with where they come from;
# checked against the report of ``audit run --suite all --quick`` (50 distinct names).
EMITTED_AT_K = [
    *(f"{m}@k" for m in RANKING_FAMILIES),  # retrieval metrics, bias disparity/cost metrics
    *(f"{m}@k_{s}" for m in RANKING_FAMILIES for s in ("difference", "ratio")),  # group gaps
    "skew@k", "max_skew@k", "min_skew@k", "ndkl@k",  # bias/_ranking.py
    "asr@k",  # redteam/_index.py (hub)
    "recall@k_attacked",  # redteam/_results.py
    "recall@k_poisoned",  # redteam/_text.py
]  # fmt: skip
EMITTED = [
    "latency_ms_per_item", "throughput_items_per_s", "avg_recall", "avg_hit",  # retrieval.py
    "effect_size", "probes_run",  # bias
    "recall", "precision", "f1", "false_positive_rate", "block_rate", "flag_rate",
    "detection_rate", "false_match_rate", "held_out_fpr", "fpr_gap", "filter_ms_per_item",
    "embed_ms_per_item", "overhead_ratio",  # safety/_evaluate.py, safety/_texteval.py
    "attack_success_rate", "cosine_drift", "queries_used", "queries_destroyed",
    "rank_after_mean", "hub_flagged", "clean_recall_cost", "detector_auc", "skipped",  # redteam
]  # fmt: skip

# The dashboard's rule before the registry (dashboard/_frames.py, by regex): the oracle.
_HIGHER = re.compile(r"^(recall@\d+|avg_recall|ndcg@\d+|mrr(@\d+)?|map(@\d+)?|precision|recall)$")
_LOWER = re.compile(
    r"^(attack_success_rate|false_positive_rate|false_negative_rate|ndkl|evasion_rate)$"
)
_ABS_LOWER = re.compile(r"^(effect_size|max_skew@\d+|min_skew@\d+|gap|disparity)$")


def _old_direction(metric: str) -> str | None:
    for direction, pattern in (("higher", _HIGHER), ("lower", _LOWER), ("abs-lower", _ABS_LOWER)):
        if pattern.match(metric):
            return direction
    return None


def _concrete() -> list[str]:
    return EMITTED + [m.replace("@k", f"@{k}") for m in EMITTED_AT_K for k in (1, 10)]


@pytest.mark.parametrize("metric", _concrete())
def test_every_emitted_metric_has_an_entry(metric: str) -> None:
    info = metric_info(metric)
    assert info is not None, f"{metric}: no entry in audit.metrics"
    assert info.description and info.unit


# ndkl@k is the one emitted name whose verdict changed: the old regex listed ``ndkl`` as
# lower-is-better but missed the ``ndkl@k`` the bias suite writes.
FIXED = {"ndkl@1": "lower", "ndkl@10": "lower"}


@pytest.mark.parametrize("metric", _concrete())
def test_dashboard_verdicts_are_the_ones_it_gave_before(metric: str) -> None:
    assert metric_direction(metric) == FIXED.get(metric, _old_direction(metric))


@pytest.mark.parametrize(
    "metric",
    ["ndcg@5", "mrr", "mrr@3", "map", "map@100", "avg_recall", "ndkl", "evasion_rate",
     "false_negative_rate", "gap", "disparity", "ndcg", "effect_size@5", "recall@5@5",
     "block_rate@3", "no_such_metric", "Recall@10", "recall@10x"],
)  # fmt: skip
def test_names_the_old_rule_knew_keep_their_verdict(metric: str) -> None:
    assert metric_direction(metric) == _old_direction(metric)


def test_entries_are_well_formed() -> None:
    assert len(METRICS) >= 40
    for name in METRICS:
        info = METRICS.get(name)
        assert info.name == name and "@" not in name
        assert info.direction in (None, "higher", "lower", "abs-lower")
        assert info.at_k in ("no", "optional", "required")
        low, high = info.range
        assert low is None or high is None or low < high, name


def _literal_metric_names() -> set[str]:
    """String literals the suites pass as a metric (``metric="..."`` or a result helper's
    second argument), read from the source so a new literal metric cannot go unregistered."""
    helpers = {"result", "_rate", "res"}
    found: set[str] = set()
    files = [*(ROOT / "audit/suites").rglob("*.py"), *(ROOT / "audit/safety").rglob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            args = [kw.value for kw in node.keywords if kw.arg == "metric"]
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in helpers and len(node.args) >= 2:
                args.append(node.args[1])
            found |= {a.value for a in args if isinstance(a, ast.Constant)}
    return {v for v in found if isinstance(v, str)}


def test_the_catalogue_above_holds_every_literal_metric_of_the_suites() -> None:
    literal = _literal_metric_names()
    assert {"effect_size", "f1", "cosine_drift", "rank_after_mean"} <= literal  # the scan works
    assert sorted(literal - set(EMITTED)) == []


def test_importing_the_registry_is_light() -> None:
    code = "import audit.metrics, sys; print(sorted({'numpy', 'torch'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
