"""audit.progress: a bar on a terminal, rate-limited one-line log messages elsewhere."""

from __future__ import annotations

import io
import logging
import time

import pytest

from audit.progress import LOGGER_NAME, Progress, elapsed_text


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Pipe(io.StringIO):
    """A stream that is not a terminal (what CI gives a process)."""

    def isatty(self) -> bool:
        return False


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER_NAME]


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59.9, "59s"), (125, "2m05s"), (3600 + 180, "1h03m")]
)
def test_elapsed_text(seconds: float, text: str) -> None:
    assert elapsed_text(seconds) == text


def test_off_a_terminal_at_most_one_line_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    clock = FakeClock()
    p = Progress(
        "suite bias", 5, unit="probes", clock=clock, stream=Pipe(), interval=30, heartbeat=False
    )
    # steps finish at t = 10, 20, 35, 50, 70 s after the start
    for t, name in [(10, "a"), (20, "b"), (35, "c"), (50, "d"), (70, "e")]:
        clock.now = 1000.0 + t
        p.update(note=name)
    p.close()
    # By hand: the first line is due at the first step >= 30 s (35 s, step 3); the next
    # one 30 s after that line, at the first step >= 65 s (70 s, step 5); then the close.
    assert _lines(caplog) == [
        "suite bias: 3/5 probes, 35s elapsed (last: c)",
        "suite bias: 5/5 probes, 1m10s elapsed (last: e)",
        "suite bias: finished 5/5 probes in 1m10s",
    ]


def test_short_work_off_a_terminal_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    clock = FakeClock()
    with Progress(
        "suite safety", None, unit="results", clock=clock, stream=Pipe(), heartbeat=False
    ) as p:
        for _ in range(40):
            clock.now += 0.5
            p.update()
    assert _lines(caplog) == []  # 20 s in all: below the 30 s interval


def test_unknown_total_and_long_close(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    clock = FakeClock()
    with Progress(
        "suite redteam", None, unit="results", clock=clock, stream=Pipe(), heartbeat=False
    ) as p:
        p.update(3)
        clock.now += 45
    assert _lines(caplog) == ["suite redteam: finished 3 results in 45s"]


def test_tick_writes_a_line_while_no_step_finishes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    clock = FakeClock()
    p = Progress(
        "suite retrieval", None, unit="results", clock=clock, stream=Pipe(), heartbeat=False
    )
    for t in (10, 31, 50, 62):  # what the heartbeat thread does every interval
        clock.now = 1000.0 + t
        p.tick()
    p.update(5, note="passages")  # at 62 s: the last line was at 31 s, none is due
    p.close()
    assert _lines(caplog) == [
        "suite retrieval: 0 results, 31s elapsed",
        "suite retrieval: 0 results, 1m02s elapsed",
        "suite retrieval: finished 5 results in 1m02s",
    ]


def test_the_heartbeat_thread_writes_without_updates(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    p = Progress("suite slow", 2, stream=Pipe(), interval=0.02)
    deadline = time.monotonic() + 10  # generous: a loaded machine may delay the thread
    while not _lines(caplog) and time.monotonic() < deadline:
        time.sleep(0.01)
    p.close()
    first = _lines(caplog)[0]
    assert first.startswith("suite slow: 0/2 steps, ") and first.endswith("s elapsed")
    count = len(_lines(caplog))
    time.sleep(0.1)
    assert len(_lines(caplog)) == count  # closed: the heartbeat stopped


def test_disabled_shows_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    clock, tty = FakeClock(), Tty()
    with Progress("x", 2, clock=clock, stream=tty, enabled=False) as p:
        clock.now += 100
        p.update(2)
    assert _lines(caplog) == [] and tty.getvalue() == ""


def test_on_a_terminal_a_bar_and_no_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    clock, tty = FakeClock(), Tty()
    with Progress("suite bias", 4, unit="probes", clock=clock, stream=tty) as p:
        clock.now += 100
        p.update(4)
    assert _lines(caplog) == []
    # tqdm drew the bar on the terminal stream (its redraws are rate-limited by tqdm)
    assert "suite bias:" in tty.getvalue() and "/4 [" in tty.getvalue() and p.done == 4


def test_cli_shows_progress_lines_at_default_verbosity() -> None:
    from audit.cli import _setup_logging

    logger = logging.getLogger(LOGGER_NAME)
    old = logger.level
    try:
        _setup_logging(verbose=0, quiet=False)
        assert logger.isEnabledFor(logging.INFO)  # the root stays at WARNING
        assert not logging.getLogger("audit.runner").isEnabledFor(logging.INFO)
        logger.setLevel(logging.NOTSET)
        _setup_logging(verbose=0, quiet=True)
        assert not logger.isEnabledFor(logging.INFO)
    finally:
        logger.setLevel(old)
