"""Throughput of embedding with the content-safety filter on vs off (local default, CPU).

For the same items in one process, prints items/s of ``local`` embedding alone (the
baseline) and through ``SafeEmbedder`` with (a) the packaged default policy (hash lists,
NudeNet, profanity classifier, embedding-space concept check sharing the same local
model) and (b) that policy without the concept check, for text and for images, and the
ratio on/off. Each filtered run starts with an empty verdict memo, so every item is
checked; runs are interleaved and the best of ``--repeats`` is kept.

Usage: python bench/safety_overhead.py [--n-text 500] [--n-image 64] [--repeats 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import real_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-text", type=int, default=500)
    parser.add_argument("--n-image", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from audit.datasets import load_dataset
    from audit.embedders.local import LocalEmbedder
    from audit.items import text_item
    from audit.safety import SafeEmbedder, SafetyFilter, build_filter, default_policy

    base = LocalEmbedder()
    base.progress = False
    policy = default_policy()
    no_concepts = replace(
        policy, checkers={k: v for k, v in policy.checkers.items() if k != "concepts"}
    )
    filters = {
        "default policy": build_filter(policy, concept_embedder=base),
        "without concept check": build_filter(no_concepts),
    }
    images = [
        it
        for name in ("emoji-objects", "emoji-professions")
        for it in load_dataset(f"builtin:{name}").corpus
        if it.modality == "image"
    ][: args.n_image]
    sets = {
        "text": [text_item(f"s{i}", s) for i, s in enumerate(real_sentences(args.n_text))],
        "image": images,
    }
    for filt in filters.values():  # load every model once, outside the timings
        SafeEmbedder(base, filt).embed([sets["text"][0], sets["image"][0]])
    for kind, items in sets.items():
        times = {"filter off": float("inf"), **dict.fromkeys(filters, float("inf"))}
        for _ in range(args.repeats):
            start = time.perf_counter()
            base.embed(items)
            times["filter off"] = min(times["filter off"], time.perf_counter() - start)
            for label, filt in filters.items():
                fresh = SafetyFilter(filt.checkers, filt.policy)  # empty memo: check all
                start = time.perf_counter()
                SafeEmbedder(base, fresh).embed_allowed(items)
                times[label] = min(times[label], time.perf_counter() - start)
        off = times["filter off"]
        print(f"{kind}: {len(items)} items")
        for label, t in times.items():
            ratio = "" if label == "filter off" else f"  throughput on/off = {off / t:.3f}"
            print(f"  {label:24s}: {t:7.2f} s  ({len(items) / t:7.1f} items/s){ratio}")


if __name__ == "__main__":
    main()
