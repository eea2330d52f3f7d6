"""Every built-in audio and video item, and a runner that embeds them in a fresh process.

``python media_items.py OUT.npz`` embeds them with ``local`` in this process (whatever
``$OMP_NUM_THREADS`` the caller set) and saves ``ids`` and ``vectors`` (arrays only, read
back with ``allow_pickle=False``), plus each item's transcript.
"""

from __future__ import annotations

import sys

import numpy as np

from audit.datasets import list_builtins, load_dataset
from audit.items import Item

MEDIA = ("audio", "video")


def builtin_media_items() -> list[Item]:
    """Audio and video items of every built-in dataset (corpus and queries), in order."""
    items: list[Item] = []
    for name in list_builtins():
        ds = load_dataset(f"builtin:{name}")
        items += [it for it in (*ds.corpus, *ds.queries) if it.modality in MEDIA]
    return items


def embed_local(items: list[Item]) -> tuple[np.ndarray, list[str]]:
    """``local`` vectors of ``items`` in this process, and their transcripts."""
    from audit.embedders import create_embedder

    emb = create_embedder("local")
    emb.progress = False  # type: ignore[attr-defined]
    vectors = emb.embed(items, purpose="index")
    heard = emb.last_transcripts  # type: ignore[attr-defined]
    return vectors, [heard[it.id].text if it.id in heard else "" for it in items]


if __name__ == "__main__":
    found = builtin_media_items()
    vecs, texts = embed_local(found)
    np.savez(
        sys.argv[1],
        ids=np.array([it.id for it in found]),
        vectors=vecs,
        transcripts=np.array(texts),
    )
