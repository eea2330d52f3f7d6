"""What the Google backends (Gemini, Vertex AI) share over the hosted base.

Both send a whole ``embed`` call as one batch, read the Google SDKs' errors, take the
``long_text`` and ``timeout`` settings, and estimate text length against a documented
token limit (the tokenizer is not available offline): ``long_text=report`` sends such
text and reports it, ``error`` refuses it before anything is sent.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any, ClassVar

from audit.embedders._usage import Usage
from audit.embedders.google._limits import LengthReport, ids_text, over_limit
from audit.embedders.google._transport import GoogleCallError, Transport
from audit.embedders.hosted import CallFailure, HostedEmbedder, RetryPolicy
from audit.items import BadItemsError, ItemError

LONG_TEXT = ("report", "error")


def check_call_settings(long_text: str, timeout: float) -> None:
    """Validate ``long_text`` and ``timeout`` (ValueError naming the option)."""
    if long_text not in LONG_TEXT:
        raise ValueError(f"long_text must be one of {', '.join(LONG_TEXT)}, got {long_text!r}")
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")


class GoogleEmbedder(HostedEmbedder):
    """Base of the Google backends; see the module docstring.

    Subclasses set ``token_limit`` (documented text limit, in tokens) and ``shortens``
    (what the service does to longer text, for the warning), call
    :func:`check_call_settings` where they validate, then :meth:`_start_google`.
    """

    whole_call = True
    token_limit: ClassVar[int]
    shortens: ClassVar[str]
    #: The module logger the length warnings go to.
    log: ClassVar[logging.Logger]

    model: str
    long_text: str
    timeout: float

    def _start_google(
        self,
        backend: str,
        *,
        long_text: str,
        timeout: float,
        max_workers: int,
        retry: RetryPolicy | None,
        max_requests: int | None,
        **extra: Any,
    ) -> None:
        """Keep the call settings and create the transport shared with size siblings."""
        self.long_text = long_text
        self.timeout = float(timeout)
        self._start(
            Transport(backend, retry or RetryPolicy(), max_workers, Usage(max_requests)),
            report=LengthReport(self.token_limit),
            **extra,
        )

    def _call_settings(self) -> dict[str, Any]:
        """``timeout``, ``max_workers`` and ``retry``, for ``describe()["client"]``."""
        transport = self._shared.transport
        return {
            "timeout": self.timeout,
            "max_workers": transport.max_workers,
            "retry": asdict(transport.retry),
        }

    def _call_error(self, failures: list[CallFailure]) -> BaseException:
        return GoogleCallError(self.model, failures)

    def _refuse_long(self, texts: list[tuple[str, str]]) -> None:
        """With ``long_text=error``: a BadItemsError naming every text over the limit."""
        if self.long_text != "error":
            return
        long_ids = over_limit(texts, self.token_limit)
        if long_ids:
            raise BadItemsError(
                [ItemError(i, f"text is estimated over the {self.token_limit}-token limit "
                           "(long_text=error)") for i in long_ids]
            )  # fmt: skip

    def _report_long(self, texts: list[tuple[str, str]]) -> None:
        """Count, note and log the texts estimated over the limit."""
        long_ids = over_limit(texts, self.token_limit)
        if not long_ids:
            return
        self._shared.extra["report"].add("over_estimate", long_ids)
        for item_id in long_ids:
            self._note(item_id, f"text estimated over the documented {self.token_limit} tokens")
        self.log.warning(
            "%s: %d text item(s) estimated over the documented %d-token limit; %s: %s",
            self.name,
            len(long_ids),
            self.token_limit,
            self.shortens,
            ids_text(long_ids),
        )
