"""Same audit, same numbers: `audit run` in-process vs `--engine ray`, every result compared.

Runs ``audit run --suite SUITE`` (default settings, cache off, ``local`` embedder) twice,
each in its own process: once in-process, once with ``--engine ray`` on a local Ray of this
machine's CPUs (one actor per CPU, ``num_cpus=1`` each: two on a 2-core machine). Then
compares every result of the two reports field by field (value, p-value, interval, n,
details) and prints how many are identical, the largest difference, the first few that
differ, both reports' ``reproducibility`` fingerprints, and the wall-clock ratio
ray / in-process from the reports' own timings. Timings are not audit numbers and are
left out of the comparison: the results whose metric measures speed (``latency*``,
``throughput*``) and every ``seconds`` entry inside ``details`` (listed, not compared).

Usage: python bench/engine_equivalence.py [--suite retrieval] [--out DIR]
       [--extra-args "--quick"]
       python bench/engine_equivalence.py --compare INPROCESS_DIR RAY_DIR  (existing runs)
Exit status 1 when any result differs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

KEY = ("suite", "check", "metric", "variant", "dim", "modality", "group")
NUMBERS = ("value", "p_value", "ci_low", "ci_high", "n")
TIMING_METRICS = ("latency", "throughput")  # a metric name starting so measures speed


def _is_timing(result: dict) -> bool:
    return str(result.get("metric", "")).startswith(TIMING_METRICS)


def _without_seconds(value: object) -> object:
    """``details`` minus every ``seconds`` entry (wall-clock time, at any depth)."""
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_seconds(v) for v in value]
    return value


def _run(out: Path, suite: str, extra: list[str], env: dict[str, str]) -> dict:
    cmd = [sys.executable, "-m", "audit", "run", "--suite", suite, "--no-cache"]
    cmd += ["--no-progress", "--out", str(out), *extra]
    print("$", shlex.join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return _load(out)


def _load(out: Path) -> dict:
    (path,) = out.glob("*/report.json")
    return json.loads(path.read_text())


def _diff(a: object, b: object) -> float:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) if math.isfinite(a) and math.isfinite(b) else math.inf
    return 0.0 if a == b else math.inf


def compare(left: dict, right: dict) -> dict:
    """Every result of ``left`` against the one with the same key in ``right``."""
    index = {tuple(r.get(k) for k in KEY): r for r in right["results"]}
    same, differ, missing, worst, timings = 0, [], [], 0.0, 0
    for r in left["results"]:
        key = tuple(r.get(k) for k in KEY)
        other = index.pop(key, None)
        if other is None:
            missing.append(key)
            continue
        if _is_timing(r):
            timings += 1
            continue
        if {**r, "details": _without_seconds(r.get("details"))} == {
            **other,
            "details": _without_seconds(other.get("details")),
        }:
            same += 1
            continue
        gap = max(_diff(r.get(f), other.get(f)) for f in NUMBERS)
        worst = max(worst, gap)
        differ.append((key, {f: (r.get(f), other.get(f)) for f in NUMBERS}))
    return {
        "results": len(left["results"]),
        "timings": timings,
        "identical": same,
        "differ": differ,
        "only_left": missing,
        "only_right": list(index),
        "max_abs_diff": worst,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="retrieval")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--extra-args", default="", help="more `audit run` arguments, both runs")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("INPROCESS", "RAY"))
    args = parser.parse_args()
    if args.compare:
        inproc, on_ray = (_load(folder) for folder in args.compare)
    else:
        out = args.out or Path(tempfile.mkdtemp(prefix="engine-equivalence-"))
        extra = shlex.split(args.extra_args)
        env = dict(os.environ)
        env["AUDIT_SHARD_DIR"] = str(out / "shards")
        inproc = _run(out / "inprocess", args.suite, extra, env)
        on_ray = _run(out / "ray", args.suite, ["--engine", "ray", *extra], env)
    got = compare(inproc, on_ray)
    print(f"results: {got['results']} in-process, {len(on_ray['results'])} on ray")
    print(f"timing results (speed, not compared): {got['timings']}")
    compared = got["results"] - got["timings"] - len(got["only_left"])
    print(f"identical: {got['identical']} of {compared} compared")
    print(f"differ: {len(got['differ'])}; max |difference| {got['max_abs_diff']:.3g}")
    for key, fields in got["differ"][:10]:
        print("  ", key, fields)
    print(f"only in-process: {len(got['only_left'])}; only on ray: {len(got['only_right'])}")
    for name, rep in (("in-process", inproc), ("ray", on_ray)):
        repro = rep.get("reproducibility", {})
        print(
            f"{name}: status {rep['status']}, fingerprint {repro.get('embedder_fingerprint')}, "
            f"engine {repro.get('engine')}, total {rep['timings'].get('total')} s"
        )
    engine = on_ray["wrappers"].get("engine") or {}
    print(
        f"ray: {engine.get('actors')} actor(s) x {engine.get('cpus_per_actor')} CPU, "
        f"{engine.get('shards_computed')} shard(s) computed, "
        f"{engine.get('items_embedded')} item(s) embedded"
    )
    ratio = on_ray["timings"]["total"] / inproc["timings"]["total"]
    print(f"wall-clock ratio ray / in-process: {ratio:.2f}")
    ok = not got["differ"] and not got["only_left"] and not got["only_right"]
    ok = ok and inproc["status"] != "error" and on_ray["status"] != "error"
    print("EQUAL" if ok else "NOT EQUAL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
