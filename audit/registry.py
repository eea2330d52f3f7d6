"""The named registry of mme-audit: explicit registration, duplicates rejected, close names
suggested (suites, embedders, checkers, built-in datasets, engines, metrics, ...).

There is one implementation for the whole distribution, :mod:`redteam._registry`, and this
module re-exports it. It lives in ``redteam`` because the layers only point one way:
``fairness`` and ``redteam`` are libraries of their own that never import ``audit``, while
``audit`` may import them, so the only place every package can share is the lowest one.
``redteam._registry`` imports nothing but the standard library (no torch), so importing this
module stays cheap for the CLI and the dashboard.
"""

from redteam._registry import NAME_PATTERN, Registry, RegistryError, did_you_mean

__all__ = ["NAME_PATTERN", "Registry", "RegistryError", "did_you_mean"]
