"""Amazon Titan Multimodal Embeddings G1 on Bedrock: the ``titan-mm`` family.

Body ``{"inputText" | "inputImage", "embeddingConfig": {"outputEmbeddingLength"}}``,
answer ``{"embedding": [...]}`` (AWS user guide, model-parameters-titan-embed-mm);
document pages go as images.
"""

from __future__ import annotations

from typing import Any

from audit.embedders.bedrock._family import BedrockFamily, Settings
from audit.embedders.bedrock._models import BodyOptions, ModelSpec, Parsed, Part, parse_embedding

TITAN_MM_G1 = "amazon.titan-embed-image-v1"
TITAN_MM_IMAGE_FORMATS = ("png", "jpeg")


class TitanMultimodal(BedrockFamily):
    """Titan MM G1: one text or image per request."""

    name = "titan-mm"
    models = (
        ModelSpec(
            TITAN_MM_G1,
            "titan-mm",
            (1024, 384, 256),
            frozenset({"text", "image", "document"}),
            TITAN_MM_IMAGE_FORMATS,
        ),
    )

    def params(self, emb: Settings) -> dict[str, Any]:
        return {}

    def body(self, part: Part, opts: BodyOptions) -> dict[str, Any]:
        key = {"text": "inputText", "image": "inputImage"}[part.kind]
        return {key: part.value, "embeddingConfig": {"outputEmbeddingLength": opts.dim}}

    def parse(self, emb: Settings, req: Any, payload: Any) -> list[Parsed]:
        return [parse_embedding(emb.spec, payload, item_id=req.ids[0], dim=emb.dim)]
