"""Throughput of 16-way concurrent Bedrock requests vs sequential, against the local stand-in.

The stand-in (tests/embedders/bedrock_standin.py, a local HTTP server speaking the
``bedrock-runtime`` API through boto3) answers every request after an injected latency
(default 50 ms) and throttles the first few requests of each run (HTTP 429), so the
retry path is exercised too. Both runs use the same process, server and items; each
uses a fresh embedder (``max_workers=1`` baseline vs ``max_workers=16``). Prints items/s
of each, the ratio (target >= 10x) and the embedder's request/retry/throttle counters.

Usage: python bench/bedrock_concurrency.py [--n 320] [--latency 0.05] [--throttles 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "embedders"))
sys.path.insert(0, str(ROOT))


def _environment(tmp: str) -> None:
    """Dummy credentials, no config files or instance metadata: offline only."""
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        os.environ.pop(var, None)
    os.environ |= {
        "AWS_ACCESS_KEY_ID": "AKIAFAKEBENCH0000001",
        "AWS_SECRET_ACCESS_KEY": "fake-bench-secret",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(Path(tmp) / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(Path(tmp) / "none"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=320, help="text items per run")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--throttles", type=int, default=4, help="429s injected per run")
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()

    from bedrock_standin import NOVA, BedrockStandIn

    from audit.embedders.bedrock import from_spec

    with tempfile.TemporaryDirectory() as tmp, BedrockStandIn() as standin:
        _environment(tmp)
        os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = standin.url
        results = {}
        for label, workers in (("sequential", 1), (f"{args.workers}-way", args.workers)):
            standin.faults.clear()
            standin.inject("throttle", times=args.throttles)
            standin.inject("slow", times=10**9, seconds=args.latency)
            emb = from_spec(f"{NOVA}?dim=256&max_workers={workers}&base_delay=0.01&max_delay=0.05")
            emb.progress = False
            emb.batch_size = args.n  # one batch: concurrency is the pool's, not batching
            # distinct texts per run, so neither run is helped by anything the other did
            items = [_text(f"{label} item {i}") for i in range(args.n)]
            received = len(standin.requests)
            start = time.perf_counter()
            emb.embed(items)
            seconds = time.perf_counter() - start
            emb.close()
            results[label] = args.n / seconds
            usage = emb.usage
            print(
                f"{label:>12}: {args.n} items in {seconds:6.2f} s = {results[label]:7.1f} items/s"
                f" | requests {usage['requests']} (server saw {len(standin.requests) - received})"
                f", retries {usage['retries']}, throttles {usage['throttles']}"
                f", bytes sent {usage['bytes_sent']:,}"
            )
        ratio = results[f"{args.workers}-way"] / results["sequential"]
        print(
            f"speed-up {args.workers}-way vs sequential at {args.latency * 1000:.0f} ms latency: "
            f"{ratio:.1f}x (target >= 10x: {'met' if ratio >= 10 else 'NOT met'})"
        )


def _text(value: str):
    from audit.items import text_item

    return text_item(value.replace(" ", "-"), value)


if __name__ == "__main__":
    main()
