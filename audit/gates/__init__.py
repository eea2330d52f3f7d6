"""CI gates: a TOML policy judged against a run's report (and a baseline run).

Load a policy with :func:`load_policy` (validated before anything runs), judge a report with
:func:`apply_policy` (fills ``gates``, ``status`` and ``policy``), then write CI files with
:func:`write_junit` and :func:`write_summary`. The policy format is documented in
docs/ci.md; ``--policy default`` (:data:`DEFAULT_POLICY`) is a commented starting point.
"""

from audit.gates._evaluate import apply_policy, evaluate
from audit.gates._files import find_report, load_run, write_atomic
from audit.gates._junit import junit_xml, write_junit, write_junit_error
from audit.gates._markdown import markdown_summary, write_summary
from audit.gates._policy import (
    DEFAULT_POLICY,
    OPERATORS,
    Gate,
    Policy,
    PolicyMeta,
    load_policy,
    parse_policy,
)
from audit.gates._select import KEY_FIELDS, matches, result_key, select

__all__ = [
    "DEFAULT_POLICY",
    "KEY_FIELDS",
    "OPERATORS",
    "Gate",
    "Policy",
    "PolicyMeta",
    "apply_policy",
    "evaluate",
    "find_report",
    "junit_xml",
    "load_policy",
    "load_run",
    "markdown_summary",
    "matches",
    "parse_policy",
    "result_key",
    "select",
    "write_atomic",
    "write_junit",
    "write_junit_error",
    "write_summary",
]
