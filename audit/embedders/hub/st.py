"""``st:<path-or-hub-id>``: any sentence-transformers text embedder.

The spec argument is ``<folder-or-hub-id>[?option=value&...][#pins]`` (see
:mod:`audit.embedders.hub._spec`). Options: ``device`` (default ``cpu``), ``batch_size``,
``matryoshka`` (comma-separated trained truncation sizes, e.g. ``512,256,128``),
``revision`` (hub ids), ``allow_pickle`` (opt in to ``.bin`` weights).

Asymmetric models that define prompts named ``query`` and ``document`` (or ``passage`` /
``corpus``) get them for ``purpose="query"`` / ``"index"``; the prompts used are recorded in
``params`` so the cache and the report tell the two apart.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from audit.embedders.base import BaseEmbedder
from audit.embedders.hub._spec import (
    COMMON_OPTIONS,
    device_option,
    from_pretrained_kwargs,
    matryoshka_option,
    open_model,
    opt_int,
    pickle_allowed,
)
from audit.items import Item

log = logging.getLogger(__name__)

QUERY_PROMPTS = ("query",)
INDEX_PROMPTS = ("document", "passage", "corpus")  # sentence-transformers' own order


class StEmbedder(BaseEmbedder):
    """A sentence-transformers model as a text-only :class:`~audit.embedders.base.Embedder`.

    Parameters
    ----------
    arg : str
        The spec argument after ``st:``: ``<folder-or-hub-id>[?options][#pins]``.

    Raises
    ------
    ValueError
        For a bad spec (unknown option, missing folder, unreachable hub id).
    audit.weights.WeightsError
        For refused pickle weights or a pinned hash that does not match.
    """

    modalities = frozenset({"text"})

    def __init__(self, arg: str) -> None:
        super().__init__()
        ref, files = open_model(arg, kind="st", allowed=COMMON_OPTIONS)
        self.source = ref.source
        self.root = files.root
        self.name = f"st:{ref.display}"
        self.batch_size = opt_int(ref, "batch_size", 64)
        self.device = device_option(ref)
        self.weights = dict(files.weights)
        self.model = _load(files.root, self.device, allow_pickle=pickle_allowed(ref))
        self.dim = _model_dim(self.model)
        self.matryoshka_dims = matryoshka_option(ref, self.dim)
        # sentence-transformers >= 5 adds empty "query"/"document" prompts: they are no-ops
        prompts = {k: v for k, v in (getattr(self.model, "prompts", None) or {}).items() if v}
        self.prompt_names: dict[str, str | None] = {
            "query": next((p for p in QUERY_PROMPTS if p in prompts), None),
            "index": next((p for p in INDEX_PROMPTS if p in prompts), None),
        }
        self.params = {
            "prompts": {k: (v, prompts[v]) if v else None for k, v in self.prompt_names.items()},
            "default_prompt_name": getattr(self.model, "default_prompt_name", None),
            "max_seq_length": getattr(self.model, "max_seq_length", None),
            "config_sha256": files.config_sha256,
        }
        log.info("loaded %s from %s (dim %d, prompts %s)", self.name, self.root, self.dim, prompts)

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        texts = [str(it.content) for it in items]
        kwargs: dict[str, Any] = {
            "batch_size": self.batch_size,
            "convert_to_numpy": True,
            "show_progress_bar": False,
            "normalize_embeddings": False,  # the base normalises after its output checks
        }
        prompt = self.prompt_names[purpose]
        # encode_query/encode_document (sentence-transformers >= 5) also route Router models
        method = getattr(
            self.model, "encode_query" if purpose == "query" else "encode_document", None
        )
        if method is not None:
            return np.asarray(method(texts, prompt_name=prompt, **kwargs), dtype=np.float32)
        return np.asarray(self.model.encode(texts, prompt_name=prompt, **kwargs), dtype=np.float32)


def _load(root: Any, device: str, *, allow_pickle: bool) -> Any:
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(
            str(root),
            device=device,
            local_files_only=True,
            trust_remote_code=False,  # never run code shipped with a model
            model_kwargs=from_pretrained_kwargs(allow_pickle=allow_pickle),
        )
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"st: cannot load a sentence-transformers model from {root}: {exc}"
        ) from exc


def _model_dim(model: Any) -> int:
    for attr in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        method = getattr(model, attr, None)
        if callable(method):
            dim = method()
            if dim:
                return int(dim)
            break
    # Some module stacks do not declare their output size: measure it.
    probe = model.encode(["dimension probe"], convert_to_numpy=True, show_progress_bar=False)
    return int(np.asarray(probe).shape[-1])
