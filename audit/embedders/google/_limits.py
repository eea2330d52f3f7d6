"""Documented limits of the Google embedding models, and the text-length report.

Every number here comes from Google's documentation (sources in docs/embedders-google.md,
"Facts and sources"); where the documentation is silent the constant says so.

Neither API returns a token count on the Gemini API surface, and no tokenizer ships
offline, so text length is *estimated* on the client:
``tokens ~ max(ceil(characters / 4), words)``. Google's token page says "a token is
equivalent to about 4 characters" for Gemini models, and the multimodal page writes
"32 tokens (~32 words)". The estimate only decides which items are *reported* as
probably truncated (or refused with ``long_text=error``); nothing is cut on the client.
Where the service itself reports truncation (Vertex ``statistics.truncated`` for
gemini-embedding-001), that exact flag is reported as well.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# -- gemini-embedding-001 (Gemini API model card; Vertex "Get text embeddings") ----------
GEMINI_MODEL = "gemini-embedding-001"
GEMINI_NATIVE_DIM = 3072
GEMINI_MIN_DIM = 128  # model card: "Flexible, supports: 128 - 3072"
GEMINI_RECOMMENDED_DIMS = (768, 1536, 3072)  # model card: "Recommended: 768, 1536, 3072"
GEMINI_TOKEN_LIMIT = 2048  # model card: input token limit 2,048
# batchEmbedContents answers 400 "at most 100 requests can be in one batch" (not on the
# reference page; the service's own error message, quoted in public issue threads).
GEMINI_BATCH_LIMIT = 100
# Vertex AI: "gemini-embedding-001 supports one instance per request".
GEMINI_VERTEX_INSTANCES = 1
GEMINI_TASK_TYPES = (
    "RETRIEVAL_DOCUMENT",
    "RETRIEVAL_QUERY",
    "SEMANTIC_SIMILARITY",
    "CLASSIFICATION",
    "CLUSTERING",
    "CODE_RETRIEVAL_QUERY",
    "QUESTION_ANSWERING",
    "FACT_VERIFICATION",
)

# -- multimodalembedding@001 (Vertex "Get multimodal embeddings" / model reference) ------
VERTEX_MM_MODEL = "multimodalembedding@001"
VERTEX_MM_DIMS = (128, 256, 512, 1408)  # "Available values: 128, 256, 512, and 1408"
VERTEX_MM_NATIVE_DIM = 1408
VERTEX_MM_VIDEO_DIM = 1408  # parameters.dimension "only applies to text and image input"
VERTEX_MM_TOKEN_LIMIT = 32  # "If the input exceeds 32 tokens, the model internally shortens"
VERTEX_MM_IMAGE_FORMATS = ("bmp", "gif", "jpeg", "png")  # "BMP, GIF, JPG, PNG"
VERTEX_MM_IMAGE_BYTES = 20_000_000  # "20 MB"; decimal MB, the smaller reading
VERTEX_MM_VIDEO_FORMATS = ("avi", "flv", "mkv", "mov", "mp4", "mpeg", "mpg", "webm", "wmv")
VERTEX_MM_WINDOW_SECONDS = 120  # "only 2 minutes of content can be analyzed at a time"
VERTEX_MM_MIN_INTERVAL = 4  # "The minimal video interval length is 4 seconds"
VERTEX_MM_DEFAULT_INTERVAL = 16  # default videoSegmentConfig intervalSec
VERTEX_MM_INSTANCES = 1  # Google's samples: "The model supports only 1 instance per request"

_WORD = re.compile(r"\S+")


def estimate_tokens(text: str) -> int:
    """Client-side token estimate: ``max(ceil(chars / 4), words)`` (see module docstring)."""
    return max(math.ceil(len(text) / 4), len(_WORD.findall(text)))


def video_mode(interval_sec: int) -> str:
    """The billing mode an ``intervalSec`` falls in (Essential >= 15, Standard >= 8, Plus >= 4)."""
    if interval_sec >= 15:
        return "essential"
    return "standard" if interval_sec >= 8 else "plus"


@dataclass
class LengthReport:
    """Items over a documented input limit: counted, named and logged, never silent.

    Attributes
    ----------
    limit_tokens : int
        The documented per-text token limit.
    over_estimate : list of str
        Ids of text items whose *estimated* length is over the limit (the service
        truncates them; on the Gemini API nothing in the answer says so).
    truncated_by_service : list of str
        Ids the service itself reported as truncated (Vertex ``statistics.truncated``).
    media_cut : list of str
        Ids of media items of which only a part was embedded (video windows, PDF pages).
    """

    limit_tokens: int
    over_estimate: list[str] = field(default_factory=list)
    truncated_by_service: list[str] = field(default_factory=list)
    media_cut: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, item_ids: Sequence[str]) -> None:
        """Record ``item_ids`` under ``kind`` (an attribute name), once each."""
        with self._lock:
            bucket: list[str] = getattr(self, kind)
            bucket.extend(i for i in item_ids if i not in bucket)

    def as_dict(self, shown: int = 20) -> dict[str, Any]:
        """JSON-ready summary for ``describe()``: counts plus the first ``shown`` ids."""
        with self._lock:
            return {
                "limit_tokens": self.limit_tokens,
                "estimate": "max(ceil(chars/4), words)",
                "text_over_limit_estimated": len(self.over_estimate),
                "text_truncated_by_service": len(self.truncated_by_service),
                "media_partially_embedded": len(self.media_cut),
                "item_ids": {
                    "text_over_limit_estimated": self.over_estimate[:shown],
                    "text_truncated_by_service": self.truncated_by_service[:shown],
                    "media_partially_embedded": self.media_cut[:shown],
                },
            }


def over_limit(texts: Sequence[tuple[str, str]], limit: int) -> list[str]:
    """Ids of ``(id, text)`` pairs whose estimated token count is over ``limit``."""
    return [item_id for item_id, text in texts if estimate_tokens(text) > limit]


def ids_text(ids: Sequence[str], limit: int = 10) -> str:
    """``a, b, c and N more`` for log and error messages."""
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more
