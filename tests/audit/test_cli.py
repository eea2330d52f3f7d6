"""The CLI end to end: exit codes, listings, help speed (no torch), a real bias run."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from audit.cli import EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, main


def test_help_does_not_import_torch():
    code = (
        "import sys\n"
        "from audit.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch imported by --help'\n"
        "assert 'sentence_transformers' not in sys.modules\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ok" in out.stdout


def test_version_and_lists(capsys):
    from audit import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out
    assert main(["list", "suites"]) == EXIT_OK
    assert "bias" in capsys.readouterr().out
    assert main(["list", "embedders"]) == EXIT_OK
    listed = capsys.readouterr().out
    assert "local" in listed and "bedrock:<arg>" in listed


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["run", "--suite", "bais", "--out", str(tmp_path)]) == EXIT_USAGE
    assert "did you mean 'bias'" in capsys.readouterr().err
    assert main(["run", "--suite", "bias", "--embedder", "lokal", "--out", str(tmp_path)]) == 2
    assert "did you mean 'local'" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("embeder = 'local'\n")
    assert main(["run", "--suite", "bias", "--config", str(bad)]) == EXIT_USAGE
    assert "unknown key" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["run"])  # --suite is required: argparse's usage error
    assert info.value.code == EXIT_USAGE
    assert not any(tmp_path.glob("*/report.json"))


def test_failed_run_exits_3_and_keeps_a_report(tmp_path, capsys, monkeypatch):
    # A backend that breaks mid-run (an unknown probe name is a config mistake: exit 2,
    # tests/audit/test_config_mistakes.py).
    from fakes import BrokenEmbedder, register_embedder

    register_embedder(monkeypatch, "broken", BrokenEmbedder)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('[suite.bias]\ntests = ["weat6"]\n')
    code = main(["run", "--suite", "bias", "--embedder", "broken", "--config", str(cfg),
                 "--out", str(tmp_path / "r")])  # fmt: skip
    assert code == EXIT_RUN_FAILED
    (report,) = (tmp_path / "r").glob("*/report.json")
    data = json.loads(report.read_text())
    assert data["status"] == "error"
    assert "weat99" in data["errors"][0]


@pytest.mark.slow
def test_bias_run_matches_direct_computation(tmp_path, capsys):
    """`audit run --suite bias` files the same WEAT-6 numbers as a direct computation."""
    from audit.embedders.local import LocalEmbedder
    from audit.items import text_item
    from fairness.probes import association_test, load_weat_tests

    cfg = tmp_path / "cfg.toml"
    cfg.write_text('seed = 7\n[suite.bias]\ntests = ["weat6"]\nn_bootstrap = 300\n')
    out = tmp_path / "runs"
    assert main(["run", "--suite", "bias", "--config", str(cfg), "--out", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "weat/weat6" in printed and "status: no-gates" in printed
    (path,) = out.glob("*/report.json")
    data = json.loads(path.read_text())
    assert data["schema_version"] == 2 and data["embedder"]["spec"] == "local"
    assert data["embedder"]["weights"]  # hashes recorded
    (res,) = data["results"]

    spec = load_weat_tests()["weat6"]
    emb = LocalEmbedder()
    emb.progress = False
    sets = [
        emb.embed([text_item(f"{ws.name}{i}", w) for i, w in enumerate(ws.words)])
        for ws in (*spec.targets, *spec.attributes)
    ]
    direct = association_test(*sets, n_bootstrap=10)
    assert res["value"] == pytest.approx(direct.effect_size, abs=1e-5)
    assert res["p_value"] == pytest.approx(direct.p_value, abs=1e-12)
    assert res["details"]["p_value_method"] == "exact" and res["n"] == 16
    assert res["ci_low"] < res["value"] < res["ci_high"]
    # An independent hand computation of the effect size (ddof=1) from the vectors.
    X, Y, A, B = sets
    s = lambda W: (W @ A.T).mean(1) - (W @ B.T).mean(1)  # noqa: E731
    d = (s(X).mean() - s(Y).mean()) / np.concatenate([s(X), s(Y)]).std(ddof=1)
    assert res["value"] == pytest.approx(d, abs=1e-5)
    # The cache was used: a second run is served entirely from it.
    assert main(["run", "--suite", "bias", "--config", str(cfg), "--out", str(out)]) == EXIT_OK
    second = sorted(out.glob("*/report.json"))
    cache = [json.loads(p.read_text())["wrappers"]["cache"] for p in second]
    assert sorted(c["misses"] for c in cache) == [0, 32]


@pytest.mark.slow
def test_fit_debias_command_writes_projection_and_report(tmp_path, capsys):
    """`audit fit-debias` on the built-in gendered sentences, then `run --debias`."""
    import hashlib

    from fairness.debias import load_debiaser

    proj = tmp_path / "proj.npz"
    cache = tmp_path / "c.sqlite"
    args = ["fit-debias", "--out", str(proj), "--sizes", "383,128", "--cache", str(cache)]
    assert main(args) == EXIT_OK
    printed = capsys.readouterr().out
    assert "probe acc before" in printed and "383" in printed
    fit = json.loads((tmp_path / "proj.npz.fit.json").read_text())
    assert fit["attribute"] == "gender" and [s["size"] for s in fit["sizes"]] == [383, 128]
    for s in fit["sizes"]:
        assert s["max_group_mean_gap_fit"] < 1e-9
        assert s["probe_accuracy_before"] > s["probe_accuracy_after"]
    assert load_debiaser(proj).components_.shape == (383, 384)

    cfg = tmp_path / "cfg.toml"
    cfg.write_text('[suite.bias]\ntests = ["weat6"]\nn_bootstrap = 100\n')
    out = tmp_path / "runs"
    run = ["run", "--suite", "bias", "--config", str(cfg), "--out", str(out)]
    assert main([*run, "--cache", str(cache), "--debias", str(proj)]) == EXIT_OK
    (path,) = out.glob("*/report.json")
    data = json.loads(path.read_text())
    wrapped = data["wrappers"]["projection"]
    assert wrapped["sha256"] == hashlib.sha256(proj.read_bytes()).hexdigest()
    assert wrapped["kind"] == "FairPCA" and wrapped["fit"]["dataset"]
    assert {r["variant"] for r in data["results"]} >= {"raw", "debiased"}


def test_fit_debias_usage_errors(tmp_path, capsys):
    assert main(["fit-debias", "--out", str(tmp_path / "p.pkl")]) == EXIT_USAGE
    assert ".npz or .safetensors" in capsys.readouterr().err
    assert main(["run", "--suite", "bias", "--debias", str(tmp_path / "nope.npz")]) == EXIT_USAGE
    assert "not found" in capsys.readouterr().err
