"""Amazon Bedrock embedders (``bedrock:<model-id>[?options]``).

One module per model family (``_nova``, ``_titan_text``, ``_titan_mm``, ``_cohere``,
``_marengo``), registered in ``_families``, over the shared hosted-backend base
:mod:`audit.embedders.hosted`. The public names are loaded on first use, so ``audit list``
can read the model table without building an embedder.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module that defines it.
_HOME = {
    "AsyncSettings": "audit.embedders.bedrock._async",
    "BedrockCallError": "audit.embedders.bedrock._transport",
    "BedrockEmbedder": "audit.embedders.bedrock._embedder",
    "BudgetExceededError": "audit.embedders._usage",
    "RetryPolicy": "audit.embedders.hosted",
    "from_spec": "audit.embedders.bedrock._embedder",
}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
