"""``hf:<path-or-hub-id>``: transformers CLIP, SigLIP (text + image) and CLAP (text + audio).

The model family is read from the folder's ``config.json`` (``model_type`` ``clip``,
``siglip`` or ``clap``). CLIP and SigLIP also embed video (``frames`` frames sampled
evenly over the clip, their embeddings averaged) and documents (the first ``pages`` PDF
pages rendered with pypdfium2, padded to a square, embeddings averaged). CLAP embeds audio
resampled to its feature extractor's rate.

The spec argument is ``<folder-or-hub-id>[?option=value&...][#pins]`` (see
:mod:`audit.embedders.hub._spec`); options: ``device``, ``batch_size``, ``matryoshka``,
``revision``, ``allow_pickle``, ``frames`` (default 8), ``pages`` (default 1).

White-box paths: ``differentiable("image")`` (CLIP/SigLIP) redoes the image processor's
resize / crop / normalisation in torch; ``differentiable("audio")`` (CLAP) computes the
log-mel features in torch. Both map a batch tensor to L2-normalised embeddings.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import torch

from audit.embedders.base import BaseEmbedder, DifferentiablePath
from audit.embedders.hub._hf_audio import ClapAudioTower
from audit.embedders.hub._hf_image import (
    ImagePrep,
    ImageTower,
    TorchImagePreprocess,
    pil_to_tensor01,
)
from audit.embedders.hub._hf_media import decode_audio, render_pdf_pages, sample_video_frames
from audit.embedders.hub._spec import (
    HF_OPTIONS,
    device_option,
    from_pretrained_kwargs,
    matryoshka_option,
    open_model,
    opt_int,
    pickle_allowed,
)
from audit.items import BadItemsError, Item, ItemError, load_image

log = logging.getLogger(__name__)

FAMILIES = {"clip": "CLIPModel", "siglip": "SiglipModel", "clap": "ClapModel"}
T = TypeVar("T")


def pooled(out: Any, field: str) -> torch.Tensor:
    """The embedding tensor of a ``get_*_features`` result.

    transformers 4.x returns a tensor; 5.x returns a model output whose ``pooler_output``
    holds the projected embeddings (some models name the field ``*_embeds``).
    """
    if isinstance(out, torch.Tensor):
        return out
    for name in (field, "pooler_output"):
        value = getattr(out, name, None)
        if isinstance(value, torch.Tensor):
            return value
    if isinstance(out, tuple) and len(out) > 1 and isinstance(out[1], torch.Tensor):
        return out[1]  # return_dict=False: (last_hidden_state, pooler_output, ...)
    raise TypeError(f"cannot find {field} or pooler_output in {type(out).__name__}")


def _collect(items: Sequence[Item], load: Callable[[Item], T]) -> list[T]:
    """Apply ``load`` to every item; report every failing item at once."""
    out: list[T] = []
    errors: list[ItemError] = []
    for it in items:
        try:
            out.append(load(it))
        except ItemError as exc:
            errors.append(exc)
    if errors:
        raise BadItemsError(errors)
    return out


class HfEmbedder(BaseEmbedder):
    """A transformers CLIP / SigLIP / CLAP model as an :class:`~audit.embedders.base.Embedder`.

    Parameters
    ----------
    arg : str
        The spec argument after ``hf:``: ``<folder-or-hub-id>[?options][#pins]``.

    Raises
    ------
    ValueError
        For a bad spec or a model type other than clip / siglip / clap.
    audit.weights.WeightsError
        For refused pickle weights or a pinned hash that does not match.
    """

    max_audio_seconds: float = 1800.0

    def __init__(self, arg: str) -> None:
        super().__init__()
        import transformers

        ref, files = open_model(arg, kind="hf", allowed=HF_OPTIONS)
        self.source, self.root = ref.source, files.root
        self.name = f"hf:{ref.display}"
        self.batch_size = opt_int(ref, "batch_size", 32)
        self.frames = opt_int(ref, "frames", 8)
        self.pages = opt_int(ref, "pages", 1)
        self.device = device_option(ref)
        self.weights = dict(files.weights)
        config = transformers.AutoConfig.from_pretrained(str(self.root), local_files_only=True)
        self.family = str(config.model_type)
        if self.family not in FAMILIES:
            raise ValueError(
                f"hf: model_type {self.family!r} in {self.root} is not supported; "
                f"supported: {', '.join(FAMILIES)} (use st: for sentence-transformers models)"
            )
        model_cls = getattr(transformers, FAMILIES[self.family])
        kwargs = from_pretrained_kwargs(allow_pickle=pickle_allowed(ref))
        self.model = model_cls.from_pretrained(
            str(self.root), local_files_only=True, trust_remote_code=False, **kwargs
        )
        self.model.eval().to(self.device)
        for p in self.model.parameters():
            p.requires_grad_(False)  # attacks need input gradients only
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(
            str(self.root), local_files_only=True
        )
        self.text_max_length = self._text_max_length()
        if self.family == "clap":
            self.extractor = transformers.AutoFeatureExtractor.from_pretrained(
                str(self.root), local_files_only=True
            )
            self.modalities = frozenset({"text", "audio"})
        else:
            self.image_processor = transformers.AutoImageProcessor.from_pretrained(
                str(self.root), local_files_only=True
            )
            self.modalities = frozenset({"text", "image", "video", "document"})
        self._image_tower: ImageTower | None = None
        self._audio_tower: ClapAudioTower | None = None
        self.dim = int(self.encode_texts(["dimension probe"]).shape[1])
        self.matryoshka_dims = matryoshka_option(ref, self.dim)
        self.params = {
            "model_type": self.family,
            "config_sha256": files.config_sha256,
            "text_max_length": self.text_max_length,
            "video_frames": self.frames,
            "document_pages": self.pages,
            "audio_long_clips": "full windows, embeddings averaged",
        }
        log.info("loaded %s (%s, dim %d) from %s", self.name, self.family, self.dim, self.root)

    @property
    def _on(self) -> torch.device:
        # where the model is now: an attack may have moved it through a white-box module
        return next(self.model.parameters()).device

    # -- text -----------------------------------------------------------------------
    def _text_max_length(self) -> int:
        tc = self.model.config.text_config
        limit = int(tc.max_position_embeddings)
        if self.family == "clap":  # RoBERTa positions start after padding_idx
            limit -= int(getattr(tc, "pad_token_id", 1) or 0) + 1
        return min(limit, int(getattr(self.tokenizer, "model_max_length", limit) or limit))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Raw text embeddings, (n, dim) float32, in chunks of ``batch_size``."""
        out = []
        for start in range(0, len(texts), self.batch_size):
            chunk = texts[start : start + self.batch_size]
            if self.family == "siglip":  # trained on max_length padding, no attention mask
                enc = self.tokenizer(
                    chunk,
                    padding="max_length",
                    truncation=True,
                    max_length=self.text_max_length,
                    return_tensors="pt",
                )
                inputs = {"input_ids": enc["input_ids"]}
            else:
                enc = self.tokenizer(
                    chunk,
                    padding=True,
                    truncation=True,
                    max_length=self.text_max_length,
                    return_tensors="pt",
                )
                inputs = {k: enc[k] for k in ("input_ids", "attention_mask") if k in enc}
            with torch.inference_mode():
                inputs = {k: v.to(self._on) for k, v in inputs.items()}
                feats = pooled(self.model.get_text_features(**inputs), "text_embeds")
            out.append(feats.float().cpu().numpy())
        return np.concatenate(out)

    # -- images, video frames, document pages ----------------------------------------
    def encode_images(self, images: list[Any]) -> np.ndarray:
        """L2-normalised embeddings of RGB PIL images through the model's image processor."""
        out = []
        for start in range(0, len(images), self.batch_size):
            chunk = images[start : start + self.batch_size]
            pixels = self.image_processor(images=chunk, return_tensors="pt")["pixel_values"]
            with torch.inference_mode():
                feats = self._image_features(pixels.to(self._on))
            out.append(torch.nn.functional.normalize(feats.float(), dim=-1).cpu().numpy())
        return np.concatenate(out)

    def _image_features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return pooled(self.model.get_image_features(pixel_values=pixel_values), "image_embeds")

    def _pool_groups(self, groups: list[list[Any]]) -> np.ndarray:
        """Mean of the L2-normalised embeddings of each group of images."""
        flat = [img for group in groups for img in group]
        emb = self.encode_images(flat)
        bounds = np.cumsum([0, *(len(g) for g in groups)])
        return np.stack([emb[a:b].mean(axis=0) for a, b in itertools.pairwise(bounds)])

    # -- audio -------------------------------------------------------------------------
    def load_waveform(self, item: Item) -> np.ndarray:
        """Mono float32 waveform of an audio item at the feature extractor's rate."""
        return decode_audio(
            item, int(self.extractor.sampling_rate), max_seconds=self.max_audio_seconds
        )

    def encode_waveforms(self, waves: list[np.ndarray]) -> np.ndarray:
        """L2-normalised CLAP embeddings of 1-D waveforms of any length."""
        tower = self.audio_tower
        windows, counts = [], []
        for w in waves:
            win, per = tower.windows(torch.from_numpy(np.ascontiguousarray(w))[None])
            windows.append(win)
            counts.append(per)
        stacked = torch.cat(windows)
        embs = []
        with torch.inference_mode():
            for start in range(0, stacked.shape[0], self.batch_size):
                chunk = stacked[start : start + self.batch_size].to(self._on)
                embs.append(tower.embed_windows(chunk).float().cpu())
        emb = torch.cat(embs)
        per_item = [part.mean(dim=0) for part in torch.split(emb, counts)]
        return torch.nn.functional.normalize(torch.stack(per_item), dim=-1).numpy()

    def _audio_features(self, feats: torch.Tensor, is_longer: torch.Tensor) -> torch.Tensor:
        out = self.model.get_audio_features(input_features=feats, is_longer=is_longer)
        return pooled(out, "audio_embeds")

    # -- the hook ----------------------------------------------------------------------
    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        # CLIP, SigLIP and CLAP are symmetric: purpose does not change the vectors.
        if modality == "text":
            return self.encode_texts([str(it.content) for it in items])
        if modality == "image":
            return self.encode_images(_collect(items, lambda it: load_image(it, self.limits)))
        if modality == "video":
            return self._pool_groups(
                _collect(items, lambda it: sample_video_frames(it, self.frames))
            )
        if modality == "document":
            return self._pool_groups(_collect(items, lambda it: render_pdf_pages(it, self.pages)))
        if modality == "audio":
            return self.encode_waveforms(_collect(items, self.load_waveform))
        raise AssertionError(f"unreachable: {modality}")  # check_request filtered it

    # -- white-box access -----------------------------------------------------------------
    @property
    def image_tower(self) -> ImageTower:
        """NCHW [0, 1] images -> L2-normalised embeddings, preprocessing done in torch."""
        if self.family == "clap":
            raise NotImplementedError(f"{self.name} (CLAP) has no image path")
        if self._image_tower is None:
            prep = TorchImagePreprocess(ImagePrep.from_processor(self.image_processor))
            tower = ImageTower(prep.to(self._on), self._image_features, self.model)
            self._image_tower = tower.eval()
        return self._image_tower

    @property
    def audio_tower(self) -> ClapAudioTower:
        """(N, samples) waveforms in [-1, 1] -> L2-normalised CLAP embeddings."""
        if self.family != "clap":
            raise NotImplementedError(f"{self.name} ({self.family}) has no audio path")
        if self._audio_tower is None:
            tower = ClapAudioTower(self.model, self.extractor, self._audio_features)
            self._audio_tower = tower.to(self._on).eval()
        return self._audio_tower

    def _image_tensor(self, item: Item) -> torch.Tensor:
        return pil_to_tensor01(load_image(item, self.limits))

    def _audio_tensor(self, item: Item) -> torch.Tensor:
        return torch.from_numpy(self.load_waveform(item))[None]

    def differentiable(self, modality: str) -> DifferentiablePath:
        """``image`` for CLIP/SigLIP, ``audio`` for CLAP; see the module docstring."""
        if modality == "image" and self.family != "clap":
            return DifferentiablePath(module=self.image_tower, to_tensor=self._image_tensor)
        if modality == "audio" and self.family == "clap":
            return DifferentiablePath(module=self.audio_tower, to_tensor=self._audio_tensor)
        raise NotImplementedError(f"{self.name} has no differentiable {modality} path")
