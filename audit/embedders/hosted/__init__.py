"""The shared base of hosted (network) embedders: requests, retries, usage, sizes, notes.

:class:`HostedEmbedder` drives a backend through a few hooks (build the requests of a
batch, send one, parse its answer, pool pieces into rows); :class:`RetryingTransport`
sends with the retry policy and the request budget. Bedrock (:mod:`audit.embedders.bedrock`)
and Google (:mod:`audit.embedders.google`) stand on them.
"""

from audit.embedders._usage import BudgetExceededError
from audit.embedders.hosted._calls import (
    RETRYABLE_STATUS,
    CallFailure,
    Classified,
    Failed,
    HostedCallError,
    RetryingTransport,
    RetryPolicy,
    batch_error,
    check_endpoint,
    safe_endpoint,
)
from audit.embedders.hosted._embedder import HostedEmbedder, HostedRequest, Shared, ids_text

__all__ = [
    "RETRYABLE_STATUS",
    "BudgetExceededError",
    "CallFailure",
    "Classified",
    "Failed",
    "HostedCallError",
    "HostedEmbedder",
    "HostedRequest",
    "RetryPolicy",
    "RetryingTransport",
    "Shared",
    "batch_error",
    "check_endpoint",
    "ids_text",
    "safe_endpoint",
]
