"""Items to request parts, per model family, and which parts take the asynchronous path.

Runs entirely on the client (reading files, rendering PDF pages, reading durations), so
``embed`` and ``plan_usage`` see the same parts, and a bad item fails before anything is
sent: every bad item of the batch at once, each naming itself.

Which parts go asynchronous (``StartAsyncInvoke`` + S3 output):

- Nova: audio/video over 30 s (``async_mode=auto``), or every audio, video and text item
  (``always``); ``never`` refuses long media.
- Marengo: audio and video always (the AWS page offers them only through
  ``StartAsyncInvoke``); text and image too when the model id is not an inference profile
  (``InvokeModel`` is offered for profiles only) or with ``async_mode=always``.
- Titan, Cohere: never.
"""

from __future__ import annotations

from audit.embedders.bedrock import _cohere as cohere
from audit.embedders.bedrock import _marengo as marengo
from audit.embedders.bedrock._media import (
    SYNC_MAX_SECONDS,
    document_parts,
    encode_inline,
    image_part,
    media_info,
)
from audit.embedders.bedrock._models import Part
from audit.embedders.bedrock._requests import Jobs, Settings
from audit.embedders.bedrock._s3 import is_s3_item, s3_part
from audit.items import BadItemsError, Item, ItemError

_MARENGO_WHY = (
    "path (Marengo embeds audio/video only with StartAsyncInvoke, and text/image too "
    "when the model id is not an inference profile such as "
    "us.twelvelabs.marengo-embed-2-7-v1:0)"
)


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
    family = emb.spec.family
    mode = emb.segments.mode if family in ("nova", "marengo") else "never"
    # Marengo text/image are synchronous only through an inference profile.
    marengo_sync = family == "marengo" and emb.sync_invoke and mode != "always"
    jobs: Jobs = []
    notes: list[tuple[str, str]] = []
    segmented: set[int] = set()
    errors: list[ItemError] = []
    refused: list[str] = []
    for i, item in enumerate(items):
        try:
            if is_s3_item(item):
                part = s3_part(item, family, emb.image_detail)
                if family == "nova" and mode == "always" and part.kind != "image":
                    segmented.add(len(jobs))
                if family == "marengo" and (part.kind != "image" or not marengo_sync):
                    segmented.add(len(jobs))
                jobs.append((i, part))
            elif item.modality == "text":
                if (family == "nova" and mode == "always") or (
                    family == "marengo" and not marengo_sync
                ):
                    segmented.add(len(jobs))
                jobs.append((i, Part("text", str(item.content))))
            elif item.modality == "image":
                detail = emb.image_detail if family == "nova" else "STANDARD_IMAGE"
                part = image_part(item, item.read_bytes(), emb.media, detail)
                _check_image_size(item, part, family)
                if family == "marengo" and not marengo_sync:
                    segmented.add(len(jobs))
                jobs.append((i, part))
            elif item.modality == "document":
                parts, n_pages = document_parts(item, emb.media)
                for part in parts:
                    _check_image_size(item, part, family)
                if n_pages > len(parts):
                    notes.append((item.id, f"embedded {len(parts)} of {n_pages} pages"))
                jobs.extend((i, p) for p in parts)
            elif family == "marengo":
                if mode == "never":
                    refused.append(item.id)
                    continue
                data = item.read_bytes()
                fmt, seconds = marengo.media_info(item, data)
                value = encode_inline(item, data, emb.media.max_inline_bytes)
                segmented.add(len(jobs))
                kind = "audio" if item.modality == "audio" else "video"
                jobs.append((i, Part(kind, value, fmt, seconds=seconds)))
            else:
                data = item.read_bytes()
                fmt, seconds = media_info(item, data)
                over = seconds is not None and seconds > SYNC_MAX_SECONDS
                if over and mode == "never":
                    refused.append(f"{item.id} ({seconds:.1f} s)")
                    continue
                if mode == "always" or over:
                    segmented.add(len(jobs))
                kind = "audio" if item.modality == "audio" else "video"
                value = encode_inline(item, data, emb.media.max_inline_bytes)
                jobs.append((i, Part(kind, value, fmt, seconds=seconds)))
        except ItemError as exc:
            errors.append(exc)
    if errors:
        raise BadItemsError(errors)
    if refused:
        raise ValueError(_refusal(family, items[0].modality, refused))
    if family == "marengo" and not marengo_sync and mode == "never" and jobs:
        raise ValueError(
            f"{len(jobs)} item(s) ({', '.join(items[j[0]].id for j in jobs[:10])}) need "
            "StartAsyncInvoke: Marengo's InvokeModel is offered for inference profiles only "
            f"(e.g. us.{emb.spec.model_id}), and async_mode=never refuses async jobs"
        )
    if segmented:
        labels = [_label(items[jobs[n][0]], jobs[n][1]) for n in sorted(segmented)]
        if family == "marengo":
            emb.segments.require_output(labels, _MARENGO_WHY)
        else:
            emb.segments.require_output(labels)
    return jobs, segmented, notes


def _check_image_size(item: Item, part: Part, family: str) -> None:
    """Cohere and Marengo take images of at most 5 MB (the file, before base64)."""
    if family not in ("cohere", "marengo") or part.source != "bytes":
        return
    size = len(part.value) * 3 // 4 - part.value[-2:].count("=")
    limit = cohere.MAX_IMAGE_BYTES if family == "cohere" else marengo.MAX_IMAGE_BYTES
    if size > limit:
        what = f"page {part.page} as PNG" if part.page is not None else "image"
        raise ItemError(
            item.id, f"{what} is {size:,} bytes, over the documented {limit:,}-byte image limit"
        )


def _refusal(family: str, modality: str, refused: list[str]) -> str:
    if family == "marengo":
        return (
            f"{len(refused)} {modality} item(s) refused: Marengo embeds audio and video only "
            f"through StartAsyncInvoke, which async_mode=never turns off: {', '.join(refused)}"
        )
    return (
        f"{len(refused)} {modality} item(s) are over the {SYNC_MAX_SECONDS:g} s "
        f"a synchronous Bedrock request accepts: {', '.join(refused)}. Use Nova's "
        "asynchronous segmented path (async_mode=auto and ?s3_output=s3://bucket/prefix)"
        " or split the media into clips of at most 30 s."
    )


def _label(item: Item, part: Part) -> str:
    return f"{item.id} ({part.seconds:.1f} s)" if part.seconds is not None else item.id
