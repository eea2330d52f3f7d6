"""Items whose content is an ``s3://bucket/key`` string: sent as ``s3Location``, not bytes.

Nova and Marengo take S3 sources. Only image, audio and video items can be S3 references
(a text item's content is the text itself, even when it looks like a URI). Each family makes
the part (:meth:`~._family.BedrockFamily.s3_part`: Nova reads the format from the key's
extension, Marengo's body has no format field), since the client
never downloads the object; the service checks the content. These items skip
the local file checks of :func:`audit.items.validate_items` (there is no local file):
:func:`check_s3_batch` is the embedder's check for a batch holding them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from audit.embedders.base import check_request
from audit.embedders.bedrock._async import split_s3
from audit.embedders.bedrock._models import Part
from audit.items import BadItemsError, Item, ItemError, validate_items

if TYPE_CHECKING:
    from audit.embedders.base import BaseEmbedder
    from audit.embedders.bedrock._family import BedrockFamily

S3_MODALITIES = ("image", "audio", "video")


def is_s3_item(item: Item) -> bool:
    """Whether ``item`` refers to an S3 object (non-text content ``"s3://..."``)."""
    return (
        item.modality != "text"
        and isinstance(item.content, str)
        and item.content.startswith("s3://")
    )


def s3_part(item: Item, family: BedrockFamily, image_detail: str) -> Part:
    """The request part of an S3 item; an :class:`ItemError` naming what is wrong."""
    uri = str(item.content)
    _, key = split_s3(uri, item.id)
    if not family.s3_sources:
        raise ItemError(
            item.id, "only Nova and Marengo accept S3 sources; Titan and Cohere models need bytes"
        )
    if item.modality not in S3_MODALITIES:
        raise ItemError(
            item.id,
            f"{item.modality} items cannot come from S3 (documents are rendered to page "
            "images on the client): download the file and pass its path",
        )
    return family.s3_part(item, uri, key, image_detail)


def check_s3_batch(
    emb: BaseEmbedder,
    items: list[Item],
    purpose: str,
    dim: int | None,
    *,
    family: BedrockFamily,
    image_detail: str,
) -> None:
    """``embed``'s checks for a batch holding S3 items.

    Raises
    ------
    BadItemsError
        Listing every bad local item, malformed S3 URI and duplicate id at once.
    """
    check_request(emb, items, purpose, dim)
    errors: list[ItemError] = []
    local = [it for it in items if not is_s3_item(it)]
    try:
        validate_items(local, emb.limits)
    except BadItemsError as exc:
        errors += exc.errors
    seen = {it.id for it in local}
    for it in items:
        if not is_s3_item(it):
            continue
        if it.id in seen:
            errors.append(ItemError(it.id, "duplicate id in batch"))
        seen.add(it.id)
        try:
            s3_part(it, family, image_detail)  # URI, modality, format
        except ItemError as exc:
            errors.append(exc)
    if errors:
        raise BadItemsError(errors)
