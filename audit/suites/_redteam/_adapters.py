"""Adapters from the run's Embedder and datasets to the shapes the ``redteam`` library takes.

- text: ``list[str] -> (n, d)`` through ``embed(purpose="query")``;
- black-box images: ``(N, C, H, W)`` arrays in [0, 1] -> PNG image items -> ``embed``,
  counting every row sent (:class:`ImageEmbedFn`);
- white-box images: ``differentiable("image")``, composed with the affine debiasing
  projection when the embedder is a projected one, and checked against ``embed`` on the
  clean queries before it is trusted (:func:`white_box`).
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from audit.datasets import Dataset
from audit.embedders import (
    Embedder,
    SupportsDifferentiable,
    SupportsItemLimits,
    chain,
    unwrap,
)
from audit.items import Item, ItemError, ItemLimits, check_item, load_image, text_item

log = logging.getLogger(__name__)


@dataclass
class Env:
    """What the attack families need from the run context.

    Attributes
    ----------
    embedder : Embedder
        The audited (deployed) embedder.
    run_dir : Path
        The run folder; artifact paths in reports are relative to it.
    seed : callable
        ``stream -> int`` (``RunContext.seed_for``).
    rng : callable
        ``stream -> numpy Generator`` (``RunContext.rng``).
    text_data, image_data : callable
        ``() -> Dataset``: the text retrieval set (text attacks, poisoning) and the image
        set (image attacks, hijack, hub).
    embedder_variant : str
        Which pipeline variant ``embedder`` is ("raw" or "debiased").
    """

    embedder: Embedder
    run_dir: Path
    seed: Callable[[str], int]
    rng: Callable[[str], np.random.Generator]
    text_data: Callable[[], Dataset]
    image_data: Callable[[], Dataset]
    embedder_variant: str = "raw"

    @property
    def artifacts(self) -> Path:
        """``run_dir/artifacts/redteam`` (created on use)."""
        path = self.run_dir / "artifacts" / "redteam"
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class Task:
    """A retrieval task to attack: queries, a gallery and one relevant gallery row each."""

    dataset: str
    queries: list[Item]
    gallery: list[Item]
    relevant: np.ndarray
    modality: str


def retrieval_task(
    ds: Dataset,
    query_modality: str,
    rng: np.random.Generator,
    n_queries: int | None,
    gallery_size: int,
) -> Task:
    """Sample queries of ``query_modality`` with a judged-relevant item, and a gallery.

    Each query's relevant item is its highest-graded one (ties: corpus order). The gallery
    holds the relevant items of the sampled queries plus random distractors of the same
    modality up to ``gallery_size`` (0: all of them), in corpus order.
    """
    order = {it.id: i for i, it in enumerate(ds.corpus)}
    chosen: list[tuple[Item, str]] = []
    for q in ds.queries:
        judged = {d: g for d, g in ds.qrels.get(q.id, {}).items() if g > 0 and d in order}
        if q.modality == query_modality and judged:
            best = max(judged.items(), key=lambda kv: (kv[1], -order[kv[0]]))[0]
            chosen.append((q, best))
    if not chosen:
        raise ValueError(f"dataset {ds.name!r} has no {query_modality} query with a relevant item")
    gallery_modality = ds.corpus[order[chosen[0][1]]].modality
    chosen = [(q, d) for q, d in chosen if ds.corpus[order[d]].modality == gallery_modality]
    if n_queries is not None and len(chosen) > n_queries:
        picked = sorted(rng.choice(len(chosen), size=n_queries, replace=False).tolist())
        chosen = [chosen[i] for i in picked]
    gallery = _gallery(ds, {d for _, d in chosen}, gallery_modality, rng, gallery_size)
    row = {it.id: i for i, it in enumerate(gallery)}
    return Task(
        dataset=ds.name,
        queries=[q for q, _ in chosen],
        gallery=gallery,
        relevant=np.array([row[d] for _, d in chosen], dtype=np.int64),
        modality=f"{query_modality}->{gallery_modality}",
    )


def self_task(
    ds: Dataset, modality: str, rng: np.random.Generator, n_queries: int, gallery_size: int
) -> Task:
    """Near-duplicate search: each sampled item queries the index that holds it.

    Model-independent ground truth (an item is relevant to itself), so every embedder has
    eligible queries; the attack must push the item's own indexed copy out of the top-k.
    """
    pool = [it for it in ds.corpus if it.modality == modality]
    if len(pool) < 2:
        raise ValueError(f"dataset {ds.name!r} has fewer than 2 {modality} items")
    picked = sorted(rng.choice(len(pool), size=min(n_queries, len(pool)), replace=False).tolist())
    queries = [pool[i] for i in picked]
    gallery = _gallery(ds, {q.id for q in queries}, modality, rng, gallery_size)
    row = {it.id: i for i, it in enumerate(gallery)}
    return Task(
        dataset=ds.name,
        queries=queries,
        gallery=gallery,
        relevant=np.array([row[q.id] for q in queries], dtype=np.int64),
        modality=f"{modality}->{modality}",
    )


def _gallery(
    ds: Dataset, needed: set[str], modality: str, rng: np.random.Generator, size: int
) -> list[Item]:
    others = [it.id for it in ds.corpus if it.modality == modality and it.id not in needed]
    room = len(others) if size == 0 else max(0, size - len(needed))
    extra = rng.choice(len(others), size=min(room, len(others)), replace=False)
    keep = needed | {others[int(i)] for i in extra}
    return [it for it in ds.corpus if it.id in keep]


def text_embed_fn(embedder: Embedder, *, prefix: str = "redteam-text") -> Callable[..., Any]:
    """``list[str] -> (n, d)`` query embeddings through the embedder."""

    def embed(texts: list[str]) -> np.ndarray:
        items = [text_item(f"{prefix}-{i}", t) for i, t in enumerate(texts)]
        return embedder.embed(items, purpose="query")

    return embed


def text_refusal(embedder: Embedder) -> Callable[[str], str | None]:
    """``text -> reason or None``: the embedder's own item check, for attacked queries.

    A text attack can make a query invalid (``typo-drop`` deletes every letter of a short
    query); ``embed`` would refuse the whole batch for it. Checking each text the same way
    first lets ``evaluate_text_attack`` count such a query as destroyed (it retrieves
    nothing) instead of crashing the suite.
    """
    backend = unwrap(embedder)  # the layer that checks items before sending them
    limits = backend.limits if isinstance(backend, SupportsItemLimits) else None
    limits = limits if isinstance(limits, ItemLimits) else None

    def refuse(text: str) -> str | None:
        try:
            check_item(text_item("redteam-text", text), limits)
        except ItemError as exc:
            return exc.reason
        return None

    return refuse


def png_bytes(image: np.ndarray) -> bytes:
    """One (C, H, W) [0, 1] image as 8-bit PNG bytes (rounded to the nearest level)."""
    from PIL import Image

    u8 = np.round(np.clip(np.transpose(image, (1, 2, 0)), 0, 1) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8.squeeze(2) if u8.shape[2] == 1 else u8).save(buf, format="PNG")
    return buf.getvalue()


class ImageEmbedFn:
    """Black-box image embed callable: arrays -> PNG items -> ``embed``; counts rows sent.

    Parameters
    ----------
    embedder : Embedder
        Any embedder that accepts images (a remote API works: only ``embed`` is called).
    purpose : {"query", "index"}
        Purpose passed to ``embed``.

    Attributes
    ----------
    rows : int
        Images sent to ``embed`` so far (attack queries plus evaluation rows).
    """

    def __init__(self, embedder: Embedder, *, purpose: str = "query") -> None:
        self.embedder = embedder
        self.purpose = purpose
        self.rows = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        arr = np.asarray(x, dtype=np.float32)
        items = []
        for i, img in enumerate(arr):
            data = png_bytes(img)
            digest = hashlib.sha256(data).hexdigest()[:12]
            items.append(Item(f"redteam-img-{i}-{digest}", "image", data))
        self.rows += len(items)
        return self.embedder.embed(items, purpose=self.purpose)  # type: ignore[arg-type]


def load_images(items: Sequence[Item], size: int | None = None) -> torch.Tensor:
    """Decode image items to one (N, 3, H, W) float tensor in [0, 1].

    Images of different sizes (or ``size`` given) are resized to ``size`` x ``size``
    (default 224) with bicubic resampling, so they batch; values are multiples of 1/255,
    so a PNG round trip of the clean tensor is exact.
    """
    from PIL import Image

    pil = [load_image(it) for it in items]
    shapes = {im.size for im in pil}
    if size is not None or len(shapes) > 1 or next(iter(shapes))[0] != next(iter(shapes))[1]:
        side = size or 224
        pil = [im.resize((side, side), Image.BICUBIC) for im in pil]
    arrays = [np.asarray(im, dtype=np.uint8) for im in pil]
    return torch.from_numpy(np.stack(arrays).astype(np.float32) / 255.0).permute(0, 3, 1, 2)


class _Projected(nn.Module):
    """``normalize(normalize(module(x)) @ W + b)``: a base path plus an affine projection."""

    def __init__(self, module: nn.Module, weight: np.ndarray, bias: np.ndarray) -> None:
        super().__init__()
        self.module = module
        self.register_buffer("weight", torch.from_numpy(weight).float())
        self.register_buffer("bias", torch.from_numpy(bias).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = F.normalize(self.module(x), dim=-1) @ self.weight + self.bias
        return F.normalize(z, dim=-1)


def _affine_of(debiaser: Any, dim: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(W, b) with ``transform(X) = X @ W + b``, or None when the transform is not affine.

    FairPCA, PCA and LEACE are affine; probing ``transform`` with 0 and the identity basis
    recovers them exactly, and random vectors confirm it.
    """
    b = np.asarray(debiaser.transform(np.zeros((1, dim))), dtype=np.float64)[0]
    w = np.asarray(debiaser.transform(np.eye(dim)), dtype=np.float64) - b
    probe = np.random.default_rng(0).normal(size=(8, dim))
    ok = np.allclose(debiaser.transform(probe), probe @ w + b, atol=1e-5, rtol=1e-4)
    return (w, b) if ok else None


