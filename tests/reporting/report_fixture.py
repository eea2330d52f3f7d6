"""A judged report for the audit-report tests: all four suites, hostile names, a planted
over-correction (debiased d strongly negative, stored ``sign_reversed``), a failing gate,
too-few-samples results; gates and verdict computed by the real gate code."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from charts_fixture import HREF, IMG, SCRIPT, chart_report

from audit.gates import apply_policy, parse_policy
from audit.report import Report, Result

#: Report strings that must come out as text: markup, Markdown, a template expression.
JINJA = "{{ 7*7 }}{% if 1 %}jinja{% endif %}"
SPAN = "</span></td></table><b>bold</b>"
MD_LINK = "[click](http://198.51.100.7/md) ![img](http://198.51.100.7/i.png)"
PLANTED = (SCRIPT, IMG, HREF, JINJA, SPAN, MD_LINK)

#: A reproducibility.datasets entry as audit/_repro.py writes it (card words hostile).
DATASET = {
    "spec": "builtin:tiny",
    "name": "tiny",
    "split": "test",
    "card": {
        "description": f"Tiny stand-in set {SCRIPT}",
        "license": {"spdx": ["MIT"], "summary": MD_LINK},
        "limitations": "Emoji stand in for people.",
    },
    "counts": {"corpus": 12, "queries": 3, "judgements": 3},
    "sha256": "ab" * 32,
    "items_skipped": 0,
}

POLICY = """
[policy]
name = "report-test"

[[gate]]
name = "bias-debiased"
dimension = "fairness"
suite = "bias"
check = "weat/*"
metric = "effect_size"
variant = "debiased"
max_abs = 0.5

[[gate]]
name = "redteam-asr"
dimension = "robustness"
suite = "redteam"
metric = "attack_success_rate"
variant = "raw"
max = 0.95
allow_empty = true
"""


def judged_report(*, hostile: bool = True) -> Report:
    """The chart fixture's results plus the over-correction's delta, judged by POLICY."""
    report = chart_report(hostile=hostile)
    deb = next(
        r
        for r in report.results
        if r.metric == "effect_size" and r.variant == "debiased" and (r.value or 0) < -1
    )
    raw = next(
        r
        for r in report.results
        if r.check == deb.check and r.metric == "effect_size" and r.variant == "raw"
    )
    extra = [
        Result(
            suite="bias",
            check=deb.check,
            metric="effect_size",
            variant="delta",
            value=deb.value - raw.value,
            dim=deb.dim,
            modality=deb.modality,
            n=deb.n,
            details={"definition": "debiased minus raw", "raw_dim": raw.dim, "sign_reversed": True},
        ),
        Result(
            suite="retrieval",
            check="tiny" + (f" {JINJA}" if hostile else ""),
            metric="recall@10",
            value=0.25,
            dim=384,
            group="profession=artist" + (f" {SPAN}" if hostile else ""),
            modality="text->image",
            ci_low=0.0,
            ci_high=1.0,
            n=2,
            too_few="too few queries (n=2)" + (f" {MD_LINK}" if hostile else ""),
        ),
    ]
    results = list(report.results) + extra
    update: dict[str, Any] = {"results": results}
    if hostile:
        update["errors"] = []
        update["config"] = {"seed": 0, "note": HREF, "quick": True}
        update["reproducibility"] = {
            "embedder_fingerprint": f"fp {JINJA}",
            "seed": 0,
            "datasets": [DATASET],
        }
    report = report.model_copy(update=update)
    report = Report.model_validate(report.model_dump())
    return apply_policy(report, parse_policy(POLICY))


def resolve(data: Any, path: str) -> Any:
    """Read ``results[3].details["eps"]``-style paths from parsed JSON (test-side parser)."""
    token = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')
    pos, cur = 0, data
    while pos < len(path):
        m = token.match(path, pos)
        assert m, f"bad data-src {path!r} at {pos}"
        name, idx, key = m.groups()
        if idx is not None:
            cur = cur[int(idx)]
        else:
            k = name if name is not None else json.loads(f'"{key}"')
            cur = cur[k]
        pos = m.end()
    return cur


def close(shown: float, stored: float) -> bool:
    """``shown`` is ``stored`` to the 4 significant digits the report prints."""
    return math.isclose(shown, stored, rel_tol=5e-4, abs_tol=1e-12)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr"}


class StrictHTML(HTMLParser):
    """Balanced tags (void elements excepted), counting each tag and the attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.counts: dict[str, int] = {}
        self.attrs: list[tuple[str, str, str]] = []  # (tag, name, value)
        self.svg_depth = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:  # <path .../> inside SVG
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.attrs += [(tag, k, v or "") for k, v in attrs]

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


def check_html(text: str) -> StrictHTML:
    """Parse strictly; fail on unbalanced tags, an open element, or not one <html>."""
    parser = StrictHTML()
    parser.feed(text)
    parser.close()
    assert not parser.errors, parser.errors[:5]
    assert not parser.stack, f"unclosed: {parser.stack}"
    assert parser.counts.get("html") == 1 and parser.counts.get("body") == 1
    return parser


def write_run(root: Path, report: Report) -> Path:
    """Save ``report`` as a run folder; the folder."""
    folder = root / "run1"
    report.save(folder / "report.json")
    return folder
