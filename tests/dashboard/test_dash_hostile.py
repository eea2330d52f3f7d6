"""Every page on a run whose every string is hostile: all Markdown the app sends is inert.

AppTest runs the real pages; each string the app hands to a Markdown-interpreting widget
(titles, headers, captions, Markdown, alerts, and the labels of page links, expanders,
tabs and metrics) is checked with :func:`hostile_run.inert_problems` (markdown-it-py plus
Streamlit's own patterns), and the hostile strings must be shown in full. The browser
test (test_dash_hostile_browser.py) checks the same run in Chromium.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hostile_run import CHECK, GATE, RUN, SHOWN, inert_problems, write_hostile_runs
from streamlit.testing.v1 import AppTest

from dashboard._text import unescape

BODIES = ["title", "header", "subheader", "caption", "markdown", "error", "warning", "info"]
BODIES += ["success"]
LABELS = ["page_link", "expander", "tab", "metric", "selectbox", "multiselect"]
PAGES = ["overview", "bias", "retrieval", "safety", "redteam", "compare"]


def markdown_strings(at: AppTest) -> Iterator[tuple[str, str]]:
    """(element type, string) for every string the app gave a Markdown widget."""
    for kind in BODIES:
        for el in at.get(kind):
            yield kind, str(el.value)
    for kind in LABELS:
        for el in at.get(kind):
            yield f"{kind} label", str(el.label)
            if kind == "metric":
                yield "metric value", str(el.value)
    for el in at.get("image"):  # st.image captions are Markdown too
        for caption in el.captions:
            yield "image caption", caption


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hostile_runs(tmp_path_factory.mktemp("hostile") / "runs")


def test_every_page_sends_only_inert_markdown(
    app: Callable[..., AppTest], hostile_root: Path
) -> None:
    at = app(hostile_root)
    seen: dict[str, list[str]] = {}
    for page in PAGES:
        if page != "overview":
            at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        strings = list(markdown_strings(at))
        seen[page] = [unescape(s) for _, s in strings]
        bad = {f"{kind}: {s[:60]}": inert_problems(s) for kind, s in strings}
        assert {k: v for k, v in bad.items() if v} == {}, page
    # The hostile strings reach the page whole (escaped, not dropped or cut).
    for page, wanted in SHOWN.items():
        for text in wanted:
            assert any(text in s for s in seen[page]), (page, text[:40])
    at.switch_page("views/overview.py").run()
    labels = [unescape(str(el.label)) for el in at.get("page_link")]
    # The gate selects CHECK/effect_size: count those results in report.json, with json.
    report = json.loads((hostile_root / RUN / "report.json").read_text())
    n = sum(r["check"] == CHECK and r["metric"] == "effect_size" for r in report["results"])
    assert labels == [f"Evidence for {GATE}: {n} result(s) on the bias page"]
