"""Speed cost of `local`'s determinism pins (issue 23), against the unpinned paths.

In one process, on built-in items, best of ``--repeats`` interleaved runs of each:

1. text: ``LocalEmbedder.embed`` (one text per forward pass, ``torch_threads=1``) vs raw
   ``SentenceTransformer.encode`` of the same model in batches of 64 on the host's torch
   threads (the pre-issue path);
2. image: ``embed`` (one image per pass, 1 thread) vs the same ConSE head on one batch of
   all images on the host's threads;
3. speech: ``embed`` of audio clips (BLAS 1 thread, CTranslate2 ``asr_cpu_threads=1``) vs
   faster-whisper with its defaults (``cpu_threads=0``: ``$OMP_NUM_THREADS`` or 4, BLAS on
   all cores), same decoding options, transcripts then embedded alike.

Prints seconds and the ratio pinned / unpinned (> 1: the pins cost that factor) with the
host's thread counts; on a busy machine the ratios move with the load.

Usage: python bench/determinism_cost.py [--texts 300] [--clips 8] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable


def _best(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):  # interleaved: load drift hits both alike
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_info

    from audit.datasets import load_dataset
    from audit.embedders.local import LocalEmbedder
    from audit.embedders.local._audio import decode_pcm, whisper_dir

    emb = LocalEmbedder()
    emb.progress = False
    passages = load_dataset("builtin:passages")
    texts = [it for it in (*passages.corpus, *passages.queries) if it.modality == "text"]
    texts = texts[: args.texts]
    emoji = load_dataset("builtin:emoji-professions")
    images = [it for it in emoji.corpus if it.modality == "image"][:48]
    clips = load_dataset("builtin:speech").corpus[: args.clips]
    host = torch.get_num_threads()
    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    print(f"cpu_count {os.cpu_count()}, torch threads {host}, BLAS threads {blas}")
    print(f"load average {os.getloadavg()[0]:.1f}")

    raw = emb.text_model
    strings = [str(it.content) for it in texts]
    head = emb.image_head
    tensors = [emb._image_tensor(it) for it in images]

    def image_batched() -> object:
        with torch.inference_mode():
            return head.embed_prepared(torch.cat([head.prepare(x) for x in tensors]))

    from faster_whisper import WhisperModel

    default_model = WhisperModel(
        str(whisper_dir()), device="cpu", compute_type="int8", local_files_only=True
    )
    pcms = [decode_pcm(it) for it in clips]

    def speech_default() -> object:
        heard = []
        for pcm in pcms:
            segments, _ = default_model.transcribe(
                pcm,
                language="en",
                beam_size=5,
                temperature=0.0,
                condition_on_previous_text=False,
                vad_filter=True,
            )
            heard.append(" ".join(s.text.strip() for s in segments).strip())
        return raw.encode(heard, batch_size=64, convert_to_numpy=True)

    def speech_pinned() -> object:
        emb.media.speech._cache.clear()  # transcribe again every time, as the default does
        return emb.embed(clips)

    emb.embed(texts[:4] + images[:2] + clips[:1])  # warm-up: load every model
    rows = [
        (
            "text",
            len(texts),
            _best(
                {
                    "pinned": lambda: emb.embed(texts),
                    "batched": lambda: raw.encode(strings, batch_size=64, convert_to_numpy=True),
                },
                args.repeats,
            ),
        ),
        (
            "image",
            len(images),
            _best({"pinned": lambda: emb.embed(images), "batched": image_batched}, args.repeats),
        ),
        (
            "speech",
            len(clips),
            _best({"pinned": speech_pinned, "batched": speech_default}, args.repeats),
        ),
    ]
    for name, n, t in rows:
        print(
            f"{name:6s} n={n:4d}: pinned {t['pinned']:.2f} s, unpinned {t['batched']:.2f} s, "
            f"ratio pinned/unpinned {t['pinned'] / t['batched']:.2f}"
        )


if __name__ == "__main__":
    main()
