"""Cost of checking every item before a run embeds (audit.preflight) on the built-in datasets.

For each built-in dataset, in one process: the time to load it (the baseline), the time
to check all its items (:func:`audit.items.check_item`: text encoding and size, image
structure and bomb guard, PDF open, audio/video header and first frame), the ratio
check/load and the milliseconds per item by modality. For audio, the header check is
also compared with a full decode (``decode_pcm``, what an embedder does anyway). Best of
``--repeats``.

Usage: python bench/item_checks.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from audit.datasets import list_builtins, load_dataset
    from audit.embedders.local._audio import decode_pcm
    from audit.items import check_item

    print(f"{'dataset':<20}{'items':>7}{'load s':>9}{'check s':>9}{'check/load':>12}  ms/item")
    total_load = total_check = 0.0
    for name in list_builtins():
        spec = f"builtin:{name}"
        load = _best(lambda spec=spec: load_dataset(spec), args.repeats)
        ds = load_dataset(spec)
        items = ds.corpus + ds.queries
        per: dict[str, float] = defaultdict(float)
        count: dict[str, int] = defaultdict(int)
        for it in items:
            per[it.modality] += _best(lambda it=it: check_item(it), args.repeats)
            count[it.modality] += 1
        check = sum(per.values())
        total_load += load
        total_check += check
        ms = ", ".join(f"{m} {1000 * per[m] / count[m]:.2f}" for m in sorted(per))
        print(f"{spec:<20}{len(items):>7}{load:>9.3f}{check:>9.3f}{check / load:>12.2f}  {ms}")
        audio = [it for it in ds.corpus if it.modality == "audio"][:10]
        if audio:
            head = _best(lambda a=audio: [check_item(it) for it in a], args.repeats)
            full = _best(lambda a=audio: [decode_pcm(it) for it in a], args.repeats)
            print(f"  audio: header check / full decode = {head / full:.2f} ({len(audio)} items)")
    print(f"all built-ins: load {total_load:.3f} s, check {total_check:.3f} s")


if __name__ == "__main__":
    main()
