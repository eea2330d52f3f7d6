"""comparison.md, the terminal table, and one JUnit file for a comparison's gates."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from audit.compare._schema import COMPARISON_MD, COMPARISON_NAME, Comparison


def table_rows(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    """Header and rows (group headings as rows with empty cells), as plain text."""
    header = ["check", *(e.label for e in comparison.embedders)]
    rows: list[list[str]] = []
    group = None
    for row, cells in zip(comparison.rows, comparison.cells, strict=True):
        if row.group != group:
            group = row.group
            rows.append([group, *([""] * len(comparison.embedders))])
        rows.append([f"  {row.label}", *(c.text for c in cells)])
    return header, rows


def _md(text: str) -> str:
    # A cell must not end the table row or start markup.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def comparison_markdown(comparison: Comparison) -> str:
    """comparison.md: the table (group headings in bold), the runs, the legend."""
    lines = [
        f"# Embedder comparison `{comparison.comparison_id}`",
        "",
        f"Suites: {', '.join(comparison.suites)} · created {comparison.created_at} · "
        f"mme-audit {comparison.tool_version}",
        "",
    ]
    header = ["", *(_md(e.label) for e in comparison.embedders)]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    group = None
    for row, cells in zip(comparison.rows, comparison.cells, strict=True):
        if row.group != group:
            group = row.group
            lines.append(f"| **{_md(group)}** |" + " |" * len(comparison.embedders))
        lines.append("| " + " | ".join([_md(row.label), *(_md(c.text) for c in cells)]) + " |")
    lines += ["", *comparison.notes, "", "## Runs", ""]
    lines += ["| column | spec | model | modalities | dim | status | report |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for e in comparison.embedders:
        status = e.status if not e.error else f"{e.status}: {e.error}"
        cells = [e.label, f"`{e.spec}`", e.name, ", ".join(e.modalities) or "-", str(e.dim)]
        cells += [status, f"`{e.path}`" if e.path else "-"]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def comparison_text(comparison: Comparison) -> str:
    """The table as fixed-width text for the terminal."""
    header, rows = table_rows(comparison)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(out)


def write_comparison(comparison: Comparison, folder: str | Path) -> Path:
    """Write comparison.json and comparison.md into ``folder``; returns the JSON path."""
    folder = Path(folder)
    path = comparison.save(folder / COMPARISON_NAME)
    md = folder / COMPARISON_MD
    tmp = md.with_suffix(".md.tmp")
    tmp.write_text(comparison_markdown(comparison), encoding="utf-8")
    tmp.replace(md)
    return path


def merge_junit(parts: Sequence[tuple[str, Path]], dest: str | Path) -> Path:
    """One JUnit file holding each embedder's gate testsuite, renamed ``<name> [<label>]``.

    Parameters
    ----------
    parts : sequence of (label, path)
        Each embedder's JUnit file, as written for its run (our own files).
    dest : str or Path
        The merged file (written atomically).
    """
    root = ET.Element("testsuites", name="mme-audit comparison", time="0.000")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for label, path in parts:
        for suite in ET.parse(path).getroot().iter("testsuite"):
            suite.set("name", f"{suite.get('name', 'mme-audit')} [{label}]")
            for key in totals:
                totals[key] += int(suite.get(key, "0"))
            root.append(suite)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(dest)
    return dest
