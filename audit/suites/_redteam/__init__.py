"""Private parts of the red-team suite: options, adapters, the attack families, summary."""

from audit.suites._redteam._adapters import (
    Env,
    ImageEmbedFn,
    Task,
    WhiteBox,
    load_images,
    png_bytes,
    retrieval_task,
    self_task,
    white_box,
)
from audit.suites._redteam._image import square_attacks, white_box_attacks
from audit.suites._redteam._index import index_attacks
from audit.suites._redteam._options import FAMILIES, RedteamOptions
from audit.suites._redteam._results import ASR, SUITE, skipped
from audit.suites._redteam._summary import budget_label, summary_text
from audit.suites._redteam._text import prefix_poisoning, text_query_attacks

__all__ = [
    "ASR",
    "FAMILIES",
    "SUITE",
    "Env",
    "ImageEmbedFn",
    "RedteamOptions",
    "Task",
    "WhiteBox",
    "budget_label",
    "index_attacks",
    "load_images",
    "png_bytes",
    "prefix_poisoning",
    "retrieval_task",
    "self_task",
    "skipped",
    "square_attacks",
    "summary_text",
    "text_query_attacks",
    "white_box",
    "white_box_attacks",
]
