"""A stored number as the report shows it: its text and the report.json path it came from.

Every number in the audit report is a :class:`Num`. In HTML it renders (through Jinja's
``__html__`` protocol) as ``<span class="num" data-src="results[12].p_adjusted">0.0024</span>``
so a test can read report.json at ``data-src`` and compare; in Markdown as its text. Nothing
is recomputed: the one display transform, ``op="exp"`` (a log-ratio skew shown as the
ratio ``e^skew``), is named in ``data-op`` so a reader can repeat it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import escape

__all__ = ["Num", "fmt_number", "src_key", "src_path"]

#: Significant digits shown; a reader comparing with report.json allows half a unit of the
#: last digit (relative 5e-4).
DIGITS = 4


def fmt_number(value: float | int) -> str:
    """``value`` with :data:`DIGITS` significant digits (integers in full)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return f"{value:.{DIGITS}g}"


def src_path(*parts: str | int) -> str:
    """A report.json path from its parts: ``src_path("results", 3, "value")`` ->
    ``results[3].value``; a string key that is not an identifier is quoted:
    ``timings["suite/bias"]``."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p.isidentifier():
            out += f".{p}" if out else p
        else:
            quoted = p.replace("\\", "\\\\").replace('"', '\\"')
            out += f'["{quoted}"]'
    return out


def src_key(key: str) -> str:
    """A dict key as a path step (``["suite/bias"]`` or ``.seed``) to append to a path."""
    return src_path("x", key)[1:]


@dataclass(frozen=True)
class Num:
    """One number shown in the report.

    Attributes
    ----------
    value : float, int or None
        The stored number (None: shown as ``n/a``).
    src : str
        Its path into report.json (``results[12].p_adjusted``).
    op : {"exp"} or None
        A display transform, named in the HTML (``data-op``).
    """

    value: float | int | None
    src: str
    op: str | None = None

    @property
    def shown(self) -> float | int | None:
        """The number displayed (the stored value after ``op``)."""
        if self.value is None or self.op is None:
            return self.value
        if self.op == "exp":
            return math.exp(self.value)
        raise ValueError(f"unknown display transform {self.op!r}")

    @property
    def text(self) -> str:
        """The displayed text (``n/a`` for a missing number)."""
        shown = self.shown
        return "n/a" if shown is None else fmt_number(shown)

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:
        if self.value is None:
            return '<span class="na">n/a</span>'
        op = f' data-op="{escape(self.op)}"' if self.op else ""
        return f'<span class="num" data-src="{escape(self.src)}"{op}>{escape(self.text)}</span>'
