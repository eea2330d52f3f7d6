"""The mme-audit review dashboard (Streamlit entry point).

Start it with ``audit dashboard [--runs DIR]``, which runs
``streamlit run dashboard/app.py --server.address 127.0.0.1 ... -- --runs DIR``. This
script finds the runs, puts the run picker in the sidebar, and hands over to the page
the reader chose (the files under ``dashboard/views/``, listed in ``dashboard/_pages.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script by `streamlit run`: make `dashboard` importable
    _root = str(Path(__file__).resolve().parents[1])
    if _root not in sys.path:
        sys.path.insert(0, _root)

import streamlit as st

from dashboard._loader import RunEntry, discover_runs
from dashboard._pages import PAGES
from dashboard._ui import Context, is_loopback, md, runs_dir_from_args, set_context

RUN_KEY = "run_select"
HOME_URL = "home"  # the default page's reserved path (it is served at "/")
PICKED_KEY = "_run_picked"  # True once the reader (or a link) chose the run


def _label(entry: RunEntry) -> str:
    rep = entry.report
    return entry.name if rep is None else f"{entry.name} · {rep.suite} · {rep.status}"


def _has_suite(entry: RunEntry, suite: str | None) -> bool:
    rep = entry.report
    return suite is None or (rep is not None and any(r.suite == suite for r in rep.results))


def _picked() -> None:
    # The reader chose a run in the picker: from now on it rules on every page.
    st.session_state[PICKED_KEY] = True


def _select_run(entries: list[RunEntry], suite: str | None = None) -> RunEntry | None:
    """The run picker. Until the reader picks a run (or a link names one), each page opens
    on the newest run that holds its ``suite``, so a comparison's sub-run without bias
    results does not greet the Bias page."""
    readable = [e for e in entries if e.ok]
    if not readable:
        return None
    names = [e.name for e in readable]
    # A link from a failed gate carries ?run=<name>; apply it once, then the picker rules.
    wanted = st.query_params.get("run")
    if wanted in names and wanted != st.session_state.get("_run_from_link"):
        st.session_state[RUN_KEY] = wanted
        st.session_state["_run_from_link"] = wanted
        st.session_state[PICKED_KEY] = True
    if st.session_state.get(RUN_KEY) not in names or not st.session_state.get(PICKED_KEY):
        with_suite = [e.name for e in readable if _has_suite(e, suite)]
        st.session_state[RUN_KEY] = (with_suite or names)[0]  # newest (with the suite)
    by_name = {e.name: e for e in readable}
    name = st.sidebar.selectbox(
        "Run", names, key=RUN_KEY, format_func=lambda n: _label(by_name[n]), on_change=_picked
    )
    return by_name[name]


def _address_note() -> None:
    address = st.get_option("server.address")
    if not address:
        st.sidebar.warning(
            "Streamlit is listening on all network interfaces (no --server.address). "
            "Start the dashboard with `audit dashboard` to bind 127.0.0.1 only."
        )
    elif not is_loopback(str(address)):
        st.sidebar.warning(
            f"Listening on {md(address)}: anyone who can reach this address can read the reports."
        )


def main() -> None:
    """Build the navigation and run the selected page."""
    st.set_page_config(page_title="mme-audit review", layout="wide")
    here = Path(__file__).resolve().parent
    home = PAGES[0]
    # The default page is served at the root URL only, so its own path ("/overview")
    # would answer "Page not found": it reserves HOME_URL instead, and a hidden twin
    # serves it at its own path too.
    pages = {
        p: st.Page(
            here / p.path,
            title=p.title,
            url_path=HOME_URL if p is home else p.url,
            default=(p is home),
        )
        for p in PAGES
    }
    alias = st.Page(here / home.path, title=home.title, url_path=home.url, visibility="hidden")
    page = st.navigation([*pages.values(), alias])
    suite = next((p.suite for p, sp in pages.items() if sp is page), None)  # alias: overview
    runs_dir = runs_dir_from_args(sys.argv[1:])
    entries = discover_runs(runs_dir)
    selected = _select_run(entries, suite)
    st.sidebar.caption(f"Runs directory: {md(runs_dir)}")
    _address_note()
    set_context(Context(runs_dir=runs_dir, entries=entries, selected=selected))
    page.run()


main()
