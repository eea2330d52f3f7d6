"""`audit dashboard`: the command it builds binds 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import DEFAULT_ADDRESS, add_dashboard_parser, build_command, launch, run_dashboard
from dashboard.launch import APP_PATH


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="audit")
    add_dashboard_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def option(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_defaults_bind_loopback() -> None:
    args = parse(["dashboard"])
    assert (args.address, args.port, args.runs) == ("127.0.0.1", 8501, Path("runs"))
    assert args.func is run_dashboard
    assert DEFAULT_ADDRESS == "127.0.0.1"


def test_build_command(tmp_path: Path) -> None:
    cmd = build_command(tmp_path, port=9000)
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    assert APP_PATH.is_file() and APP_PATH.name == "app.py"
    assert option(cmd, "--server.address") == "127.0.0.1"
    assert option(cmd, "--server.port") == "9000"
    assert option(cmd, "--server.headless") == "true"
    assert option(cmd, "--browser.gatherUsageStats") == "false"
    # App arguments come after "--", the runs directory as an absolute path.
    assert cmd[cmd.index("--") :] == ["--", "--runs", str(tmp_path.resolve())]


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_bad_port_is_a_usage_error(port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="--port"):
        build_command("runs", port=port)
    called = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: called.append(a))
    assert run_dashboard(parse(["dashboard", "--port", str(port)])) == 2
    assert called == []


def test_run_dashboard_starts_streamlit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[list[str]] = []

    def fake_run(cmd: list[str]) -> tuple[bool, int]:
        seen.append(cmd)
        return False, 0

    monkeypatch.setattr(launch, "run_until_stopped", fake_run)
    assert run_dashboard(parse(["dashboard", "--runs", str(tmp_path), "--port", "8600"])) == 0
    assert option(seen[0], "--server.address") == "127.0.0.1"
    assert option(seen[0], "--server.port") == "8600"
    assert seen[0][-1] == str(tmp_path.resolve())
    # Told otherwise, it binds where it is told (and logs a warning).
    assert run_dashboard(parse(["dashboard", "--address", "0.0.0.0"])) == 0
    assert option(seen[1], "--server.address") == "0.0.0.0"


def test_streamlit_failure_is_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch, "run_until_stopped", lambda cmd: (False, 1))
    assert run_dashboard(parse(["dashboard"])) == 3


def test_app_reads_runs_from_its_command_line() -> None:
    from dashboard._ui import runs_dir_from_args

    assert runs_dir_from_args(["--runs", "/x/runs"], {}) == Path("/x/runs")
    assert runs_dir_from_args([], {"MME_AUDIT_RUNS": "/env"}) == Path("/env")
    assert runs_dir_from_args(["-q", "tests"], {}) == Path("runs")  # foreign args ignored


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, dashboard, dashboard.launch; "
        "print(sorted(m for m in ('streamlit', 'pandas', 'altair') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
