"""Streamlit pieces every page shares: the run context, tables with CSV, filters, messages.

Text that comes from a report goes into Markdown only through :func:`md`
(``dashboard._text``), which escapes it, so a gate message such as
``![x](http://host/track.png)`` is shown as text and never makes the browser fetch
anything.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from audit.report import Report
from dashboard._frames import (
    filter_frame,
    gate_evidence,
    matching_results,
    options,
    results_frame,
    to_csv,
)
from dashboard._loader import RunEntry
from dashboard._pages import SUITE_PAGES as SUITE_PAGES  # re-exported for the overview
from dashboard._text import md as md  # re-exported: the pages import md from here

CTX_KEY = "_mme_audit_ctx"
RUNS_ENV = "MME_AUDIT_RUNS"
DEFAULT_RUNS = "runs"


@dataclass(frozen=True)
class Context:
    """What app.py found this run: the runs directory, its runs, and the selected one."""

    runs_dir: Path
    entries: list[RunEntry]
    selected: RunEntry | None

    @property
    def readable(self) -> list[RunEntry]:
        """Runs whose report was read."""
        return [e for e in self.entries if e.ok]


def entry_report(entry: RunEntry | None) -> Report:
    """The report of a readable run (pages call this once a run is known to be readable)."""
    if entry is None or entry.report is None:
        raise ValueError("no readable run is selected")
    return entry.report


def runs_dir_from_args(argv: Sequence[str], environ: dict[str, str] | None = None) -> Path:
    """The runs directory: ``--runs DIR`` after ``--`` on the streamlit command line, else
    the ``MME_AUDIT_RUNS`` environment variable, else ``./runs``."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--runs", default=None)
    known, _ = parser.parse_known_args(list(argv))
    env = os.environ if environ is None else environ
    return Path(known.runs or env.get(RUNS_ENV) or DEFAULT_RUNS)


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def set_context(ctx: Context) -> None:
    """Hand the context from app.py to the page that runs after it (per session)."""
    st.session_state[CTX_KEY] = ctx


def get_context() -> Context | None:
    """The context app.py set, or None when a page runs on its own."""
    ctx = st.session_state.get(CTX_KEY)
    return ctx if isinstance(ctx, Context) else None


def empty_message(runs_dir: Path) -> str:
    """What to show when there is nothing to review."""
    where = md(runs_dir)
    if not runs_dir.exists():
        return (
            f"The runs directory {where} does not exist yet. Run an audit first, e.g. "
            "`audit run --suite bias --out DIR`, then start the dashboard with "
            "`audit dashboard --runs DIR`."
        )
    return (
        f"No runs found in {where}. Run an audit first, e.g. "
        "`audit run --suite bias --out DIR`, then reload this page."
    )


def page_header(title: str) -> Context | None:
    """Title, plus the selected run's caption; None (after a message) when no run is readable."""
    st.title(title)
    ctx = get_context()
    if ctx is None:
        st.error("Open the dashboard through dashboard/app.py (`audit dashboard`).")
        return None
    if not ctx.entries:
        st.info(empty_message(ctx.runs_dir))
        return None
    if ctx.selected is None or ctx.selected.report is None:
        st.warning(
            f"None of the {len(ctx.entries)} run(s) in {md(ctx.runs_dir)} has a readable "
            "report; the Overview page lists what is wrong with each."
        )
        return None
    rep = ctx.selected.report
    st.caption(
        f"Run {md(ctx.selected.name)} · {md(rep.created_at)} · embedder "
        f"{md(rep.embedder.spec)} ({md(rep.embedder.name)}, {rep.embedder.dim}-d)"
    )
    return ctx


def suite_frame(ctx: Context, suite: str) -> pd.DataFrame | None:
    """The selected run's results of one suite; None (after an info message) if it has none."""
    report = entry_report(ctx.selected)
    df = results_frame(report)
    sub = df[df["suite"] == suite]
    if sub.empty:
        present = sorted(set(df["suite"])) or ["no results at all"]
        st.info(
            f"Run {md(report.run_id)} has no {suite} results (it holds: "
            f"{md(', '.join(present))}). Pick another run in the sidebar, or run "
            f"`audit run --suite {suite}`."
        )
        return None
    return sub


def show_chart(chart: Any) -> None:
    """An Altair chart at its own height (Streamlit ignores a layered chart's height)."""
    height = chart.height if isinstance(chart.height, int) else 300
    st.altair_chart(chart, width="stretch", height=height + 70)  # + room for the x axis


def show_table(
    df: pd.DataFrame,
    *,
    key: str,
    styler: Any = None,
    height: int | None = None,
) -> None:
    """A table with a "Download CSV" button under it (the CSV holds exactly these rows)."""
    kwargs: dict[str, Any] = {"hide_index": True}
    if height is not None:
        kwargs["height"] = height
    st.dataframe(df if styler is None else styler, **kwargs)
    st.download_button(
        "Download CSV",
        to_csv(df),
        file_name=f"{key}.csv",
        mime="text/csv",
        key=f"csv-{key}",
        on_click="ignore",
    )


def sidebar_filters(df: pd.DataFrame, columns: dict[str, str], *, key: str) -> pd.DataFrame:
    """Multiselect filters in the sidebar, one per column that has more than one value.

    Parameters
    ----------
    df : DataFrame
        A results frame.
    columns : dict
        Column name to label, e.g. ``{"modality": "Modality", "dim": "Size"}``.
    key : str
        Prefix for the widget keys (one per page).
    """
    shown = {col: options(df, col) for col in columns}
    shown = {col: opts for col, opts in shown.items() if len(opts) > 1}
    if shown:
        st.sidebar.subheader("Filters")
    chosen = {
        col: st.sidebar.multiselect(columns[col], opts, key=f"{key}-{col}", placeholder="all")
        for col, opts in shown.items()
    }
    return filter_frame(df, **chosen)


def evidence_banner(ctx: Context, df: pd.DataFrame) -> None:
    """When opened from a failed gate (``?check=..&metric=..``), show the matching results."""
    check = st.query_params.get("check")
    if not check:
        return
    metric = st.query_params.get("metric") or None
    gate = st.query_params.get("gate") or ""
    rep = entry_report(ctx.selected)
    gates = [g for g in rep.gates if g.name == gate]
    if gates:  # the results the gate judged, by the keys its evidence stores
        rows = gate_evidence(df, rep, gates[0])
    else:  # a link that names no gate of this run: the check/metric selectors alone
        rows = matching_results(df, check, metric)
    st.subheader("Gate evidence")
    what = f"check {md(check)}" + (f", metric {md(metric)}" if metric else "")
    if gate:
        what = f"gate {md(gate)}: " + what
    if rows.empty:
        st.warning(f"No results in this run match {what}.")
        return
    st.info(f"Showing the {len(rows)} result(s) behind {what}.")
    show_table(rows.drop(columns=["suite"]).dropna(axis=1, how="all"), key="evidence")
    st.divider()
