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
from typing import Any, Literal, Protocol

from audit.embedders.bedrock import _cohere as cohere
from audit.embedders.bedrock import _marengo as marengo
from audit.embedders.bedrock._async import AsyncSettings, run_segmented, segmented_body
from audit.embedders.bedrock._media import MediaSettings
from audit.embedders.bedrock._models import (
    BodyOptions,
    ModelSpec,
    Parsed,
    Part,
    parse_response,
    request_body,
)
from audit.embedders.bedrock._transport import Transport
from audit.items import BadItemsError, Item, ItemError

Mode = Literal["sync", "nova-async", "marengo-async"]
Jobs = list[tuple[int, Part]]


class Settings(Protocol):
    """What building and sending requests reads from a Bedrock embedder (public fields)."""

    spec: ModelSpec
    model_id: str
    async_model_id: str
    sync_invoke: bool
    image_detail: str
    segments: AsyncSettings
    media: MediaSettings
    dim: int


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
    mode : {"sync", "nova-async", "marengo-async"}
        How it is sent.
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
    """The requests that embed ``jobs`` (see :func:`~._prepare.prepare`).

    Raises
    ------
    BadItemsError
        For a Cohere part too large for any request.
    """
    spec = emb.spec
    ids = [items[i].id for i, _ in jobs]

    def request(group: Sequence[int], body: dict[str, Any], model_id: str, mode: Mode) -> Request:
        return Request(
            tuple(jobs[n][0] for n in group),
            tuple(jobs[n][1] for n in group),
            tuple(ids[n] for n in group),
            body,
            model_id,
            mode,
            _label([ids[n] for n in group]),
        )

    if spec.family == "cohere":
        try:
            groups = cohere.batch_jobs([p for _, p in jobs], ids)
        except ItemError as exc:
            raise BadItemsError([exc]) from None
        return [
            request(g, cohere.cohere_body([jobs[n][1] for n in g], opts), emb.model_id, "sync")
            for g in groups
        ]
    out: list[Request] = []
    for n, (_, part) in enumerate(jobs):
        if spec.family == "marengo":
            body = marengo.marengo_body(part, opts)
            if n in segmented:
                out.append(request([n], body, emb.async_model_id, "marengo-async"))
            else:
                out.append(request([n], body, emb.model_id, "sync"))
        elif n in segmented:
            body = segmented_body(part, opts, emb.segments)
            out.append(request([n], body, emb.model_id, "nova-async"))
        else:
            out.append(request([n], request_body(spec, part, opts), emb.model_id, "sync"))
    return out


def send_request(
    emb: Settings, transport: Transport, req: Request, video_embedding: str
) -> list[Parsed]:
    """Send one request (retries included) and parse its answer: one Parsed per part.

    ``video_embedding`` is the Marengo ``embeddingOption`` read from a video's answer.
    """
    spec = emb.spec
    ids = list(req.ids)
    option = video_embedding if req.parts[0].kind == "video" else None
    if req.mode == "nova-async":
        return [run_segmented(transport, req.model_id, req.body, ids[0], emb.segments, emb.dim)]
    if req.mode == "marengo-async":
        return [
            marengo.run_async(
                transport, spec, req.body, ids[0], emb.segments, dim=emb.dim, option=option
            )
        ]
    raw = transport.invoke(req.model_id, req.body, req.label)
    if spec.family == "cohere":
        return [Parsed(v) for v in cohere.parse_cohere(spec, raw, item_ids=ids, dim=emb.dim)]
    if spec.family == "marengo":
        vector = marengo.parse_marengo(spec, raw, item_id=ids[0], dim=emb.dim, option=option)
        return [Parsed(vector)]
    return [parse_response(spec, raw, item_id=ids[0], dim=emb.dim)]


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
