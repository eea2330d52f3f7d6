"""`audit run --dry-run` against a fake hosted backend: plan == what a real run sends.

The fake records every item it embeds (SENT) and bills one request per item; the plan's
counters are compared with the counters a real run's report holds and with what the
fake saw, under the same configuration.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hosted_fake import SENT, register

from audit.cli import EXIT_OK, EXIT_USAGE, main

CONFIG = """
[suite.bias]
probes = ["weat/weat6", "xmodal/emoji-gender-career"]
n_permutations = 200
n_bootstrap = 50
[suite.retrieval]
datasets = ["builtin:passages", "builtin:emoji-professions"]
n_bootstrap = 20
"""
COUNTERS = ("requests", "text_chars", "images")


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    register(monkeypatch)
    path = tmp_path / "cfg.toml"
    path.write_text(CONFIG)
    return path


def _run(cfg: Path, out: Path, *extra: str, suites=("retrieval", "bias")) -> int:
    args = ["run", "--quick", "--no-progress", "--config", str(cfg), "--out", str(out)]
    for s in suites:
        args += ["--suite", s]
    return main([*args, *extra])


def _plan(out: Path) -> dict:
    (path,) = out.glob("*/plan.json")
    return json.loads(path.read_text())


def _report(out: Path) -> dict:
    (path,) = out.glob("*/report.json")
    return json.loads(path.read_text())


def test_dry_run_counts_equal_a_real_run_and_nothing_is_sent(cfg: Path, tmp_path: Path, capsys):
    dry_out = tmp_path / "dry"
    assert _run(cfg, dry_out, "--embedder", "fakehosted:m1", "--dry-run") == EXIT_OK
    printed = capsys.readouterr().out
    assert "nothing was sent" in printed and "fakehosted:m1" in printed
    assert SENT == []  # nothing reached the backend
    plan = _plan(dry_out)
    assert not list(dry_out.glob("*/report.json"))  # a dry run writes no report
    (planned,) = plan["embedders"]
    assert planned["status"] == "planned" and planned["hosted"] and planned["cache"]
    assert plan["schema_version"] == 1 and plan["suites"] == ["retrieval", "bias"]

    real_out = tmp_path / "real"  # its own, empty cache: the dry run's cache was empty too
    assert _run(cfg, real_out, "--embedder", "fakehosted:m1") == EXIT_OK
    usage = _report(real_out)["embedder"]["usage"]
    assert usage["requests"] > 0 and usage["images"] > 0
    assert {k: planned["usage"][k] for k in COUNTERS} == {k: usage[k] for k in COUNTERS}
    assert planned["usage"]["requests"] == len(SENT)
    # Each item once: the first-seen items per modality add up to the requests.
    assert sum(sum(p.values()) for p in planned["items"].values()) == len(set(SENT))
    # Every call counted (as --no-cache would send) is at least the cached count.
    assert planned["usage_without_cache"]["requests"] == usage["requests"] + planned["repeats"]


def test_cache_hits_are_excluded_and_reported(cfg: Path, tmp_path: Path):
    out = tmp_path / "runs"
    # Fill the cache with the bias suite's items only.
    assert (
        _run(
            cfg,
            out / "a",
            "--embedder",
            "fakehosted:m1",
            "--cache",
            str(tmp_path / "c.db"),
            suites=("bias",),
        )
        == EXIT_OK
    )
    SENT.clear()
    args = ("--embedder", "fakehosted:m1", "--cache", str(tmp_path / "c.db"))
    assert _run(cfg, out / "b", *args, "--dry-run") == EXIT_OK
    assert SENT == []
    (planned,) = _plan(out / "b")["embedders"]
    # The real run on the same cache sends exactly the planned items.
    assert _run(cfg, out / "c", *args) == EXIT_OK
    report = _report(out / "c")
    assert planned["usage"]["requests"] == len(SENT) == report["embedder"]["usage"]["requests"]
    assert 0 < planned["usage"]["requests"]
    # Hits: what the real run's cache served (its misses were embedded and stored, so a
    # real run counts later repeats as hits too: they are the plan's repeats).
    cache = report["wrappers"]["cache"]
    assert planned["cache_hits"] + planned["repeats"] == cache["hits"]
    assert planned["cache_hits"] > 0


def test_no_cache_plans_every_call(cfg: Path, tmp_path: Path):
    out = tmp_path / "runs"
    assert _run(cfg, out / "a", "--embedder", "fakehosted:m1", "--no-cache", "--dry-run") == 0
    (planned,) = _plan(out / "a")["embedders"]
    assert not planned["cache"] and planned["cache_hits"] == 0
    assert planned["usage"] == planned["usage_without_cache"]
    assert _run(cfg, out / "b", "--embedder", "fakehosted:m1", "--no-cache") == EXIT_OK
    usage = _report(out / "b")["embedder"]["usage"]
    assert {k: planned["usage"][k] for k in COUNTERS} == {k: usage[k] for k in COUNTERS}


def test_dry_run_of_several_embedders_one_plan(cfg: Path, tmp_path: Path, capsys):
    out = tmp_path / "runs"
    prices = tmp_path / "prices.toml"
    prices.write_text('currency = "EUR"\n[models.m1]\nper_1k_requests = 2.0\nper_image = 0.5\n')
    code = _run(
        cfg,
        out,
        "--embedder",
        "fakehosted:m1",
        "--embedder",
        "fakehosted:t1?text_only=1",
        "--dry-run",
        "--prices",
        str(prices),
        suites=("retrieval",),
    )
    assert code == EXIT_OK
    plan = _plan(out)
    assert [e["spec"] for e in plan["embedders"]] == ["fakehosted:m1", "fakehosted:t1?text_only=1"]
    m1, t1 = plan["embedders"]
    assert t1["usage"]["images"] == 0 < m1["usage"]["images"]
    # The text-only model skips the text->image pair: its queries are not embedded.
    assert 0 < t1["usage"]["text_chars"] < m1["usage"]["text_chars"]
    assert not list(out.glob("*/comparison.json"))
    # Priced by the model id m1 (the plan says it); t1 has no price.
    expected = m1["usage"]["requests"] / 1000 * 2.0 + m1["usage"]["images"] * 0.5
    assert m1["cost"]["total"] == pytest.approx(expected) and m1["cost"]["currency"] == "EUR"
    assert t1["cost"] is None and "no price" in t1["note"]
    printed = capsys.readouterr().out
    assert "Counts are an estimate" in printed and f"{expected:,.4f} EUR" in printed


def test_run_suites_refuses_a_dry_run_config(tmp_path: Path) -> None:
    from audit.config import RunConfig
    from audit.runner import run_suites

    with pytest.raises(ValueError, match="call plan_suites"):
        run_suites(RunConfig(out=tmp_path, dry_run=True))
    assert not any(tmp_path.iterdir())


def test_dry_run_flag_errors(cfg: Path, tmp_path: Path, capsys):
    out = tmp_path / "runs"
    assert _run(cfg, out, "--prices", str(cfg)) == EXIT_USAGE
    assert "--prices prices a dry run" in capsys.readouterr().err
    policy = tmp_path / "p.toml"
    policy.write_text('[[gate]]\nname = "g"\nmetric = "x"\nmin = 0\n')
    assert _run(cfg, out, "--dry-run", "--policy", str(policy)) == EXIT_USAGE
    assert "a dry run writes no report to gate" in capsys.readouterr().err
    example = Path(__file__).resolve().parents[2] / "docs/examples/prices.example.toml"
    assert _run(cfg, out, "--dry-run", "--prices", str(example)) == EXIT_USAGE
    assert "example prices file" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
