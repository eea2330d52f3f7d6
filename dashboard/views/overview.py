"""Overview: every run with its status and gates; the selected run's verdict (with the
audit report to download), embedder and gates."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import streamlit as st

from audit.report import GateResult, Report
from dashboard._frames import (
    VERDICT_LABELS,
    flatten_records,
    gate_evidence,
    gates_frame,
    results_frame,
    rows_for_keys,
    verdict_frame,
)
from dashboard._loader import MAX_REPORT_BYTES, RunEntry
from dashboard._ui import (
    SUITE_PAGES,
    Context,
    empty_message,
    entry_report,
    get_context,
    md,
    show_table,
)

_PROBLEM_LEVEL = {"newer-schema": "warning", "missing": "info"}
_VERDICT_BOX = {"pass": "success", "fail": "error", "not_assessed": "info"}
log = logging.getLogger(__name__)


def runs_table(entries: list[RunEntry]) -> pd.DataFrame:
    """One row per run directory, readable or not."""
    rows = []
    for e in entries:
        rep = e.report
        rows.append(
            {
                "run": e.name,
                "created": rep.created_at if rep else None,
                "suites": ", ".join(sorted({r.suite for r in rep.results})) if rep else None,
                "status": rep.status if rep else e.state,
                "embedder": f"{rep.embedder.spec} ({rep.embedder.name})" if rep else None,
                "dim": rep.embedder.dim if rep else None,
                "results": len(rep.results) if rep else None,
                "gates passed": sum(g.passed for g in rep.gates) if rep else None,
                "gates failed": sum(not g.passed for g in rep.gates) if rep else None,
                "problem": e.message or None,
            }
        )
    df = pd.DataFrame(rows)
    for col in ("dim", "results", "gates passed", "gates failed"):
        df[col] = df[col].astype("Int64")
    return df


def _check_errors_and_skips(rep: Report) -> None:
    """Checks that errored (status ``incomplete``: not a pass) and items left out."""
    if rep.check_errors:
        st.error(
            f"{len(rep.check_errors)} requested check(s) errored: the run is incomplete, "
            "which is not a pass (see docs/ci.md, --allow-errors)."
        )
        frame = pd.DataFrame([e.model_dump() for e in rep.check_errors])
        show_table(frame, key="check-errors")
    if rep.skipped_items:
        st.warning(f"{len(rep.skipped_items)} bad item(s) were left out (--skip-bad-items).")
        show_table(pd.DataFrame([s.model_dump() for s in rep.skipped_items]), key="skipped")


def _problems(entries: list[RunEntry]) -> None:
    for e in entries:
        if e.ok:
            continue
        text = f"Run {md(e.name)}: {md(e.message)}"
        level = _PROBLEM_LEVEL.get(e.state, "error")
        getattr(st, level)(text)


def _embedder(ctx: Context) -> None:
    rep = entry_report(ctx.selected)
    left, right = st.columns(2)
    with left:
        st.markdown("**Embedder**")
        emb = rep.embedder
        info = pd.DataFrame(
            {
                "field": ["spec", "name", "modalities", "dim", "matryoshka dims", "tool"],
                "value": [
                    emb.spec,
                    emb.name,
                    ", ".join(emb.modalities),
                    str(emb.dim),
                    ", ".join(str(d) for d in emb.matryoshka_dims) or "-",
                    rep.tool_version,
                ],
            }
        )
        st.dataframe(info, hide_index=True)
    with right:
        st.markdown("**Wrappers**")
        wrappers = {k: v for k, v in rep.wrappers.model_dump().items() if v is not None}
        if wrappers:
            st.json(wrappers, expanded=1)
        else:
            st.caption("No safety filter, projection or cache recorded.")


def audit_report_html(run_dir: Path, report: Report) -> tuple[bytes, str]:
    """The audit report of a run for download, and where it came from.

    The run's own ``report.html`` (written at the end of every run and re-gating) when it
    is a regular file no older than report.json; otherwise rendered now from the report
    (:func:`audit.reporting.render_report`), e.g. for a run made before reports existed.
    A ``report.html`` that is a link is never followed.
    """
    from audit.reporting import REPORT_NAME

    html, json_path = run_dir / REPORT_NAME, run_dir / "report.json"
    if html.is_file() and not html.is_symlink():
        st_html = html.stat()
        fresh = not json_path.is_file() or st_html.st_mtime_ns >= json_path.stat().st_mtime_ns
        if fresh and st_html.st_size <= MAX_REPORT_BYTES:
            return html.read_bytes(), f"the run's {REPORT_NAME}"
    return _rendered(str(run_dir), _stamp(json_path), report), "rendered now from report.json"


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st_ = path.stat()
    except OSError:
        return (0, 0)
    return (st_.st_mtime_ns, st_.st_size)


@st.cache_data(max_entries=8, show_spinner="Rendering the audit report ...")
def _rendered(run_dir: str, stamp: tuple[int, int], _report: Report) -> bytes:
    # Keyed by the run folder and its report.json's mtime and size (the report itself is
    # not hashed: ``_report``), so a re-gated run renders again.
    from audit.reporting import render_report

    return render_report(_report, Path(run_dir)).encode("utf-8")


def _download(entry: RunEntry) -> None:
    """The audit report (HTML) of the selected run as a download button."""
    rep = entry_report(entry)
    try:
        data, source = audit_report_html(entry.path, rep)
    except Exception as exc:  # the page stays usable; say why there is no report
        log.warning("audit report of %s could not be rendered", entry.name, exc_info=True)
        st.error(f"The audit report could not be rendered: {md(type(exc).__name__)}: {md(exc)}")
        return
    st.download_button(
        "Download the audit report (HTML)",
        data,
        file_name=f"{entry.name}-report.html",
        mime="text/html",
        key=f"audit-report-{entry.name}",
        on_click="ignore",
        icon=":material/description:",
    )
    st.caption(f"From {md(source)}: one self-contained file; print it to PDF from a browser.")


def _verdict(ctx: Context) -> None:
    """The stored verdict: overall and per dimension, with reasons, gates and evidence."""
    rep = entry_report(ctx.selected)
    name = ctx.selected.name if ctx.selected is not None else ""
    st.subheader("Verdict")
    verdict = rep.verdict
    if verdict is None:
        st.info(
            "Not assessed: no policy was applied to this run. Judge it with "
            "`audit gate RUN_DIR --policy default`, or run with `--policy default`."
        )
        return
    box = getattr(st, _VERDICT_BOX[verdict.overall])
    box(f"Overall: {VERDICT_LABELS[verdict.overall]}. {md(verdict.reason)}")
    show_table(verdict_frame(rep), key=f"verdict-{name}")
    results = results_frame(rep)
    gates = {g.name: g for g in rep.gates}
    for d in verdict.dimensions:
        if not d.gates and not d.evidence:
            continue
        rows = rows_for_keys(results, rep, d.evidence)
        label = f"{d.dimension}: {VERDICT_LABELS[d.status]}, {len(rows)} result(s) of evidence"
        with st.expander(md(label)):
            st.text(d.reason)  # a report string: plain text, never Markdown
            if not rows.empty:
                show_table(rows.dropna(axis=1, how="all"), key=f"verdict-{name}-{d.dimension}")
            for gate_name in d.gates:
                if gate_name in gates:
                    gate = gates[gate_name]
                    _gate_link(name, gate, gate_evidence(results, rep, gate))


def _gate_link(run: str, gate: GateResult, rows: pd.DataFrame) -> None:
    """A link to the suite page showing the results ``gate`` judged (``rows``)."""
    suites = list(dict.fromkeys(rows["suite"])) or [
        str(ev["suite"]) for ev in gate.evidence if isinstance(ev.get("suite"), str)
    ]
    page = next((SUITE_PAGES[s] for s in suites if s in SUITE_PAGES), None)
    if page is None:
        return
    st.page_link(
        page,
        icon=":material/search:",
        # A label is Markdown: the gate's name and suite go through md() too.
        label=f"Evidence for {md(gate.name)}: {len(rows)} result(s) on the {md(suites[0])} page",
        query_params={"run": run, "gate": gate.name, "check": gate.check, "metric": gate.metric},
    )


def _gates(ctx: Context) -> None:
    rep = entry_report(ctx.selected)
    name = ctx.selected.name if ctx.selected is not None else ""
    st.subheader("Gates")
    if not rep.gates:
        st.caption("No gates in this run (run with `--policy FILE` or `audit gate`).")
        return
    show_table(gates_frame(rep), key=f"gates-{name}")
    results = results_frame(rep)
    for gate in (g for g in rep.gates if not g.passed):
        st.error(
            f"Gate {md(gate.name)} failed: {md(gate.metric)} of {md(gate.check)} = "
            f"{md(gate.value)}, required {md(gate.op)} {md(gate.threshold)}."
            + (f" {md(gate.message)}" if gate.message else "")
        )
        _gate_link(name, gate, gate_evidence(results, rep, gate))  # by the stored keys
        if gate.evidence:
            with st.expander(f"Evidence recorded by the gate ({len(gate.evidence)})"):
                st.dataframe(flatten_records(gate.evidence), hide_index=True)


def render() -> None:
    """The Overview page."""
    st.title("Overview")
    ctx = get_context()
    if ctx is None:
        st.error("Open the dashboard through dashboard/app.py (`audit dashboard`).")
        return
    if not ctx.entries:
        st.info(empty_message(ctx.runs_dir))
        return
    st.subheader("Runs")
    show_table(runs_table(ctx.entries), key="runs")
    _problems(ctx.entries)
    if ctx.selected is None or ctx.selected.report is None:
        st.warning("No run has a readable report yet.")
        return
    rep = ctx.selected.report
    st.subheader(f"Run {md(ctx.selected.name)}")
    cols = st.columns(4)
    cols[0].metric("Status", rep.status)
    cols[1].metric("Gates passed", sum(g.passed for g in rep.gates))
    cols[2].metric("Gates failed", sum(not g.passed for g in rep.gates))
    cols[3].metric("Results", len(rep.results))
    present = sorted({r.suite for r in rep.results})
    missing = [s for s in SUITE_PAGES if s not in present]
    st.caption(
        f"Suites in this run: {md(', '.join(present) or 'none')}"
        + (f" · not run: {md(', '.join(missing))}" if missing else "")
    )
    if rep.errors:
        st.error(f"The run itself failed: {md(rep.errors[0])}")
        if len(rep.errors) > 1:
            st.code("\n".join(rep.errors[1:]), language=None)
    _check_errors_and_skips(rep)
    _verdict(ctx)
    _download(ctx.selected)
    _embedder(ctx)
    _gates(ctx)


if __name__ == "__main__":
    render()
