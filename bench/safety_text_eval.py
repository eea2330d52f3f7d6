"""Text safety path: obfuscated-abuse detection and benign false positives, with 95 % CIs.

Prints, for the packaged ``default`` and ``strict`` policies, the detection rate per
obfuscation family (caught = flagged or blocked; and the block rate) on held-out terms
of the abuse lexicon put into real sentences, and the false-positive rate (flagged or
blocked) per benign source, each with a Wilson 95 % interval; then single common words
flagged. One computation (``audit.safety._texteval.text_eval``) gives these numbers and
the safety suite's ``text`` results (``audit run --suite safety``); this script prints
the suite's results, nothing else.

Usage: python bench/safety_text_eval.py [--per-source N]
"""

from __future__ import annotations

import argparse
import time


def _fmt(r) -> str:
    k = r.details["k"]
    return f"{r.value:6.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]  {k:5d}/{r.n:<5d}"


def main() -> None:
    from audit.safety import packaged_policy
    from audit.safety._texteval import PER_SOURCE, text_eval

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-source", type=int, default=PER_SOURCE)
    args = ap.parse_args()
    start = time.perf_counter()
    policies = {name: packaged_policy(name) for name in ("default", "strict")}
    results = text_eval(policies, per_source=args.per_source).results()
    by = {(r.variant, r.check, r.metric): r for r in results}
    for name in policies:
        fams = [r.check for r in results if r.variant == name and r.metric == "detection_rate"]
        terms = by[(name, fams[0], "detection_rate")].details["held_out_terms"]
        print(f"== policy {name}: obfuscated abuse ({terms} held-out terms)")
        print(f"  {'family':12s} {'caught (flag or block)':34s} blocked")
        for check in fams:
            fam = check.rsplit("/", 1)[1]
            blocked = by.get((name, check, "block_rate"))
            tail = f"   {_fmt(blocked)}" if blocked else ""
            print(f"  {fam:12s} {_fmt(by[(name, check, 'detection_rate')])}{tail}")
        print(f"== policy {name}: benign false positives (flag or block)")
        srcs = [r.check for r in results if r.variant == name and r.metric == "false_positive_rate"]
        for check in srcs:
            src = check.rsplit("/", 1)[1]
            blocked = by.get((name, check, "block_rate"))
            tail = f"   blocked {_fmt(blocked)}" if blocked else ""
            print(f"  {src:18s} {_fmt(by[(name, check, 'false_positive_rate')])}{tail}")
        d = by[(name, "text/dictionary-words", "flag_rate")]
        print(f"  dictionary words alone flagged: {_fmt(d)} {d.details['words'][:20]}")
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
