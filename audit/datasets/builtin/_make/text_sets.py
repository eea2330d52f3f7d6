"""``passages`` and ``documents``: Python's own documentation, shipped with CPython.

* passages: sections of the Python Language Reference as ``pydoc`` ships them
  (``pydoc_data.topics``); the query is a section heading ("The assert statement"), the
  relevant passage the start of that section's prose (grammar and code blocks removed).
* documents: docstrings of standard-library modules (read with ``ast``, nothing is
  imported), each rendered to a one-page PDF with fpdf2; the query is the docstring's
  summary line ("Heap queue algorithm (a.k.a. priority queue)."), the page shows the
  module name and the rest of the docstring.

Both are PSF-licensed text; the contents depend on the Python version recorded in the
card.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import sysconfig
from pathlib import Path
from typing import Any

from audit.datasets.builtin._make._common import fresh_folder, versions, write_dataset
from audit.items import Item

PASSAGE_CHARS = 700
MIN_PROSE = 150
PAGE_CHARS = 2600
_UNDERLINE = re.compile(r"[*=\-]{3,}")
LICENSE = {
    "summary": "Python documentation text, PSF License 2.0 (shipped with CPython).",
    "spdx": ["PSF-2.0"],
}


def slug(text: str) -> str:
    """A stable id fragment: lowercase letters, digits and underscores."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def topic_sections() -> list[tuple[str, str, list[str]]]:
    """``(topic, heading, body lines)`` of every section of every pydoc topic."""
    from pydoc_data.topics import topics

    sections: list[tuple[str, str, list[str]]] = []
    for topic, text in topics.items():
        lines = text.splitlines()
        heading: str | None = None
        body: list[str] = []
        i = 0
        while i < len(lines):
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if (
                lines[i].strip()
                and _UNDERLINE.fullmatch(nxt)
                and len(nxt) >= len(lines[i].strip()) - 1
            ):
                if heading:
                    sections.append((topic, heading, body))
                heading, body, i = lines[i].strip(), [], i + 2
                continue
            body.append(lines[i])
            i += 1
        if heading:
            sections.append((topic, heading, body))
    return sections


def prose(lines: list[str], limit: int = PASSAGE_CHARS) -> str:
    """Unwrapped prose paragraphs (grammar, code and signature lines dropped), cut at a
    sentence end near ``limit`` characters.

    pydoc indents both code blocks and the bodies of definitions by three spaces: an
    indented paragraph is code when the text before it introduced it (ended with a
    colon or with no punctuation), and prose otherwise.
    """
    paragraphs: list[str] = []
    current: list[str] = []
    in_code = False
    for line in [*lines, ""]:
        if line.strip():
            current.append(line)
            continue
        if current:
            indented = current[0].startswith("   ")
            text = " ".join(part.strip() for part in current)
            if not indented:
                in_code = text.rstrip()[-1:] not in ".?!)"
                if len(text.split()) >= 6 and "::=" not in text:
                    paragraphs.append(text)
            elif not in_code and _is_prose(text):
                paragraphs.append(text)
        current = []
    text = re.sub(r"\s+", " ", " ".join(paragraphs)).strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    return text[: cut + 1] if cut > limit // 3 else text[:limit].rsplit(" ", 1)[0] + " ..."


def _is_prose(text: str) -> bool:
    """Sentences, not grammar rules, code examples or bare signatures."""
    if "::=" in text or ">>>" in text or text.startswith(("...", "$ ")):
        return False
    return len(text.split()) >= 6 and text.rstrip()[-1:] in ".?!"


