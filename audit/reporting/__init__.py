"""The audit report: one self-contained HTML (or Markdown) file people sign off.

``render_report`` turns a stored report.json into page one (the model, the decision, the
failed gates in plain language), one section per responsible-AI dimension (gates and their
evidence, charts, thumbnails, tables), caveats and provenance. Templates are Jinja2:
the HTML environment autoescapes every report string; the Markdown one backslash-escapes
them (:func:`md_escape`), so a report string is always shown as text. The HTML has inline
CSS only: no script, no external URL, no font, so it opens offline and prints to PDF.

Torch-free: it reads the report schema and the gate/verdict helpers, never a suite or a
backend (import-linter contract ``reporting``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from audit._io import write_atomic
from audit._version import __version__
from audit.report import Report
from audit.reporting._num import Num

__all__ = [
    "COMPARISON_REPORT_NAME",
    "REPORT_NAME",
    "md_escape",
    "render_comparison_report",
    "render_report",
    "write_comparison_report",
    "write_report",
]

#: The audit report written into every run folder (and comparison folder).
REPORT_NAME = "report.html"
#: Same name for a comparison folder (next to comparison.json).
COMPARISON_REPORT_NAME = "report.html"
Format = Literal["html", "md"]

_TEMPLATES = Path(__file__).parent / "templates"
# CommonMark lets any ASCII punctuation be backslash-escaped; escaping all of it means no
# report string can open a link, emphasis, code span, table cell or raw HTML tag.
_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


class _MdText(str):
    """Text already in Markdown form (a macro's output); the finalizer leaves it alone."""

    __slots__ = ()


def md_escape(text: str) -> str:
    """``text`` as literal Markdown text: every ASCII punctuation backslash-escaped and
    line breaks turned into spaces (a string cannot end a table row or start a block)."""
    return _MD_PUNCT.sub(r"\\\1", " ".join(str(text).splitlines()))


def _md_finalize(value: Any) -> str:
    if isinstance(value, Num):
        return value.text  # our own digits, sign and exponent
    if isinstance(value, _MdText):
        return value
    if value is None:
        return ""
    return md_escape(str(value))


def _num(value: Any, src: str) -> Num:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return Num(value if ok else None, src)


def _env(fmt: Format) -> Environment:
    if fmt == "html":
        env = Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    elif fmt == "md":
        env = Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=False,
            finalize=_md_finalize,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # A macro's output is Markdown already: mark it so the finalizer keeps it.
        env.globals["_md"] = _MdText
    else:
        raise ValueError(f"unknown report format {fmt!r}; use 'html' or 'md'")
    from audit.reporting._model import LABEL_COLUMNS

    env.globals.update(num=_num, tool_version=__version__, label_columns=LABEL_COLUMNS)
    env.tests["number_cell"] = lambda v: isinstance(v, Num)
    return env


def _render(template: str, fmt: Format, **context: Any) -> str:
    from audit.reporting._model import PAGE_ONE_FINDINGS

    env = _env(fmt)
    text = env.get_template(f"{template}.{fmt}.j2").render(
        page_one_findings=PAGE_ONE_FINDINGS, **context
    )
    return text if text.endswith("\n") else text + "\n"


def render_report(report: Report, run_dir: Path | None, *, fmt: Format = "html") -> str:
    """The audit report of one run as text.

    Parameters
    ----------
    report : Report
        The stored run (read as is: nothing is recomputed or judged again).
    run_dir : Path or None
        The run folder, where red-team thumbnails are read; None renders without them.
    fmt : {"html", "md"}
        Self-contained HTML (inline CSS and SVG) or Markdown.

    Returns
    -------
    str
    """
    from audit.reporting._model import build_view

    if fmt not in ("html", "md"):
        raise ValueError(f"unknown report format {fmt!r}; use 'html' or 'md'")
    return _render("report", fmt, view=build_view(report, run_dir, charts=fmt == "html"))


def write_report(
    report: Report, run_dir: Path, *, fmt: Format = "html", out: Path | None = None
) -> Path:
    """Render and write the audit report atomically; the path written.

    The default file is ``run_dir / "report.html"`` (``report.md`` for Markdown).
    """
    run_dir = Path(run_dir)
    text = render_report(report, run_dir, fmt=fmt)
    dest = Path(out) if out is not None else run_dir / f"report.{fmt}"
    return write_atomic(dest, text)


def render_comparison_report(folder: Path, *, fmt: Format = "html") -> str:
    """The report of a comparison folder: each embedder's decision and a link to its run's
    report (read from comparison.json and each run's report.json)."""
    from audit.reporting._comparison import comparison_view

    if fmt not in ("html", "md"):
        raise ValueError(f"unknown report format {fmt!r}; use 'html' or 'md'")
    return _render("comparison", fmt, view=comparison_view(Path(folder)))


def write_comparison_report(folder: Path, *, fmt: Format = "html", out: Path | None = None) -> Path:
    """Write the comparison report (default ``folder / "report.html"``); the path."""
    folder = Path(folder)
    dest = Path(out) if out is not None else folder / f"report.{fmt}"
    return write_atomic(dest, render_comparison_report(folder, fmt=fmt))
