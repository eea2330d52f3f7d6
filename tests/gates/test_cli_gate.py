"""`audit gate` and `audit run --policy`: exit codes, report rewriting, CI files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from gate_fixtures import report, res, save_run, weat_results
from junitparser import JUnitXml

from audit.cli import EXIT_GATE_FAILED, EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, main
from audit.gates import load_run

PASSING = (
    '[[gate]]\nname = "small"\ndimension = "fairness"\nsuite = "bias"\ncheck = "weat/*"\n'
    "max_abs = 2.0\n"
)
FAILING = (
    '[[gate]]\nname = "strict"\ndimension = "fairness"\nsuite = "bias"\ncheck = "weat/*"\n'
    "max_abs = 1.0\n"
)
REGRESSION = (
    '[[gate]]\nname = "no-worse"\ndimension = "fairness"\nsuite = "bias"\ncheck = "weat/*"\n'
    "max_increase = 0.05\nmagnitude = true\n"
)


@pytest.fixture
def run_dir(tmp_path):
    return save_run(report(weat_results(), run_id="run-a"), tmp_path / "runs")


def _policy(tmp_path, text, name="policy.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_gate_exit_codes_and_report_rewrite(tmp_path, run_dir, capsys):
    # 0: every gate passes; the report on disk now says so.
    assert main(["gate", str(run_dir), "--policy", _policy(tmp_path, PASSING)]) == EXIT_OK
    data = json.loads((run_dir / "report.json").read_text())
    assert data["status"] == "passed" and [g["name"] for g in data["gates"]] == ["small"]
    assert data["policy"]["name"] == "policy" and len(data["policy"]["sha256"]) == 64
    # 1: a gate fails; the gates are replaced, not appended, and the summary names the
    # failing results (those with |d| > 1.0 in the fixture).
    expected = sorted(r.check for r in weat_results() if abs(r.value) > 1.0)
    assert len(expected) == 4
    code = main(["gate", str(run_dir / "report.json"), "--policy", _policy(tmp_path, FAILING)])
    assert code == EXIT_GATE_FAILED
    out = capsys.readouterr().out
    assert "gate FAIL strict" in out and "4 of 10 selected result(s) fail" in out
    rep, _ = load_run(run_dir)
    assert rep.status == "failed" and [g.name for g in rep.gates] == ["strict"]
    assert sorted(e["check"] for e in rep.gates[0].evidence if not e["passed"]) == expected


@pytest.mark.parametrize(
    ("policy_text", "expected"),
    [
        ('[[gate]]\nname = "g"\nchek = "weat/*"\nmax = 1\n', "did you mean 'check'"),
        (
            '[[gate]]\nname = "g"\ndimension = "fairness"\ncheck = "waet/*"\nmax = 1\n',
            "did you mean 'weat/*'",
        ),
        (
            '[[gate]]\nname = "g"\ndimension = "fairness"\nsuite = "bais"\nmax = 1\n',
            "did you mean 'bias'",
        ),
        (REGRESSION, "pass --baseline"),
        ("not toml [", "invalid TOML"),
    ],
)
def test_gate_policy_errors_exit_2_and_leave_the_report(
    tmp_path, run_dir, capsys, policy_text, expected
):
    before = (run_dir / "report.json").read_text()
    junit = tmp_path / "j.xml"
    args = ["gate", str(run_dir), "--policy", _policy(tmp_path, policy_text), "--junit", str(junit)]
    assert main(args) == EXIT_USAGE
    assert expected in capsys.readouterr().err
    assert (run_dir / "report.json").read_text() == before
    if junit.exists():  # written when the error shows only once the results are known
        (suite,) = list(JUnitXml.fromfile(str(junit)))
        assert suite.errors == 1 and suite.failures == 0


def test_gate_usage_errors(tmp_path, run_dir, capsys):
    pol = _policy(tmp_path, PASSING)
    assert main(["gate", str(tmp_path / "missing"), "--policy", pol]) == EXIT_USAGE
    assert "no report found" in capsys.readouterr().err
    assert main(["gate", str(run_dir), "--policy", str(tmp_path / "nope.toml")]) == EXIT_USAGE
    assert "policy file not found" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{")
    assert main(["gate", str(tmp_path / "bad.json"), "--policy", pol]) == EXIT_USAGE
    assert "not valid JSON" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["gate", str(run_dir)])  # --policy is required
    assert info.value.code == EXIT_USAGE


def test_gate_on_a_failed_run_exits_3(tmp_path, capsys):
    failed = save_run(report([res("weat/weat1", 1.0)], run_id="bad", status="error"), tmp_path)
    junit = tmp_path / "j.xml"
    args = ["gate", str(failed), "--policy", _policy(tmp_path, PASSING), "--junit", str(junit)]
    assert main(args) == EXIT_RUN_FAILED
    assert "failed; no gate was judged" in capsys.readouterr().err
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    (case,) = list(suite)
    assert case.name == "run" and "RuntimeError: boom" in case.result[0].text


def test_regression_gate_against_baselines(tmp_path, run_dir, capsys):
    """Fails on a worse fixture run, passes on an equal one; JUnit counts the failure."""
    pol = _policy(tmp_path, REGRESSION)
    equal = save_run(report(weat_results(), run_id="run-equal"), tmp_path / "b")
    worse_results = weat_results()
    worse_results[5] = worse_results[5].model_copy(update={"value": 1.2})  # weat6 1.021 -> 1.2
    worse = save_run(report(worse_results, run_id="run-worse"), tmp_path / "b")
    assert main(["gate", str(equal), "--policy", pol, "--baseline", str(run_dir)]) == EXIT_OK
    junit, summary = tmp_path / "j.xml", tmp_path / "s.md"
    args = ["gate", str(worse), "--policy", pol, "--baseline", str(run_dir)]
    assert main([*args, "--junit", str(junit), "--summary", str(summary)]) == EXIT_GATE_FAILED
    rep, _ = load_run(worse)
    (gate,) = rep.gates
    assert gate.value == pytest.approx(1.2 - 1.021) and gate.op == "increase<="
    assert rep.policy.baseline_run_id == "run-a"
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    assert (suite.tests, suite.failures) == (1, 1)
    assert "weat/weat6" in summary.read_text() and "run-a" in summary.read_text()
    # A failed baseline run is refused before gating.
    bad = save_run(report(weat_results(), run_id="bad", status="error"), tmp_path / "c")
    assert main([*args[:-1], str(bad)]) == EXIT_USAGE
    assert "baseline run bad failed" in capsys.readouterr().err


def test_run_validates_the_policy_before_running(tmp_path, capsys):
    out = tmp_path / "runs"
    bad = _policy(tmp_path, '[[gate]]\nname = "g"\nmetrc = "effect_size"\nmax = 1\n')
    code = main(["run", "--suite", "bias", "--out", str(out), "--policy", bad])
    assert code == EXIT_USAGE and "did you mean 'metric'" in capsys.readouterr().err
    assert not out.exists()  # nothing ran
    reg = _policy(tmp_path, REGRESSION, "reg.toml")
    assert main(["run", "--suite", "bias", "--out", str(out), "--policy", reg]) == EXIT_USAGE
    assert "pass --baseline" in capsys.readouterr().err
    missing = str(tmp_path / "nowhere")
    args = ["run", "--suite", "bias", "--out", str(out), "--policy", reg, "--baseline", missing]
    assert main(args) == EXIT_USAGE
    assert main(["run", "--suite", "bias", "--out", str(out), "--junit", "j.xml"]) == EXIT_USAGE
    assert "need --policy" in capsys.readouterr().err
    assert not out.exists()


def test_run_that_fails_exits_3_with_a_junit_error(tmp_path, capsys, monkeypatch):
    # A backend that breaks mid-run (an unknown probe name is a config mistake: exit 2).
    from fakes import BrokenEmbedder, register_embedder

    register_embedder(monkeypatch, "broken", BrokenEmbedder)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('[suite.bias]\ntests = ["weat6"]\n')
    junit, summary = tmp_path / "j.xml", tmp_path / "s.md"
    args = ["run", "--suite", "bias", "--config", str(cfg), "--out", str(tmp_path / "r")]
    args += ["--embedder", "broken"]
    args += ["--policy", _policy(tmp_path, PASSING), "--junit", str(junit)]
    assert main([*args, "--summary", str(summary)]) == EXIT_RUN_FAILED
    (suite,) = list(JUnitXml.fromfile(str(junit)))
    assert suite.errors == 1 and "weat99" in next(iter(suite)).result[0].text
    text = summary.read_text(encoding="utf-8")
    assert "run failed" in text and "weat99" in text
    (report_file,) = (tmp_path / "r").glob("*/report.json")
    assert json.loads(report_file.read_text())["gates"] == []  # not gated


def test_gating_a_finished_run_does_not_import_torch(tmp_path, run_dir):
    pol = _policy(tmp_path, PASSING)
    code = (
        "import sys\nfrom audit.cli import main\n"
        f"rc = main(['gate', {str(run_dir)!r}, '--policy', {pol!r}, '--junit', "
        f"{str(tmp_path / 'j.xml')!r}, '--summary', {str(tmp_path / 's.md')!r}])\n"
        "assert 'torch' not in sys.modules, 'torch imported by audit gate'\n"
        "sys.exit(rc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == EXIT_OK, done.stderr
