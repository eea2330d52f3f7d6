"""Suite registry. Suites register here explicitly; modules import lazily on lookup."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from audit.registry import Registry
from audit.suites.base import Suite

__all__ = ["SUITES", "Suite", "SuiteEntry", "get_suite", "suite_names"]


@dataclass(frozen=True)
class SuiteEntry:
    """Where a suite lives ("module:Class") and what it checks, importable lazily."""

    target: str
    description: str


# Classes are imported only when a suite runs, so `audit list suites` stays fast.
SUITES: Registry[SuiteEntry] = Registry("suite")
SUITES.register(
    "bias",
    SuiteEntry(
        "audit.suites.bias:BiasSuite",
        "WEAT/SEAT and cross-modal association tests, retrieval skew and per-group quality, "
        "raw and debiased side by side, with p-values (Holm) and CIs",
    ),
)
SUITES.register(
    "retrieval",
    SuiteEntry(
        "audit.suites.retrieval:RetrievalSuite",
        "retrieval quality per modality pair, embedding size and group (Recall@k, nDCG, MRR), "
        "with embedding latency",
    ),
)
SUITES.register(
    "safety",
    SuiteEntry(
        "audit.suites.safety:SafetySuite",
        "content-safety filter: precision/recall, benign false positives per group, evasion, "
        "latency",
    ),
)
SUITES.register(
    "redteam",
    SuiteEntry(
        "audit.suites.redteam:RedteamSuite",
        "adversarial attacks on queries and indexed data, with and without defenses",
    ),
)


def get_suite(name: str) -> Suite:
    """Instantiate the suite registered under ``name``."""
    module, _, cls = SUITES.get(name).target.partition(":")
    suite = getattr(importlib.import_module(module), cls)()
    if not isinstance(suite, Suite):
        raise TypeError(f"{SUITES.get(name).target} is not a Suite")
    return suite


def suite_names() -> list[str]:
    """Registered suite names."""
    return SUITES.names()
