"""Suite registry. Suites register here explicitly; modules import lazily on lookup."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from audit.registry import Registry
from audit.report import Result
from audit.suites.base import Suite

__all__ = ["SUITES", "Suite", "SuiteEntry", "get_suite", "suite_names", "suite_summary"]


@dataclass(frozen=True)
class SuiteEntry:
    """Where a suite lives ("module:Class"), what it checks, and its terminal summary.

    ``summary`` ("module:function", empty for none) renders a finished report's results of
    this suite as text: ``function(results: Sequence[Result]) -> str | None``. It lives
    apart from the suite class, in a module that imports neither torch nor the suite, so
    ``audit gate`` prints the same view of a report without loading the suite's models.
    """

    target: str
    description: str
    summary: str = ""


# Classes are imported only when a suite runs, so `audit list suites` stays fast.
SUITES: Registry[SuiteEntry] = Registry("suite")
SUITES.register(
    "bias",
    SuiteEntry(
        "audit.suites.bias:BiasSuite",
        "WEAT/SEAT and cross-modal association tests, retrieval skew and per-group quality, "
        "raw and debiased side by side, with p-values (Holm) and CIs",
        summary="audit.suites._summaries.bias:summary_text",
    ),
)
SUITES.register(
    "retrieval",
    SuiteEntry(
        "audit.suites.retrieval:RetrievalSuite",
        "retrieval quality per modality pair, embedding size and group (Recall@k, nDCG, MRR), "
        "with embedding latency",
        summary="audit.suites._summaries.retrieval:summary_text",
    ),
)
SUITES.register(
    "safety",
    SuiteEntry(
        "audit.suites.safety:SafetySuite",
        "content-safety filter: precision/recall, benign false positives per group, evasion, "
        "latency",
        summary="audit.suites._summaries.safety:summary_text",
    ),
)
SUITES.register(
    "redteam",
    SuiteEntry(
        "audit.suites.redteam:RedteamSuite",
        "adversarial attacks on queries and indexed data, with and without defenses",
        summary="audit.suites._summaries.redteam:summary_text",
    ),
)


def get_suite(name: str) -> Suite:
    """Instantiate the suite registered under ``name``."""
    module, _, cls = SUITES.get(name).target.partition(":")
    suite = getattr(importlib.import_module(module), cls)()
    if not isinstance(suite, Suite):
        raise TypeError(f"{SUITES.get(name).target} is not a Suite")
    return suite


def suite_summary(name: str, results: Sequence[Result]) -> str | None:
    """The terminal summary of suite ``name`` over a report's ``results`` (None: none).

    Imports only the renderer named by the suite's entry (never the suite class), so it
    is as light as the report: ``audit gate`` on a red-team report imports no torch.

    Raises
    ------
    RegistryError
        If no suite is registered under ``name``.
    """
    target = SUITES.get(name).summary
    if not target:
        return None
    module, _, func = target.partition(":")
    render: Callable[[Sequence[Result]], str | None] = getattr(
        importlib.import_module(module), func
    )
    return render(results)


def suite_names() -> list[str]:
    """Registered suite names."""
    return SUITES.names()
