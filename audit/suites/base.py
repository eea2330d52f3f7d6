"""The suite contract: one hook, ``_run``; timing, logging and bookkeeping live here."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

from audit.context import RunContext
from audit.progress import Progress
from audit.report import Result

log = logging.getLogger(__name__)


class Suite(ABC):
    """A family of checks run against the context's embedder.

    Subclasses set ``name`` and ``description`` and implement :meth:`_run`.
    """

    name: str = ""
    description: str = ""
    #: Count each yielded result as progress (:mod:`audit.progress`). A suite that
    #: collects everything before yielding (bias) sets False and counts its own steps.
    progress_results: bool = True

    @property
    def check_errors(self) -> dict[str, str]:
        """Checks of the last :meth:`run` that were requested but raised.

        Check name -> ``"ErrorType: message"``, filled through :meth:`check_failed`; the
        runner writes them to the report's ``check_errors``. (A property, not an
        ``__init__`` attribute, so subclasses with their own ``__init__`` need no super
        call.)
        """
        return self.__dict__.setdefault("_check_errors", {})

    def check_options(self, options: Mapping[str, Any], *, quick: bool) -> None:
        """Validate this suite's ``[suite.NAME]`` options before anything runs.

        The CLI calls it while reading the configuration, so a typo is a usage error
        (exit code 2) rather than a failed run. Suites with options override it.

        Raises
        ------
        ConfigError
            For an unknown option (with the closest known one) or a bad value.
        """
        if options:
            from audit.config import check_keys

            check_keys(f"[suite.{self.name}]", options, (), "option")

    def check_failed(self, check: str, exc: BaseException) -> None:
        """Record that a requested check raised, so the run cannot pass unnoticed."""
        log.error("suite %s: check %s failed: %s", self.name, check, exc, exc_info=exc)
        self.check_errors[check] = f"{type(exc).__name__}: {exc}"

    def run(self, ctx: RunContext) -> list[Result]:
        """Run every check; stamp the suite name and log the time taken."""
        start = time.perf_counter()
        self.check_errors.clear()
        log.info("suite %s: start", self.name)
        results = []
        shown = ctx.config.progress and self.progress_results
        with Progress(f"suite {self.name}", None, unit="results", enabled=shown) as progress:
            for r in self._run(ctx):
                if r.suite != self.name:
                    raise ValueError(f"suite {self.name} produced a result for suite {r.suite!r}")
                results.append(r)
                progress.update(note=r.check)
        log.info(
            "suite %s: %d result(s) in %.1f s", self.name, len(results), time.perf_counter() - start
        )
        return results

    @abstractmethod
    def _run(self, ctx: RunContext) -> Iterable[Result]:
        """Yield the suite's results."""

    def dataset_specs(self, options: Mapping[str, Any], *, quick: bool) -> list[str]:
        """Specs of the datasets a run of this suite will load (``ctx.dataset``).

        The runner loads and checks all of them, for every suite, before any suite runs
        (:mod:`audit.preflight`), so bad items are reported together and before anything
        is embedded. A dataset loaded without being declared is still checked, but only
        when it is loaded. Suites that load datasets override it.
        """
        return []
