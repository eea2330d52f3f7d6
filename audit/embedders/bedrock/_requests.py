"""Parts to requests, and sending one (for ``embed``; ``plan_usage`` counts the same).

A :class:`Request` is one billed HTTP request: a synchronous ``InvokeModel`` carrying one
part (Nova, Titan, Marengo) or up to 96 (Cohere), or one ``StartAsyncInvoke`` job (Nova
segmented, Marengo). ``embed`` sends the requests; the hosted base's ``plan_usage`` only
counts them, so both see the same bodies, and the plan's counters match a fault-free run
exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from audit.embedders.bedrock._family import BedrockFamily, Jobs
from audit.embedders.bedrock._family import Settings as FamilySettings
from audit.embedders.bedrock._models import BodyOptions, Parsed, Part
from audit.embedders.bedrock._transport import Transport
from audit.items import BadItemsError, Item, ItemError

#: How a request is sent: ``sync`` (``InvokeModel``), else the name of a family's
#: asynchronous job (``nova-async``, ``marengo-async``).
Mode = str


class Settings(FamilySettings, Protocol):
    """What building and sending requests reads from a Bedrock embedder (public fields)."""

    family: BedrockFamily


@dataclass(frozen=True)
class Request:
    """One billed request.

    Attributes
    ----------
    positions : tuple of int
        Item positions (in the batch) of its parts, in the order the answer returns them.
    parts : tuple of Part
        The parts it carries.
    ids : tuple of str
        The item id of each part.
    body : dict
        The ``InvokeModel`` body, or the ``modelInput`` of ``StartAsyncInvoke``.
    model_id : str
        The id sent (Marengo jobs use the base model id, its sync calls the profile).
    mode : str
        How it is sent: ``sync``, or a family's asynchronous job (``nova-async``, ...).
    label : str
        The item ids it carries, for errors and logs.
    """

    positions: tuple[int, ...]
    parts: tuple[Part, ...]
    ids: tuple[str, ...]
    body: dict[str, Any]
    model_id: str
    mode: Mode
    label: str
    units: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", units_of(self.parts))

    @property
    def size(self) -> int:
        """Bytes of the body as the transport sends it."""
        return len(json.dumps(self.body, separators=(",", ":")))

    @property
    def async_job(self) -> bool:
        """Whether it starts a ``StartAsyncInvoke`` job."""
        return self.mode != "sync"


def build_requests(
    emb: Settings, items: list[Item], jobs: Jobs, segmented: set[int], opts: BodyOptions
) -> list[Request]:
    """The requests that embed ``jobs`` (see :func:`~._prepare.prepare`), as the family
    plans them (:meth:`~._family.BedrockFamily.plan`).

    Raises
    ------
    BadItemsError
        For a part too large for any request.
    """
    ids = [items[i].id for i, _ in jobs]
    try:
        planned = emb.family.plan(jobs, segmented, opts, emb, ids)
    except ItemError as exc:
        raise BadItemsError([exc]) from None
    return [
        Request(
            tuple(jobs[n][0] for n in group),
            tuple(jobs[n][1] for n in group),
            tuple(ids[n] for n in group),
            body,
            model_id,
            mode,
            _label([ids[n] for n in group]),
        )
        for group, body, model_id, mode in planned
    ]


def send_request(emb: Settings, transport: Transport, req: Request) -> list[Parsed]:
    """Send one request (retries included) and parse its answer: one Parsed per part."""
    if req.async_job:
        return emb.family.run_async(emb, transport, req)
    raw = transport.invoke(req.model_id, req.body, req.label)
    return emb.family.parse(emb, req, raw)


def units_of(parts: Sequence[Part]) -> dict[str, float]:
    """Content units of answered parts (what Bedrock bills)."""
    units = {"text_chars": 0, "images": 0, "media_seconds": 0.0}
    for part in parts:
        if part.kind == "text":
            units["text_chars"] += len(part.value) if part.source == "bytes" else 0
        elif part.kind == "image":
            units["images"] += 1
        elif part.seconds is not None:
            units["media_seconds"] += part.seconds
    return {k: v for k, v in units.items() if v}


def _label(ids: list[str], limit: int = 5) -> str:
    unique = list(dict.fromkeys(ids))
    more = f" and {len(unique) - limit} more" if len(unique) > limit else ""
    return ", ".join(unique[:limit]) + more
