"""Items to request parts, and which parts take the asynchronous path.

Runs entirely on the client (reading files, rendering PDF pages, reading durations), so
``embed`` and ``plan_usage`` see the same parts, and a bad item fails before anything is
sent: every bad item of the batch at once, each naming itself.

Which parts go asynchronous (``StartAsyncInvoke`` + S3 output) is the family's call
(:meth:`~._family.BedrockFamily.goes_async`, ``media_job``):

- Nova: audio/video over 30 s (``async_mode=auto``), or every audio, video and text item
  (``always``); ``never`` refuses long media.
- Marengo: audio and video always (the AWS page offers them only through
  ``StartAsyncInvoke``); text and image too when the model id is not an inference profile
  (``InvokeModel`` is offered for profiles only) or with ``async_mode=always``.
- Titan, Cohere: never.
"""

from __future__ import annotations

from audit.embedders.bedrock._family import BedrockFamily, Jobs
from audit.embedders.bedrock._media import document_parts, image_part
from audit.embedders.bedrock._models import Part
from audit.embedders.bedrock._requests import Settings
from audit.embedders.bedrock._s3 import is_s3_item, s3_part
from audit.items import BadItemsError, Item, ItemError


def prepare(emb: Settings, items: list[Item]) -> tuple[Jobs, set[int], list[tuple[str, str]]]:
    """Request parts for every item (``(item index, part)``), which jobs go async, and
    ``(item id, note)`` pairs for content left out (PDF pages over the limit).

    Raises
    ------
    BadItemsError
        Listing every item that cannot be sent (format, size, decoding, pages).
    ValueError
        For items that need a path this configuration refuses (long media with
        ``async_mode=never``; an async job without ``s3_output``), naming them.
    """
    family = emb.family
    mode = emb.segments.mode if family.async_jobs else "never"
    jobs: Jobs = []
    notes: list[tuple[str, str]] = []
    segmented: set[int] = set()
    errors: list[ItemError] = []
    refused: list[str] = []
    for i, item in enumerate(items):
        try:
            if is_s3_item(item):
                part = s3_part(item, family, emb.image_detail)
                if family.goes_async(part.kind, mode, emb.sync_invoke):
                    segmented.add(len(jobs))
                jobs.append((i, part))
            elif item.modality == "text":
                if family.goes_async("text", mode, emb.sync_invoke):
                    segmented.add(len(jobs))
                jobs.append((i, Part("text", str(item.content))))
            elif item.modality == "image":
                detail = family.image_detail(emb.image_detail)
                part = image_part(item, item.read_bytes(), emb.media, detail)
                _check_image_size(item, part, family)
                if family.goes_async("image", mode, emb.sync_invoke):
                    segmented.add(len(jobs))
                jobs.append((i, part))
            elif item.modality == "document":
                parts, n_pages = document_parts(item, emb.media)
                for part in parts:
                    _check_image_size(item, part, family)
                if n_pages > len(parts):
                    notes.append((item.id, f"embedded {len(parts)} of {n_pages} pages"))
                jobs.extend((i, p) for p in parts)
            else:
                media, refusal, is_async = family.media_job(item, emb, mode)
                if media is None:
                    refused.append(str(refusal))
                    continue
                if is_async:
                    segmented.add(len(jobs))
                jobs.append((i, media))
        except ItemError as exc:
            errors.append(exc)
    if errors:
        raise BadItemsError(errors)
    if refused:
        raise ValueError(family.refusal(items[0].modality, refused))
    family.check_async(emb, items, jobs, mode)
    if segmented:
        labels = [_label(items[jobs[n][0]], jobs[n][1]) for n in sorted(segmented)]
        emb.segments.require_output(labels, family.async_why)
    return jobs, segmented, notes


def _check_image_size(item: Item, part: Part, family: BedrockFamily) -> None:
    """Images of at most ``family.max_image_bytes`` (the file, before base64)."""
    limit = family.max_image_bytes
    if limit is None or part.source != "bytes":
        return
    size = len(part.value) * 3 // 4 - part.value[-2:].count("=")
    if size > limit:
        what = f"page {part.page} as PNG" if part.page is not None else "image"
        raise ItemError(
            item.id, f"{what} is {size:,} bytes, over the documented {limit:,}-byte image limit"
        )


def _label(item: Item, part: Part) -> str:
    return f"{item.id} ({part.seconds:.1f} s)" if part.seconds is not None else item.id
