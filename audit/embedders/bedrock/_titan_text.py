"""Amazon Titan Text Embeddings V2 on Bedrock: the ``titan-text`` family (text only).

Body ``{"inputText", "dimensions", "normalize": true}``, answer ``{"embedding": [...]}``
(AWS user guide, model-parameters-titan-embed-text).
"""

from __future__ import annotations

from typing import Any

from audit.embedders.bedrock._family import BedrockFamily, Settings
from audit.embedders.bedrock._models import BodyOptions, ModelSpec, Parsed, Part, parse_embedding

TITAN_TEXT_V2 = "amazon.titan-embed-text-v2:0"


class TitanText(BedrockFamily):
    """Titan Text V2: one text per request, normalised by the service."""

    name = "titan-text"
    models = (ModelSpec(TITAN_TEXT_V2, "titan-text", (1024, 512, 256), frozenset({"text"})),)

    def params(self, emb: Settings) -> dict[str, Any]:
        return {"normalize": True}

    def body(self, part: Part, opts: BodyOptions) -> dict[str, Any]:
        if part.kind != "text":
            raise AssertionError(f"titan-text got a {part.kind} part")  # filtered earlier
        return {"inputText": part.value, "dimensions": opts.dim, "normalize": True}

    def parse(self, emb: Settings, req: Any, payload: Any) -> list[Parsed]:
        return [parse_embedding(emb.spec, payload, item_id=req.ids[0], dim=emb.dim)]
