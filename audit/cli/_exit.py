"""The exit codes of the ``audit`` command (the contract in docs and CI scripts)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What ``audit`` exits with; an ``int``, so ``sys.exit(code)`` and ``code == 0`` work.

    The values are a public contract (CI jobs branch on them): never renumber them.
    """

    #: Every gate passed, or there was no policy to judge by.
    OK = 0
    #: A gate failed.
    GATE_FAILED = 1
    #: A usage, configuration or input-data error; nothing was judged.
    USAGE = 2
    #: The run itself failed: it stopped, or a requested check errored (status
    #: "incomplete" unless --allow-errors).
    RUN_FAILED = 3
