"""Request budget and request/cost counters of one hosted embedder (and its siblings).

Shared by every hosted backend (Bedrock, Google). Every HTTP attempt to the model
(e.g. ``InvokeModel`` or ``StartAsyncInvoke``, retries included) counts as a request
and is checked against the budget *before* it is sent.
Content units (text characters, images, seconds of audio/video) are counted once per
item part the service answered, which is what Bedrock bills; ``bytes_sent`` counts every
request body sent, retries included.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

from audit.embedders.base import EmbeddingError


class BudgetExceededError(EmbeddingError):
    """Sending would exceed the embedder's request budget (``max_requests``)."""


@dataclass
class UsageCounts:
    """A snapshot of the counters (plain ints/floats, JSON-ready).

    Attributes
    ----------
    requests : int
        HTTP requests sent to the model (synchronous invokes and async job starts),
        retries included.
    retries : int
        Of those, the ones that repeated an earlier failed attempt.
    throttles : int
        Attempts answered with ThrottlingException (HTTP 429).
    async_jobs : int
        Asynchronous segmented jobs started.
    polls : int
        ``GetAsyncInvoke`` status polls (not counted in ``requests``: they are not billed).
    text_chars : int
        Characters of text embedded.
    images : int
        Images embedded (document pages count one each).
    media_seconds : float
        Seconds of audio and video embedded, where known locally (S3 sources unknown).
    bytes_sent : int
        Request-body bytes sent, retries included.
    """

    requests: int = 0
    retries: int = 0
    throttles: int = 0
    async_jobs: int = 0
    polls: int = 0
    text_chars: int = 0
    images: int = 0
    media_seconds: float = 0.0
    bytes_sent: int = 0


class Usage:
    """Thread-safe counters plus the request budget.

    Parameters
    ----------
    max_requests : int, optional
        Most requests this embedder (with its per-dimension siblings) may send;
        ``None`` means no limit.
    """

    def __init__(self, max_requests: int | None = None) -> None:
        if max_requests is not None and max_requests < 1:
            raise ValueError(f"max_requests must be >= 1, got {max_requests}")
        self.max_requests = max_requests
        self._counts = UsageCounts()
        self._lock = threading.Lock()

    def snapshot(self) -> UsageCounts:
        """A copy of the counters now."""
        with self._lock:
            return UsageCounts(**asdict(self._counts))

    def as_dict(self) -> dict[str, int | float | None]:
        """The counters and the budget, for ``describe()`` and the run report."""
        out: dict[str, int | float | None] = dict(asdict(self.snapshot()))
        out["media_seconds"] = round(float(out["media_seconds"] or 0.0), 3)
        out["max_requests"] = self.max_requests
        return out

    def check_room(self, n: int, what: str) -> None:
        """Refuse, before anything is sent, a batch needing ``n`` more requests than remain.

        Raises
        ------
        BudgetExceededError
            Naming the budget, what was spent and what the batch needs.
        """
        if self.max_requests is None:
            return
        with self._lock:
            spent = self._counts.requests
        if spent + n > self.max_requests:
            raise BudgetExceededError(
                f"request budget exceeded: {what} needs {n} request(s) but {spent} of "
                f"max_requests={self.max_requests} are spent; nothing was sent. Raise "
                "?max_requests=N or embed fewer items."
            )

    def take_request(self, item_id: str, size: int, *, retry: bool) -> None:
        """Count one attempt about to be sent; refuse it if the budget is spent.

        Raises
        ------
        BudgetExceededError
            If ``max_requests`` requests were already sent (a retry can hit this).
        """
        with self._lock:
            if self.max_requests is not None and self._counts.requests >= self.max_requests:
                raise BudgetExceededError(
                    f"request budget exceeded before sending {'a retry ' if retry else ''}"
                    f"for item {item_id!r}: all max_requests={self.max_requests} requests "
                    "are spent. Raise ?max_requests=N or embed fewer items."
                )
            self._counts.requests += 1
            self._counts.retries += int(retry)
            self._counts.bytes_sent += size

    def add(self, **counts: float) -> None:
        """Add to named counters, e.g. ``add(throttles=1)`` or ``add(text_chars=42)``."""
        with self._lock:
            for name, value in counts.items():
                setattr(self._counts, name, getattr(self._counts, name) + value)
