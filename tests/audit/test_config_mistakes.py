"""Config mistakes exit 2 naming the key and the right one; errored checks never pass quietly.

Every test drives ``audit.cli.main`` like a user would. Runs use the hash fake backend
(tests/fakes.py) with an image endpoint that fails, registered for the test only, so
nothing loads a model.
"""

from __future__ import annotations

import json
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from fakes import HashEmbedder
from PIL import Image

from audit.cli import EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, main
from audit.datasets import load_manifest, write_beir
from audit.embedders import EMBEDDERS, EmbedderEntry, EmbeddingError, check_spec
from audit.items import Item
from audit.report import CheckError, Report, load_report

FAKE = "h3imagefail"


class ImageEndpointDown(HashEmbedder):
    """Text works; every image request fails, as when a service's image endpoint is down."""

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        if modality == "image":
            raise EmbeddingError(f"image endpoint returned HTTP 503 for {len(items)} item(s)")
        return super()._embed_batch(modality, items, purpose)


@pytest.fixture
def fake_backend(monkeypatch: pytest.MonkeyPatch) -> str:
    """:class:`ImageEndpointDown` as an embedder kind, for this test only."""
    module = types.ModuleType("h3_config_fakes")
    module.ImageEndpointDown = ImageEndpointDown  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    entry = EmbedderEntry(f"{module.__name__}:ImageEndpointDown", "fake")
    monkeypatch.setitem(EMBEDDERS._entries, FAKE, entry)
    return FAKE


def _run(tmp_path: Path, toml: str, *extra: str, suite: str = "bias") -> int:
    cfg = tmp_path / "run.toml"
    cfg.write_text(toml, encoding="utf-8")
    return main(["run", "--suite", suite, "--config", str(cfg), "--out", str(tmp_path / "runs"),
                 "--no-progress", *extra])  # fmt: skip


def _no_report(tmp_path: Path) -> bool:
    return not list((tmp_path / "runs").glob("*/report.json"))


@pytest.mark.parametrize(
    ("toml", "names", "suggests"),
    [
        ("[suite.retreival]\nsizes = [8]\n", "[suite.retreival]", "'retrieval'"),
        ("[suite.bias]\nn_permutation = 10\n", "'n_permutation'", "'n_permutations'"),
        ("embeder = 'local'\n", "'embeder'", "'embedder'"),
        ("[engine_option]\nshard_size = 4\n", "'engine_option'", "'engine_options'"),
        ("alow_errors = true\n", "'alow_errors'", "'allow_errors'"),
        ('[suite.bias]\ntests = ["weat99"]\n', "unknown probe 'weat99'", "'weat/weat9'"),
        ('[suite.bias]\nprobes = ["skw/*"]\n', "unknown probe 'skw/*'", "'skew/"),
        (
            "[suite.bias]\n[[suite.bias.skew_datasets]]\ndataset = 'x'\nattributes = ['a']\n"
            "querys = 'dataset'\n",
            "'querys'",
            "'queries'",
        ),
    ],
)
def test_config_typos_exit_2_with_a_suggestion(tmp_path, capsys, toml, names, suggests):
    assert _run(tmp_path, toml) == EXIT_USAGE
    err = capsys.readouterr().err
    assert names in err and f"did you mean {suggests}" in err
    assert _no_report(tmp_path)  # refused before anything ran


@pytest.mark.parametrize(
    ("suite", "typo", "right"),
    [
        ("retrieval", "sizez", "sizes"),
        ("safety", "target_fp", "target_fpr"),
        ("redteam", "familes", "families"),
    ],
)
def test_every_suite_checks_its_options_before_running(tmp_path, capsys, suite, typo, right):
    assert _run(tmp_path, f"[suite.{suite}]\n{typo} = 1\n", suite=suite) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"[suite.{suite}]: unknown option '{typo}'; did you mean '{right}'" in err
    assert _no_report(tmp_path)