def make_passages() -> Path:
    """Write ``passages``: Language Reference section headings -> section prose."""
    root = fresh_folder("passages")
    corpus: list[Item] = []
    queries: list[Item] = []
    qrels: dict[str, dict[str, int]] = {}
    seen: set[str] = set()
    for topic, heading, body in topic_sections():
        text = prose(body)
        key = slug(heading)
        # the same section appears under several topics; keep its first occurrence
        if key in seen or len(text) < MIN_PROSE:
            continue
        seen.add(key)
        corpus.append(Item(f"p.{key}", "text", text, {"pydoc_topic": topic}))
        queries.append(Item(f"q.{key}", "text", heading, {}))
        qrels[f"q.{key}"] = {f"p.{key}": 1}
    card = _card(
        "passages",
        "Sections of the Python Language Reference as pydoc ships them "
        "(pydoc_data.topics). Query: a section heading; relevant: the first "
        f"~{PASSAGE_CHARS} characters of that section's prose (grammar and code blocks "
        "removed; the heading itself is not in the passage). Sections repeated under "
        f"several topics are kept once; sections with under {MIN_PROSE} characters of "
        "prose are left out.",
        "pydoc_data.topics (CPython standard library)",
    )
    write_dataset(root, corpus, queries, qrels, card, _readme(card))
    return root


def module_docstrings() -> list[tuple[str, str, str]]:
    """``(module, summary line, rest)`` for top-level stdlib modules with a one-sentence
    summary line and at least 300 characters of further docstring."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for path in sorted(lib.glob("*.py")):
        if path.name.startswith("_"):
            continue
        try:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        except (SyntaxError, UnicodeDecodeError):
            continue
        if not doc:
            continue
        summary, _, rest = doc.partition("\n")
        summary, rest = summary.strip(), rest.strip("\n")
        if summary.endswith(".") and "--" not in summary and len(summary) > 15 and len(rest) >= 300:
            found.append((path.stem, summary, rest))
    return found


def render_pdf(title: str, body: str, path: Path) -> None:
    """One A4 page: the title in bold, the body in Courier (docstrings are laid out in
    fixed width). fpdf2's core fonts are Latin-1, so other characters become '?'."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))  # reproducible bytes
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(0, 10, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", size=9)
    pdf.multi_cell(0, 4.2, _latin1(_fit(body)))
    pdf.output(str(path))


def _fit(body: str) -> str:
    """The body cut at a paragraph end so that it fits one page."""
    if len(body) <= PAGE_CHARS:
        return body
    cut = body.rfind("\n\n", 0, PAGE_CHARS)
    return body[: cut if cut > PAGE_CHARS // 3 else PAGE_CHARS].rstrip() + "\n\n[...]"


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def make_documents() -> Path:
    """Write ``documents``: module summary line -> PDF page of the module docstring."""
    root = fresh_folder("documents")
    corpus: list[Item] = []
    queries: list[Item] = []
    qrels: dict[str, dict[str, int]] = {}
    for module, summary, rest in module_docstrings():
        path = root / "media" / f"{module}.pdf"
        render_pdf(module, rest, path)
        corpus.append(Item(f"pdf.{module}", "document", path, {"module": module}))
        queries.append(Item(f"q.{module}", "text", summary, {}))
        qrels[f"q.{module}"] = {f"pdf.{module}": 1}
    card = _card(
        "documents",
        "Docstrings of Python standard-library modules, each rendered as a one-page PDF "
        "(fpdf2; module name as the heading, the docstring after its summary line in "
        "Courier). Query: the docstring's summary line; one relevant page per query. "
        "Modules qualify when the summary line is one sentence and the rest has at least "
        "300 characters.",
        "module docstrings of the CPython standard library (read with ast, not imported)",
        extra_tools=("fpdf2",),
    )
    write_dataset(root, corpus, queries, qrels, card, _readme(card))
    return root


def _card(
    name: str, description: str, source: str, extra_tools: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "group_attributes": [],
        "provenance": {
            "source": source,
            "generator": "audit/datasets/builtin/_make/text_sets.py",
            "tools": versions(*extra_tools),
        },
        "license": LICENSE,
    }


def _readme(card: dict[str, Any]) -> str:
    return f"""# {card["name"]}

{card["description"]}

**Provenance.** {card["provenance"]["source"]}, Python {card["provenance"]["tools"]["python"]}.

**License.** {card["license"]["summary"]}
"""
