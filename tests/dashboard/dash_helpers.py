"""Helpers shared by the dashboard tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def plain(markdown: str) -> str:
    """Undo the dashboard's Markdown escaping, to compare with the original text."""
    # The invisible word joiners md() puts into ":name:" and " -> " go too.
    return re.sub(r"\\(.)", r"\1", markdown).replace("  \n", "\n").replace("\u2060", "")


def raw_results(run_dir: Path) -> list[dict]:
    """The results of a report.json, read with json (independently of the dashboard)."""
    return json.loads((run_dir / "report.json").read_text())["results"]


def goto(at: AppTest, page: str) -> AppTest:
    """Switch to a page ("bias", "compare", ...) and run it; no exception allowed."""
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at
