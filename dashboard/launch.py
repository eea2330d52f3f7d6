"""``audit dashboard``: start the Streamlit review app on 127.0.0.1.

The CLI wires this in with :func:`add_dashboard_parser` and calls :func:`run_dashboard`.
The app is started as ``python -m streamlit run dashboard/app.py`` in a child process,
bound to the loopback address unless ``--address`` says otherwise, headless (no browser
is opened for the user) and with Streamlit's usage statistics off (no network calls).

Stopping ``audit dashboard`` stops the server: SIGINT (Ctrl-C) and SIGTERM (``kill``, a
service manager) sent to the command are passed on to the Streamlit child, which is given
:data:`STOP_GRACE_S` seconds to shut down and then killed. Without this a ``kill`` of the
command left Streamlit running, still serving the reports.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

log = logging.getLogger(__name__)

DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8501
APP_PATH = Path(__file__).resolve().parent / "app.py"
EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 3
#: Seconds Streamlit gets to stop after a forwarded signal before it is killed.
STOP_GRACE_S = 10.0
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def add_dashboard_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``dashboard`` subcommand (``--runs``, ``--port``, ``--address``).

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The new subparser (its defaults include ``func=run_dashboard``).
    """
    p = subparsers.add_parser(
        "dashboard",
        help="start the review dashboard (Streamlit) on 127.0.0.1",
        description="Start the Streamlit review dashboard over a runs directory. It binds "
        "to 127.0.0.1 (this machine only) unless --address is given.",
    )
    p.add_argument(
        "--runs", type=Path, default=Path("runs"), help="runs directory (default: ./runs)"
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    p.add_argument(
        "--address",
        default=DEFAULT_ADDRESS,
        help=f"address to listen on (default: {DEFAULT_ADDRESS}; 0.0.0.0 exposes the "
        "reports to the network)",
    )
    p.set_defaults(func=run_dashboard)
    return p


def build_command(
    runs: str | Path,
    *,
    port: int = DEFAULT_PORT,
    address: str = DEFAULT_ADDRESS,
    python: str | None = None,
) -> list[str]:
    """The command line that starts the app.

    Parameters
    ----------
    runs : str or Path
        Runs directory the app reads (passed as an absolute path).
    port : int
        TCP port, 1-65535.
    address : str
        Listen address; the loopback address by default.
    python : str, optional
        Interpreter; defaults to the running one (so the same virtualenv is used).

    Returns
    -------
    list of str
        ``[python, "-m", "streamlit", "run", app.py, --server.address ..., "--", "--runs", DIR]``.

    Raises
    ------
    ValueError
        If the port is out of range or the address is empty.
    """
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ValueError(f"--port {port!r}: must be an integer from 1 to 65535")
    if not address or not address.strip():
        raise ValueError("--address: must not be empty")
    return [
        python or sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.address",
        address.strip(),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",  # a review tool: no "Deploy" or developer menu
        "--",
        "--runs",
        str(Path(runs).resolve()),
    ]


def run_dashboard(args: argparse.Namespace) -> int:
    """Start the dashboard and wait for it to stop (Ctrl-C, SIGTERM).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``dashboard`` arguments (``runs``, ``port``, ``address``).

    Returns
    -------
    int
        0 when the app stopped normally, 2 for bad arguments or missing Streamlit,
        3 when Streamlit exited with an error.
    """
    runs = Path(getattr(args, "runs", None) or "runs")
    address = getattr(args, "address", None) or DEFAULT_ADDRESS
    try:
        cmd = build_command(runs, port=getattr(args, "port", DEFAULT_PORT), address=address)
    except ValueError as exc:
        log.error("audit dashboard: %s", exc)
        return EXIT_USAGE
    if importlib.util.find_spec("streamlit") is None:
        log.error("audit dashboard: streamlit is not installed (pip install streamlit altair)")
        return EXIT_USAGE
    if not runs.is_dir():
        log.warning("runs directory %s does not exist yet; the dashboard will say so", runs)
    if address.strip() not in ("127.0.0.1", "::1", "localhost"):
        log.warning("listening on %s: anyone who can reach it can read the reports", address)
    log.info("starting the dashboard on http://%s:%s", address, cmd[cmd.index("--server.port") + 1])
    stopped, returncode = run_until_stopped(cmd)
    return EXIT_OK if stopped or returncode == 0 else EXIT_FAILED


def run_until_stopped(cmd: list[str], *, grace: float = STOP_GRACE_S) -> tuple[bool, int]:
    """Run ``cmd`` as a child; SIGINT/SIGTERM to this process stop the child too.

    While the child runs, SIGINT and SIGTERM are caught and sent on to it (as SIGTERM, on
    which Streamlit shuts down cleanly); a child still running ``grace`` seconds after the
    first signal is killed. The previous signal handlers are restored on return, and the
    child never outlives this call, whatever ends it.

    Parameters
    ----------
    cmd : list of str
        The command line (see :func:`build_command`).
    grace : float
        Seconds between the forwarded signal and SIGKILL.

    Returns
    -------
    tuple of (bool, int)
        Whether a signal asked for the stop, and the child's exit code.
    """
    proc = subprocess.Popen(cmd)
    asked: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        asked.append(signum)  # no logging here: a handler may interrupt a log call
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    # Signal handlers can only be set in the main thread (where the CLI runs).
    main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, forward) for sig in _STOP_SIGNALS} if main else {}
    try:
        deadline = None
        while True:
            try:
                # A short timeout, so the grace period is checked while the child runs.
                return bool(asked), proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                pass
            if asked and deadline is None:
                log.info("stopping the dashboard (signal %d)", asked[0])
                deadline = time.monotonic() + grace
            if deadline is not None and time.monotonic() > deadline:
                log.warning("streamlit did not stop within %.0f s; killing it", grace)
                proc.kill()
                return True, proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:  # an exception in this process: never leave the server up
            proc.kill()
            proc.wait()
