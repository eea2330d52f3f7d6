"""Same inputs, same report values: what makes a baseline comparison meaningful.

Everything but the run id, the creation time, the timings, the cache counters and the live
thread pools must be identical between runs: computed fresh, computed in another process
without the cache, and served from the cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit.cli import EXIT_OK, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[2]
CONFIG = 'seed = 11\n[suite.bias]\ntests = ["weat6"]\nn_bootstrap = 200\n'
NO_CHANGE = (
    '[policy]\nname = "no-change"\n'
    '[[gate]]\nname = "no-drop"\ndimension = "fairness"\nsuite = "bias"\nmax_drop = 0.0\n'
    '[[gate]]\nname = "no-increase"\ndimension = "fairness"\nsuite = "bias"\nmax_increase = 0.0\n'
)


def _comparable(path: Path) -> dict:
    """The report without what may differ between identical runs."""
    data = json.loads(path.read_text())
    for key in ("run_id", "created_at", "timings"):
        data.pop(key)
    data["wrappers"].pop("cache")  # hit/miss counters and the cache path
    data["config"].pop("cache")  # --no-cache sets it to null
    # the process's live thread pools: a run served from the cache loads no model runtime;
    # version, fingerprint, seed, engine, platform and packages must still match
    data["reproducibility"].pop("threads")
    return data


@pytest.mark.slow
def test_bias_runs_are_deterministic_and_gate_against_each_other(tmp_path, capsys):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(CONFIG)
    out = tmp_path / "runs"
    base = ["run", "--suite", "bias", "--config", str(cfg), "--out", str(out), "--no-progress"]

    assert main(base) == EXIT_OK  # 1: computed, fills the cache
    (first,) = list(out.glob("*/report.json"))
    # 2: another process, no cache: the model's own output must be reproducible.
    done = subprocess.run(
        [sys.executable, "-m", "audit", *base, "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert main(base) == EXIT_OK  # 3: served from the cache
    runs = sorted(out.glob("*/report.json"), key=lambda p: p.stat().st_mtime_ns)
    assert len(runs) == 3 and runs[0] == first
    reports = [_comparable(p) for p in runs]
    (result,) = reports[0]["results"]
    assert result["check"] == "weat/weat6" and result["details"]["n_bootstrap"] == 200
    assert reports[1] == reports[0]
    assert reports[2] == reports[0]
    caches = [json.loads(p.read_text())["wrappers"]["cache"] for p in runs]
    assert caches[0]["misses"] == 32 and caches[1] is None and caches[2]["misses"] == 0
    assert reports[0]["config"]["seed"] == 11  # the seed is recorded

    # Identical runs pass the strictest regression gates against each other.
    policy = tmp_path / "no-change.toml"
    policy.write_text(NO_CHANGE)
    args = ["gate", str(runs[2].parent), "--policy", str(policy), "--baseline", str(first)]
    assert main(args) == EXIT_OK
    gated = json.loads(runs[2].read_text())
    assert gated["status"] == "passed" and [g["value"] for g in gated["gates"]] == [0.0, 0.0]

    # The default policy refuses a one-test run: its probe-sanity gate selects nothing
    # (WEAT 1-2 did not run), which is a policy/config mismatch (exit 2), not a pass.
    capsys.readouterr()
    default = "default"  # the shipped policy, by name
    assert main(["gate", str(first), "--policy", default]) == EXIT_USAGE
    assert "'bias-weat-probe-sanity' selects no result" in capsys.readouterr().err
