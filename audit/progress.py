"""Progress of long work: a bar on a terminal, periodic one-line log messages elsewhere.

A CI job's stdout and stderr are not terminals, so a progress bar there is either hidden
or a stream of carriage returns, and a long run looked dead (a bias run under load
printed nothing for 11 minutes). :class:`Progress` picks what fits where it writes:

- on a terminal (``stream.isatty()``), a tqdm bar;
- otherwise, at most one line per ``interval`` seconds on the ``audit.progress`` logger
  (``INFO audit.progress: suite bias: 7/23 probes, 2m05s elapsed``), plus a closing line
  when the work took at least ``interval``. The CLI shows this logger at its default
  verbosity (``audit.cli._setup_logging``) and hides it with ``--quiet``. A heartbeat
  thread writes the line even while no step finishes (a suite embedding its whole corpus
  before its first result), so a line comes at least every ``interval`` seconds.

The clock is injectable, so the rate limit is tested with a fake clock (and
:meth:`Progress.tick`, what the heartbeat calls, is called by hand).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any

#: The logger of the periodic lines; ``audit.cli`` keeps it at INFO unless ``--quiet``.
LOGGER_NAME = "audit.progress"
#: Seconds between two log lines of one piece of work when not on a terminal.
DEFAULT_INTERVAL = 30.0

log = logging.getLogger(LOGGER_NAME)


def elapsed_text(seconds: float) -> str:
    """``42s``, ``2m05s``, ``1h03m``: short and unambiguous in a log line."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class Progress:
    """Count finished steps of one piece of work (a suite, a phase) and show it.

    Parameters
    ----------
    label
        What is running, e.g. ``"suite bias"``; starts every log line.
    total
        Steps expected (None: unknown, lines say ``done`` without a total).
    unit
        The step's name in the plural, e.g. ``"probes"``.
    enabled
        False shows nothing (``--no-progress``).
    interval
        Minimum seconds between two log lines.
    clock
        Monotonic seconds (tests pass a fake one).
    stream
        Where a bar would be drawn (default ``sys.stderr``); a bar only if it is a terminal.
    heartbeat
        Off a terminal, a daemon thread that calls :meth:`tick` every ``interval`` seconds
        until :meth:`close` (tests with a fake clock turn it off and tick by hand).
    delay
        Seconds before the bar appears (tqdm's ``delay``): short work draws nothing.
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        unit: str = "steps",
        enabled: bool = True,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        stream: IO[str] | None = None,
        heartbeat: bool = True,
        delay: float = 0.0,
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.interval = interval
        self.done = 0
        self._note = ""
        self._clock = clock
        self._start = self._last = clock()
        self._logged = False
        self._lock = threading.Lock()  # the heartbeat and the worker both may write
        self._stop = threading.Event()
        stream = stream if stream is not None else sys.stderr
        self._bar: Any = None
        self._log = enabled and not _isatty(stream)
        if enabled and not self._log:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=total, desc=label, unit=unit, leave=False, file=stream, delay=delay
            )
        if self._log and heartbeat:
            beat = threading.Thread(target=self._beat, name=f"progress {label}", daemon=True)
            beat.start()

    def update(self, n: int = 1, *, note: str = "") -> None:
        """Mark ``n`` more steps done; ``note`` names what just finished (log lines only)."""
        self.done += n
        self._note = note or self._note
        if self._bar is not None:
            self._bar.update(n)
            if note:
                self._bar.set_postfix_str(note, refresh=False)
        self.tick()

    def tick(self) -> None:
        """Log the progress line if one is due (``interval`` since the last); off a terminal."""
        with self._lock:
            if not self._log:
                return
            now = self._clock()
            if now - self._last >= self.interval:
                self._last, self._logged = now, True
                tail = f" (last: {self._note})" if self._note else ""
                log.info("%s: %s, %s elapsed%s", self.label, self._count(), self._since(now), tail)

    def close(self) -> None:
        """End the work: stop the heartbeat, close the bar; log a closing line if it was long."""
        self._stop.set()
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        with self._lock:
            if self._log:
                now = self._clock()
                if self._logged or now - self._start >= self.interval:
                    log.info("%s: finished %s in %s", self.label, self._count(), self._since(now))
                self._log = False

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def _count(self) -> str:
        total = "" if self.total is None else f"/{self.total}"
        return f"{self.done}{total} {self.unit}"

    def _since(self, now: float) -> str:
        return elapsed_text(now - self._start)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or unusual stream: no bar
        return False
