"""Terminal summaries of finished suite results: one torch-free module per suite.

Each module has ``summary_text(results) -> str | None`` and is named by its suite's
registry entry (``SuiteEntry.summary`` in :mod:`audit.suites`), so ``audit run``,
``audit gate`` and anything else holding a report render the same text from the report's
results alone, without importing the suite (which loads models, torch, attack code). The
import contracts in pyproject.toml keep these modules away from torch and the suites.
"""