@dataclass(frozen=True)
class WhiteBox:
    """A differentiable image path checked against ``embed``, or why there is none.

    Attributes
    ----------
    module : nn.Module or None
        NCHW [0, 1] -> embeddings in the deployed space (None: no white-box path).
    reason : str
        Why there is no path (empty when there is one).
    min_cosine : float or None
        Smallest cosine between the module's and ``embed``'s clean query embeddings.
    projected : bool
        Whether a debiasing projection was composed onto the backend's path.
    """

    module: nn.Module | None
    reason: str = ""
    min_cosine: float | None = None
    projected: bool = False


def white_box(
    embedder: Embedder, clean: torch.Tensor, embed_fn: ImageEmbedFn, min_cosine: float
) -> WhiteBox:
    """The deployed embedder's differentiable image path, verified on ``clean``.

    The path must reproduce ``embed`` on the clean queries (sent as PNG, the format
    :class:`ImageEmbedFn` uses) to within ``min_cosine``; otherwise gradients would attack
    a different model than the one deployed, and the white-box attacks are skipped.
    """
    from audit.projection import ProjectedEmbedder

    layer = unwrap(embedder, SupportsDifferentiable)  # the backend (wrappers have no path)
    if layer is None:
        return WhiteBox(None, f"{embedder.name} exposes no differentiable() path (black-box)")
    try:
        module = layer.differentiable("image").module
    except (NotImplementedError, AttributeError, ImportError, OSError) as exc:
        return WhiteBox(None, f"no differentiable image path ({exc})")
    projected = False
    for proj in chain(embedder):
        if not isinstance(proj, ProjectedEmbedder):
            continue
        affine = _affine_of(proj.debiaser, int(proj.base.dim))
        if affine is None:
            return WhiteBox(None, "the debiasing projection is not affine; no gradient path")
        module, projected = _Projected(module, *affine), True
    from redteam.tensor import module_embed_fn

    via_module = module_embed_fn(module)(clean.numpy())
    via_embed = embed_fn(clean.numpy())
    if via_module.shape != via_embed.shape:
        return WhiteBox(
            None,
            f"differentiable path gives {via_module.shape[1]}-d vectors, embed() "
            f"{via_embed.shape[1]}-d: it is not the deployed model",
        )
    a = via_module / np.linalg.norm(via_module, axis=1, keepdims=True)
    cos = float(np.min(np.sum(a * via_embed, axis=1)))
    if cos < min_cosine:
        return WhiteBox(
            None,
            f"differentiable path disagrees with embed() (min cosine {cos:.4f} < "
            f"{min_cosine}): gradients would attack another model",
            min_cosine=cos,
        )
    return WhiteBox(module, min_cosine=cos, projected=projected)


def save_pair(
    env: Env, name: str, clean: torch.Tensor | np.ndarray, adv: torch.Tensor | np.ndarray
) -> dict[str, str]:
    """Write before/after PNGs under the run's artifacts; paths relative to the run dir."""
    out = {}
    for label, img in (("before", clean), ("after", adv)):
        arr = img.detach().cpu().numpy() if torch.is_tensor(img) else np.asarray(img)
        path = env.artifacts / f"{name}-{label}.png"
        path.write_bytes(png_bytes(arr))
        out[label] = path.relative_to(env.run_dir).as_posix()
    return out


def save_examples(
    env: Env, name: str, ids: Sequence[str], clean: torch.Tensor, adv: torch.Tensor, n: int
) -> dict[str, str]:
    """``n`` before/after pairs as one ``details["artifacts"]`` mapping."""
    refs: dict[str, str] = {}
    for i in range(min(n, len(ids))):
        pair = save_pair(env, f"{name}-{i}", clean[i], adv[i])
        refs[f"{ids[i]} before"] = pair["before"]
        refs[f"{ids[i]} after"] = pair["after"]
    return refs
