"""Checking a spec's ``?key=value`` options before anything is built.

The CLI calls these while it reads the configuration, so a mistyped option (``?dimm=``)
is a usage error (exit code 2) naming the closest known option, not a failed run. They
parse with the very functions the backends use, and import no SDK, model or torch.
"""

from __future__ import annotations

from audit.embedders.google._spec import GEMINI_OPTIONS, VERTEX_OPTIONS
from audit.embedders.google._spec import parse_options as _google_options


def check_bedrock(arg: str) -> None:
    """Validate ``bedrock:<model-id>[?options]`` options (ValueError if bad)."""
    from audit.embedders.bedrock._spec import parse_options

    parse_options(arg.partition("?")[2])


def check_gemini(arg: str) -> None:
    """Validate ``gemini:<model>[?options]`` options (ValueError if bad)."""
    _google_options(arg.partition("?")[2], GEMINI_OPTIONS, "gemini")


def check_vertex(arg: str) -> None:
    """Validate ``vertex:<model>[?options]`` options (ValueError if bad)."""
    _google_options(arg.partition("?")[2], VERTEX_OPTIONS, "vertex")
