"""The Bedrock model families, and the model table derived from them.

Adding a family: one module defining a :class:`~._family.BedrockFamily` subclass, and one
``FAMILIES.add(...)`` line below. Registration order is the order of the model table
(``audit list``, the "supported:" list of an unknown-model error).
"""

from __future__ import annotations

import difflib

from audit.embedders.bedrock._cohere import Cohere
from audit.embedders.bedrock._family import BedrockFamily
from audit.embedders.bedrock._marengo import Marengo
from audit.embedders.bedrock._models import ModelSpec
from audit.embedders.bedrock._nova import Nova
from audit.embedders.bedrock._titan_mm import TitanMultimodal
from audit.embedders.bedrock._titan_text import TitanText
from audit.registry import Registry

FAMILIES: Registry[BedrockFamily] = Registry("Bedrock model family")
FAMILIES.add(Nova())
FAMILIES.add(TitanText())
FAMILIES.add(TitanMultimodal())
FAMILIES.add(Cohere())
FAMILIES.add(Marengo())

#: Base model id -> spec, over every registered family.
MODELS: dict[str, ModelSpec] = {
    spec.model_id: spec for name in FAMILIES.in_order() for spec in FAMILIES.get(name).models
}


def family_of(spec: ModelSpec) -> BedrockFamily:
    """The registered family that speaks for ``spec``."""
    return FAMILIES.get(spec.family)


def resolve_model(model_id: str) -> ModelSpec:
    """Find the spec of a model id, a cross-region profile id or a foundation-model ARN.

    ``us.amazon.nova-2-...`` (inference profile) and
    ``arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-2-...`` resolve to the
    base model's spec; the id itself is still what is sent.

    Raises
    ------
    ValueError
        For an unknown model, naming the closest supported ids.
    """
    base = model_id.rsplit("/", 1)[-1]
    for known, spec in MODELS.items():
        if base == known or base.endswith("." + known):
            return spec
    close = difflib.get_close_matches(base, list(MODELS), n=2, cutoff=0.4)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise ValueError(
        f"unsupported Bedrock model id {model_id!r}{hint} (supported: {', '.join(MODELS)})"
    )
