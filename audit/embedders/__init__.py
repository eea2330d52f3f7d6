"""Embedder backends, selected by a spec string (``local``, ``st:PATH``, ...).

Backends are imported only when created, so the CLI's help and listings stay fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from audit.embedders._wrapper import EmbedderWrapper, chain, served_dims_of, unwrap
from audit.embedders.base import (
    BaseEmbedder,
    Describable,
    DifferentiablePath,
    Embedder,
    EmbeddingError,
    SupportsAtDim,
    SupportsDifferentiable,
    SupportsItemLimits,
    SupportsServedDims,
    SupportsUsagePlanning,
    l2_normalize,
    truncate,
)
from audit.registry import Registry

__all__ = [
    "EMBEDDERS",
    "BaseEmbedder",
    "Describable",
    "DifferentiablePath",
    "Embedder",
    "EmbedderEntry",
    "EmbedderWrapper",
    "EmbeddingError",
    "SupportsAtDim",
    "SupportsDifferentiable",
    "SupportsItemLimits",
    "SupportsServedDims",
    "SupportsUsagePlanning",
    "chain",
    "check_spec",
    "create_embedder",
    "l2_normalize",
    "parse_spec",
    "served_dims_of",
    "truncate",
    "unwrap",
]


@dataclass(frozen=True)
class EmbedderEntry:
    """A backend: ``module:factory`` taking the spec's argument, and a description.

    The optional hooks are ``module:function`` strings, imported only when used (so
    ``audit --help`` and ``audit list`` load no model or SDK):

    - ``check(arg)`` validates the argument's options without building the backend
      (:func:`check_spec`; ValueError if bad);
    - ``availability() -> (can_run, reason)`` says whether it can run here now, without
      loading a model or sending a request (:func:`audit.embedders.availability`);
    - ``capabilities() -> list[str]`` gives lines on modalities and sizes for
      ``audit list embedders``.
    """

    target: str
    description: str
    needs_arg: bool = False
    check: str | None = None
    availability: str | None = None
    capabilities: str | None = None


EMBEDDERS: Registry[EmbedderEntry] = Registry("embedder")
EMBEDDERS.register(
    "local",
    EmbedderEntry(
        "audit.embedders.local:LocalEmbedder",
        "offline default, 384-d, CPU: MiniLM-L6 text, EfficientNet-Lite0/ConSE image, "
        "PDF text+pages, video frames+speech, audio via Whisper tiny.en transcripts",
        availability="audit.embedders.local._availability:availability",
        capabilities="audit.embedders.local._availability:capabilities",
    ),
)
EMBEDDERS.register(
    "bedrock",
    EmbedderEntry(
        "audit.embedders.bedrock:from_spec",
        "Amazon Bedrock: Nova Multimodal Embeddings, Titan Text V2, Titan MM G1, "
        "Cohere Embed 4, TwelveLabs Marengo Embed 2.7 "
        "(bedrock:<model-id>[?dim=..&region=..])",
        needs_arg=True,
        check="audit.embedders.bedrock._spec:check_spec",
        availability="audit.embedders.bedrock._availability:availability",
        capabilities="audit.embedders.bedrock._availability:capabilities",
    ),
)
EMBEDDERS.register(
    "gemini",
    EmbedderEntry(
        "audit.embedders.google.gemini:from_spec",
        "Google Gemini Embedding (gemini-embedding-001), text "
        "(gemini:<model>[?dim=..&task=..&vertexai=0|1]; extra mme-audit[google])",
        needs_arg=True,
        check="audit.embedders.google._spec:check_gemini",
        availability="audit.embedders.google._availability:gemini_availability",
        capabilities="audit.embedders.google._availability:gemini_capabilities",
    ),
)
EMBEDDERS.register(
    "vertex",
    EmbedderEntry(
        "audit.embedders.google.vertex:from_spec",
        "Vertex AI multimodalembedding@001: text (32 tokens), image, video; documents "
        "opt-in (vertex:<model>[?dim=..&project=..&location=..]; extra mme-audit[google])",
        needs_arg=True,
        check="audit.embedders.google._spec:check_vertex",
        availability="audit.embedders.google._availability:vertex_availability",
        capabilities="audit.embedders.google._availability:vertex_capabilities",
    ),
)
EMBEDDERS.register(
    "st",
    EmbedderEntry(
        "audit.embedders.hub.st:StEmbedder",
        "sentence-transformers text model (st:<folder-or-hub-id>[?options][#pins])",
        needs_arg=True,
        check="audit.embedders.hub._spec:check_st",
        availability="audit.embedders.hub._spec:availability",
    ),
)
EMBEDDERS.register(
    "hf",
    EmbedderEntry(
        "audit.embedders.hub.hf:HfEmbedder",
        "transformers CLIP/SigLIP (text, image, video, document) or CLAP (text, audio) "
        "(hf:<folder-or-hub-id>[?options][#pins])",
        needs_arg=True,
        check="audit.embedders.hub._spec:check_hf",
        availability="audit.embedders.hub._spec:availability",
    ),
)


def parse_spec(spec: str) -> tuple[str, str | None]:
    """Split ``kind[:argument]``; the argument may itself contain colons."""
    kind, sep, arg = spec.partition(":")
    return kind.strip(), (arg if sep else None)


def create_embedder(spec: str) -> Embedder:
    """Build the backend a spec names.

    Raises
    ------
    audit.registry.RegistryError
        For an unknown kind (with the closest known names).
    ValueError
        When a kind that needs an argument (``st:PATH``) has none, or vice versa.
    """
    arg = parse_spec(spec)[1]
    entry = _entry_for(spec)
    module, _, factory = entry.target.partition(":")
    make = getattr(importlib.import_module(module), factory)
    return make(arg) if entry.needs_arg else make()


def _entry_for(spec: str) -> EmbedderEntry:
    kind, arg = parse_spec(spec)
    entry = EMBEDDERS.get(kind)
    if entry.needs_arg and not arg:
        raise ValueError(f"embedder {kind!r} needs an argument: {kind}:<path-or-id>")
    if not entry.needs_arg and arg:
        raise ValueError(f"embedder {kind!r} takes no argument, got {spec!r}")
    return entry


def check_spec(spec: str) -> None:
    """Validate a spec without building its backend (no model load, no network).

    Raises
    ------
    audit.registry.RegistryError
        For an unknown kind (with the closest known names).
    ValueError
        For a missing or unexpected argument, or an unknown (with the closest known one),
        repeated or badly typed ``?option``.
    """
    arg = parse_spec(spec)[1]
    entry = _entry_for(spec)
    if entry.check is not None and arg is not None:
        module, _, func = entry.check.partition(":")
        getattr(importlib.import_module(module), func)(arg)
