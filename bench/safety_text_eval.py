"""Text safety path: obfuscated-abuse detection and benign false positives, with 95 % CIs.

Prints, for the packaged ``default`` and ``strict`` policies, the detection rate per
obfuscation family (caught = flagged or blocked; and the block rate) on held-out terms
of the abuse lexicon put into real sentences, and the false-positive rate (flagged or
blocked) per benign source, each with a Wilson 95 % interval; then single common words
flagged. Sets and rules: ``audit.safety._texteval`` (the safety suite's ``text`` part
computes the same numbers).

Usage: python bench/safety_text_eval.py
"""

from __future__ import annotations

import time


def _fmt(rate) -> str:
    return f"{rate.value:6.3f} [{rate.ci_low:.3f}, {rate.ci_high:.3f}]  {rate.k:5d}/{rate.n:<5d}"


def main() -> None:
    from audit.safety import packaged_policy
    from audit.safety._texteval import text_eval

    start = time.perf_counter()
    ev = text_eval({name: packaged_policy(name) for name in ("default", "strict")})
    for name in ev.caught:
        print(f"== policy {name}: obfuscated abuse ({ev.test_terms} held-out terms)")
        print(f"  {'family':12s} {'caught (flag or block)':34s} blocked")
        for fam, r in ev.caught[name].items():
            print(f"  {fam:12s} {_fmt(r)}   {_fmt(ev.blocked[name][fam])}")
        k = sum(r.k for r in ev.caught[name].values())
        n = sum(r.n for r in ev.caught[name].values())
        from audit.safety._metrics import wilson

        print(f"  {'all':12s} {_fmt(wilson(k, n))}")
        print(f"== policy {name}: benign false positives (flag or block)")
        for src, r in ev.false_positive[name].items():
            print(f"  {src:18s} {_fmt(r)}   blocked {_fmt(ev.blocked_benign[name][src])}")
        k = sum(r.k for r in ev.false_positive[name].values())
        n = sum(r.n for r in ev.false_positive[name].values())
        print(f"  {'all':18s} {_fmt(wilson(k, n))}")
        d = ev.dictionary[name]
        print(f"  dictionary words alone flagged: {_fmt(d)} {ev.flagged_words[name][:20]}")
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