@pytest.mark.parametrize(
    ("spec", "typo", "right"),
    [
        ("bedrock:amazon.titan-embed-text-v2:0?dimm=256", "dimm", "dim"),
        ("gemini:gemini-embedding-001?dimm=768", "dimm", "dim"),
        ("vertex:multimodalembedding@001?dimm=512&location=us-central1", "dimm", "dim"),
        ("st:/models/minilm?revison=main", "revison", "revision"),
        ("hf:/models/clip?frame=4", "frame", "frames"),
    ],
)
def test_backend_option_typo_exits_2_with_a_suggestion(tmp_path, capsys, spec, typo, right):
    code = main(["run", "--suite", "bias", "--embedder", spec, "--out", str(tmp_path / "runs")])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"'{typo}'" in err and f"did you mean '{right}'" in err
    assert _no_report(tmp_path)


def test_spec_check_accepts_what_the_backends_accept_and_never_echoes_values(tmp_path, capsys):
    # The same option lists the backends build from: valid specs pass the early check.
    check_spec("bedrock:amazon.titan-embed-text-v2:0?dim=256&region=us-east-1&max_attempts=3")
    check_spec("gemini:gemini-embedding-001?dim=768&task=retrieval_document&vertexai=0")
    check_spec("vertex:multimodalembedding@001?dim=512&documents=1")
    check_spec("hf:/models/clip?frames=4&revision=main")
    check_spec("local")
    with pytest.raises(ValueError, match="is not valid"):  # a bad value, not only a bad key
        check_spec("bedrock:amazon.titan-embed-text-v2:0?dim=lots")
    # A mistyped key may carry a secret: exit 2, and the value is never printed.
    spec = "bedrock:amazon.titan-embed-text-v2:0?regoin=SECRETVALUE123"
    assert main(["run", "--suite", "bias", "--embedder", spec, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'region'" in err and "SECRETVALUE123" not in err


def test_debias_file_that_is_not_a_debiaser_exits_2_saying_what_it_should_be(tmp_path, capsys):
    # An .npz holding an object array: numpy would advise loading it "unsafely".
    bad = tmp_path / "proj.npz"
    np.savez(bad, components=np.array([{"not": "arrays"}], dtype=object))
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00not a safetensors file")
    for path in (bad, junk):
        code = main(
            ["run", "--suite", "bias", "--debias", str(path), "--out", str(tmp_path / "runs")]
        )
        assert code == EXIT_USAGE
        err = capsys.readouterr().err
        assert str(path) in err and "written by `audit fit-debias`" in err
        assert "allow_pickle" not in err and "unsafely" not in err
    assert _no_report(tmp_path)


# ----------------------------------------------------------------- errored checks


def _gallery(tmp_path: Path) -> Path:
    """A BEIR folder of six valid images, three per gender label (no queries)."""
    folder = tmp_path / "gallery"
    folder.mkdir()
    rows = ["id,role,modality,path,attr_gender"]
    for i in range(6):
        Image.new("RGB", (8, 8), (40 * i, 10, 200 - 30 * i)).save(folder / f"g{i}.png")
        rows.append(f"g{i},corpus,image,gallery/g{i}.png,{'fm'[i % 2]}")
    manifest = tmp_path / "gallery.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return write_beir(load_manifest(manifest), folder)


def _all_probes_fail_toml(tmp_path: Path, extra: str = "") -> str:
    return (
        f"{extra}[suite.bias]\nprobes = ['skew/*']\ndebias = 'none'\nskew_k = [2]\n"
        "skew_permutations = 10\n[[suite.bias.skew_datasets]]\n"
        f"dataset = {json.dumps(str(_gallery(tmp_path)))}\nattributes = ['gender']\n"
        "queries = ['a doctor', 'a nurse']\n"
    )


def _only_report(tmp_path: Path) -> tuple[Path, Report]:
    paths = sorted((tmp_path / "runs").glob("*/report.json"))
    return paths[-1], load_report(paths[-1])


def test_run_whose_every_probe_failed_is_incomplete_and_exits_3(tmp_path, capsys, fake_backend):
    code = _run(tmp_path, _all_probes_fail_toml(tmp_path), "--embedder", fake_backend)
    assert code == EXIT_RUN_FAILED
    captured = capsys.readouterr()
    _, report = _only_report(tmp_path)
    assert report.status == "incomplete" and report.errors == []
    (err,) = report.check_errors
    assert (err.suite, err.check) == ("bias", "skew/gallery")
    assert err.error == "EmbeddingError: image endpoint returned HTTP 503 for 6 item(s)"
    # The coverage result agrees: nothing ran, one probe failed.
    (cover,) = [r for r in report.results if r.check == "coverage"]
    assert cover.value == 0 and list(cover.details["failed"]) == ["skew/gallery"]
    # Shown in the summary and on stderr.
    assert "1 check(s) errored:" in captured.out
    assert f"ERROR bias/skew/gallery: {err.error}" in captured.out
    assert "status: incomplete" in captured.out
    assert "is incomplete: 1 errored check(s): bias/skew/gallery" in captured.err


@pytest.mark.parametrize("how", ["flag", "config"])
def test_allow_errors_accepts_the_partial_run_but_still_reports_it(
    tmp_path, capsys, fake_backend, how
):
    flag = ["--allow-errors"] if how == "flag" else []
    toml = _all_probes_fail_toml(tmp_path, "allow_errors = true\n" if how == "config" else "")
    assert _run(tmp_path, toml, "--embedder", fake_backend, *flag) == EXIT_OK
    out = capsys.readouterr().out
    _, report = _only_report(tmp_path)
    assert report.status == "no-gates" and report.config["allow_errors"] is True
    assert [e.check for e in report.check_errors] == ["skew/gallery"]
    assert "1 check(s) errored (allowed by --allow-errors):" in out


def _coverage_policy(tmp_path: Path, minimum: int) -> Path:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[policy]\nname = "h3"\n[[gate]]\nname = "probes-ran"\ndimension = "fairness"\n'
        'suite = "bias"\n'
        f'check = "coverage"\nmetric = "probes_run"\nmin = {minimum}\n',
        encoding="utf-8",
    )
    return policy


def test_gate_rejudges_an_incomplete_run_by_the_same_rule(tmp_path, capsys, fake_backend):
    assert _run(tmp_path, _all_probes_fail_toml(tmp_path), "--embedder", fake_backend) == 3
    path, _ = _only_report(tmp_path)
    policy = _coverage_policy(tmp_path, 0)  # a gate the run passes (0 probes ran >= 0)
    junit = tmp_path / "junit.xml"
    args = ["gate", str(path.parent), "--policy", str(policy), "--junit", str(junit)]
    # Strict by default: the gate passes, but an errored check is not a pass.
    assert main(args) == EXIT_RUN_FAILED
    report = load_report(path)
    assert report.status == "incomplete" and [g.passed for g in report.gates] == [True]
    cases = ET.parse(junit).getroot().iter("testcase")
    kinds = {c.get("name"): [e.tag for e in c] for c in cases}
    assert kinds["skew/gallery"] == ["error"] and "error" not in kinds["probes-ran"]
    # Allowed: judged by the gates alone, the errored check still recorded.
    assert main([*args, "--allow-errors"]) == EXIT_OK
    report = load_report(path)
    assert report.status == "passed" and len(report.check_errors) == 1
    strict = _coverage_policy(tmp_path, 1)  # a gate the run fails
    assert main(["gate", str(path.parent), "--policy", str(strict), "--allow-errors"]) == 1
    assert load_report(path).status == "failed"
    # An incomplete run is no baseline (its numbers are partial) unless re-gated as allowed.
    assert main(["gate", str(path.parent), "--policy", str(policy)]) == EXIT_RUN_FAILED
    capsys.readouterr()
    base = ["gate", str(path.parent), "--policy", str(policy), "--baseline", str(path.parent)]
    assert main(base) == EXIT_USAGE
    assert "is incomplete" in capsys.readouterr().err


def test_reports_without_check_errors_still_load(tmp_path):
    """schema_version 1 stays readable: check_errors is optional, defaulting to none."""
    old = {
        "schema_version": 1,
        "run_id": "r1",
        "tool_version": "0.1.0",
        "suite": "bias",
        "embedder": {"spec": "local", "name": "local", "modalities": ["text"], "dim": 384},
        "status": "no-gates",
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    report = load_report(path)
    assert report.check_errors == [] and report.status == "no-gates"
    # and the new field round-trips
    err = CheckError(suite="bias", check="skew/x", error="ValueError: bad")
    report.model_copy(update={"check_errors": [err], "status": "incomplete"}).save(path)
    again = load_report(path)
    assert again.check_errors == [err] and again.status == "incomplete"
    assert json.loads(path.read_text())["check_errors"][0]["check"] == "skew/x"
