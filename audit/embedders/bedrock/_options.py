"""Validating the BedrockEmbedder options that differ per model family.

Purposes (Nova ``embeddingPurpose``, Cohere ``input_type``), the truncation setting as
each API spells it, and the Cohere- and Marengo-only options.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.embedders.bedrock import _cohere as cohere
from audit.embedders.bedrock import _marengo as marengo
from audit.embedders.bedrock._models import (
    NOVA_INDEX_PURPOSES,
    NOVA_QUERY_PURPOSES,
    NOVA_TRUNCATION_MODES,
    ModelSpec,
)


def purposes(spec: ModelSpec, index: str | None, query: str | None) -> tuple[str | None, ...]:
    """The family's purpose/input-type values for index and query, validated."""
    if spec.family == "nova":
        index, query = (index or "GENERIC_INDEX").upper(), (query or "GENERIC_RETRIEVAL").upper()
        choice("index_purpose", index, NOVA_INDEX_PURPOSES)
        choice("query_purpose", query, NOVA_QUERY_PURPOSES)
        return index, query
    if spec.family == "cohere":
        index, query = (index or "search_document").lower(), (query or "search_query").lower()
        choice("index_purpose", index, cohere.COHERE_INPUT_TYPES)
        choice("query_purpose", query, cohere.COHERE_INPUT_TYPES)
        return index, query
    if index is not None or query is not None:
        raise ValueError(
            f"{spec.model_id} has no purpose/input-type parameter: index and query vectors "
            "are the same; index_purpose/query_purpose do not apply"
        )
    return None, None


def wire_truncation(family: str, truncation: str) -> str:
    """The truncation setting as the family's API spells it."""
    if family == "cohere":
        choice("truncation", truncation, tuple(cohere.COHERE_TRUNCATE))
        return cohere.COHERE_TRUNCATE[truncation]
    if family == "marengo":
        choice("truncation", truncation, tuple(marengo.MARENGO_TRUNCATE))
        return marengo.MARENGO_TRUNCATE[truncation]
    choice("truncation", truncation, NOVA_TRUNCATION_MODES)
    return truncation


def family_options(
    family: str, max_tokens: int | None, video_embedding: str | None, clip_seconds: float | None
) -> tuple[int | None, str | None, float | None]:
    """Validate the Cohere- and Marengo-only options; refuse them for other models."""
    if max_tokens is not None:
        if family != "cohere":
            raise ValueError("max_tokens applies to Cohere Embed v4 only")
        if not 1 <= max_tokens <= cohere.MAX_TOKENS:
            raise ValueError(f"max_tokens must be in [1, {cohere.MAX_TOKENS}], got {max_tokens}")
    if family != "marengo":
        if video_embedding is not None or clip_seconds is not None:
            raise ValueError("video_embedding and clip_seconds apply to Marengo only")
        return max_tokens, None, None
    video_embedding = (video_embedding or "visual-text").lower()
    choice("video_embedding", video_embedding, marengo.VIDEO_EMBEDDINGS)
    low, high = marengo.CLIP_SECONDS
    if clip_seconds is not None and not low <= clip_seconds <= high:
        raise ValueError(f"clip_seconds must be in [{low:g}, {high:g}], got {clip_seconds}")
    return max_tokens, video_embedding, clip_seconds


def choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
