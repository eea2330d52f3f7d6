"""Parts to requests, running them, and counting what they cost (for ``embed`` and plans).

A :class:`Request` is one billed HTTP request: a synchronous ``InvokeModel`` carrying one
part (Nova, Titan, Marengo) or up to 96 (Cohere), or one ``StartAsyncInvoke`` job (Nova
segmented, Marengo). ``embed`` runs the requests; ``plan_usage`` only counts them, so
both see the same bodies, and the plan's counters match a fault-free run exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from audit.embedders import _bedrock_cohere as cohere
from audit.embedders import _bedrock_marengo as marengo
from audit.embedders._bedrock_async import run_segmented, segmented_body
from audit.embedders._bedrock_models import BodyOptions, Parsed, Part, parse_response, request_body
from audit.embedders._bedrock_prepare import Jobs, prepare
from audit.embedders._usage import Usage, UsageCounts
from audit.items import BadItemsError, Item, ItemError

if TYPE_CHECKING:
    from audit.embedders.bedrock import BedrockEmbedder

Mode = Literal["sync", "nova-async", "marengo-async"]


@dataclass(frozen=True)
class Request:
    """One billed request.

    Attributes
    ----------
    jobs : tuple of int
        Indices into the batch's jobs, in the order the answer returns their vectors.
    body : dict
        The ``InvokeModel`` body, or the ``modelInput`` of ``StartAsyncInvoke``.
    model_id : str
        The id sent (Marengo jobs use the base model id, its sync calls the profile).
    mode : {"sync", "nova-async", "marengo-async"}
        How it is sent.
    label : str
        The item ids it carries, for errors and logs.
    """

    jobs: tuple[int, ...]
    body: dict[str, Any]
    model_id: str
    mode: Mode
    label: str

    @property
    def size(self) -> int:
        """Bytes of the body as the transport sends it."""
        return len(json.dumps(self.body, separators=(",", ":")))


def build_requests(
    emb: BedrockEmbedder, items: list[Item], jobs: Jobs, segmented: set[int], opts: BodyOptions
) -> list[Request]:
    """The requests that embed ``jobs`` (see :func:`~._bedrock_prepare.prepare`).

    Raises
    ------
    BadItemsError
        For a Cohere part too large for any request.
    """
    spec = emb.spec
    ids = [items[i].id for i, _ in jobs]
    if spec.family == "cohere":
        try:
            groups = cohere.batch_jobs([p for _, p in jobs], ids)
        except ItemError as exc:
            raise BadItemsError([exc]) from None
        return [
            Request(
                tuple(group),
                cohere.cohere_body([jobs[n][1] for n in group], opts),
                emb.model_id,
                "sync",
                _label([ids[n] for n in group]),
            )
            for group in groups
        ]
    out: list[Request] = []
    for n, (_, part) in enumerate(jobs):
        if spec.family == "marengo":
            body = marengo.marengo_body(part, opts)
            if n in segmented:
                out.append(Request((n,), body, emb.async_model_id, "marengo-async", ids[n]))
            else:
                out.append(Request((n,), body, emb.model_id, "sync", ids[n]))
        elif n in segmented:
            body = segmented_body(part, opts, emb.segments)
            out.append(Request((n,), body, emb.model_id, "nova-async", ids[n]))
        else:
            out.append(Request((n,), request_body(spec, part, opts), emb.model_id, "sync", ids[n]))
    return out


def run_request(
    emb: BedrockEmbedder, req: Request, items: list[Item], jobs: Jobs, opts: BodyOptions
) -> list[Parsed]:
    """Send one request (retries included) and parse its answer: one Parsed per job."""
    transport = emb._shared.transport
    spec = emb.spec
    ids = [items[jobs[n][0]].id for n in req.jobs]
    option = opts.video_embedding if jobs[req.jobs[0]][1].kind == "video" else None
    if req.mode == "nova-async":
        parsed = [run_segmented(transport, req.model_id, req.body, ids[0], emb.segments, emb.dim)]
    elif req.mode == "marengo-async":
        parsed = [
            marengo.run_async(
                transport, spec, req.body, ids[0], emb.segments, dim=emb.dim, option=option
            )
        ]
    else:
        raw = transport.invoke(req.model_id, req.body, req.label)
        if spec.family == "cohere":
            vectors = cohere.parse_cohere(spec, raw, item_ids=ids, dim=emb.dim)
            parsed = [Parsed(v) for v in vectors]
        elif spec.family == "marengo":
            vector = marengo.parse_marengo(spec, raw, item_id=ids[0], dim=emb.dim, option=option)
            parsed = [Parsed(vector)]
        else:
            parsed = [parse_response(spec, raw, item_id=ids[0], dim=emb.dim)]
    for n in req.jobs:
        count_part(transport.usage, jobs[n][1])
    return parsed


def count_part(usage: Usage, part: Part) -> None:
    """Content units of one answered part (what Bedrock bills)."""
    if part.kind == "text":
        usage.add(text_chars=len(part.value) if part.source == "bytes" else 0)
    elif part.kind == "image":
        usage.add(images=1)
    elif part.seconds is not None:
        usage.add(media_seconds=part.seconds)


def plan_counts(
    emb: BedrockEmbedder,
    items: Sequence[Item],
    chunks: list[tuple[str, list[int]]],
    opts: BodyOptions,
) -> UsageCounts:
    """What embedding ``items`` in ``chunks`` sends, counted without sending anything.

    ``polls`` stays 0 (it depends on how long jobs run) and ``retries``/``throttles``
    stay 0 (they depend on the service's answers).
    """
    usage = Usage()
    for _, idx in chunks:
        batch = [items[i] for i in idx]
        jobs, segmented = prepare(emb, batch, record=False)
        for req in build_requests(emb, batch, jobs, segmented, opts):
            usage.take_request(req.label, req.size, retry=False)
            if req.mode != "sync":
                usage.add(async_jobs=1)
            for n in req.jobs:
                count_part(usage, jobs[n][1])
    return usage.snapshot()


def _label(ids: list[str], limit: int = 5) -> str:
    unique = list(dict.fromkeys(ids))
    more = f" and {len(unique) - limit} more" if len(unique) > limit else ""
    return ", ".join(unique[:limit]) + more
