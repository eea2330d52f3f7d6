"""Private parts of the red-team suite: options, adapters, the attack families.

The terminal summary of a red-team report is :mod:`audit.suites._summaries.redteam`.
"""

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
    "index_attacks",
    "load_images",
    "png_bytes",
    "prefix_poisoning",
    "retrieval_task",
    "self_task",
    "skipped",
    "square_attacks",
    "text_query_attacks",
    "white_box",
    "white_box_attacks",
]
