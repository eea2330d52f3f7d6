"""`audit dashboard` stops its Streamlit server when the command is stopped.

The real command is started on a free port; the test waits until the server answers,
sends SIGTERM or SIGINT to the command's process only (as ``kill`` or a service manager
would), then checks, through /proc, that the command exited, the Streamlit child is gone
and nothing listens on the port. It also checks the server listened on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Direct children of ``pid``, from /proc/PID/task/*/children."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # the task ended while we read
            continue
    return out


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _listeners(port: int) -> list[str]:
    """Local addresses (hex, as /proc writes them) of TCP sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            addr, hexport = fields[1].rsplit(":", 1)
            if int(hexport, 16) == port and fields[3] == "0A":  # 0A = TCP_LISTEN
                found.append(addr)
    return found


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"audit dashboard exited early ({proc.returncode})"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s")


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_the_command_stops_the_server(signum: int, tmp_path: Path) -> None:
    port = _free_port()
    cmd = [sys.executable, "-m", "audit.cli", "dashboard", "--runs", str(tmp_path)]
    cmd += ["--port", str(port)]
    # A new session: the signal goes to the command alone, not to a process group (a
    # terminal's Ctrl-C reaches the child directly; kill and service managers do not).
    proc = subprocess.Popen(
        cmd,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    children: list[int] = []
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc)
        children = _children(proc.pid)
        assert len(children) == 1 and _alive(children[0])  # the Streamlit server
        # Listening on the loopback address only: 127.0.0.1 is 0100007F in /proc.
        assert _listeners(port) == ["0100007F"]

        proc.send_signal(signum)
        assert proc.wait(timeout=30) == 0, proc.stderr.read().decode(errors="replace")
        deadline = time.monotonic() + 5
        while _alive(children[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(children[0]), "the Streamlit child outlived audit dashboard"
        assert _listeners(port) == []
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:  # never leave a server behind, whatever failed
        for pid in [*children, proc.pid]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    from dashboard.launch import run_until_stopped

    ready = tmp_path / "ready"
    child = (
        "import pathlib, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(120)"
    )

    def stop_when_ready() -> None:  # SIGTERM to this process, once the child is up
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    threading.Thread(target=stop_when_ready, daemon=True).start()
    t0 = time.monotonic()
    stopped, code = run_until_stopped([sys.executable, "-c", child], grace=1.0)
    # Asked to stop, ignored SIGTERM, killed (-9) after the 1 s grace, well before 120 s.
    assert (stopped, code) == (True, -signal.SIGKILL)
    assert time.monotonic() - t0 < 60
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back
