"""Policy files: strict validation (typos are errors), and the shipped default policy."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from gate_fixtures import report, weat_results

from audit.config import ConfigError
from audit.gates import apply_policy, load_policy, parse_policy

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = '[[gate]]\nname = "g"\ndimension = "fairness"\ncheck = "weat/*"\nmax = 1.0\n'


def test_minimal_policy_and_defaults(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(MINIMAL)
    policy = load_policy(path)
    (gate,) = policy.gate
    assert (gate.operator, gate.threshold, gate.check) == ("max", 1.0, ("weat/*",))
    assert gate.dimension == "fairness"
    assert policy.name == "policy" and policy.policy.alpha == 0.05
    assert policy.sha256 == hashlib.sha256(MINIMAL.encode()).hexdigest()
    assert policy.source == str(path) and policy.needs_baseline() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A typo'd selector key: an error with the closest known key, never ignored.
        (
            '[[gate]]\nname = "g"\nchek = "weat/*"\nmax = 1\n',
            "unknown key 'chek'; did you mean 'check'",
        ),
        ('[[gate]]\nname = "g"\nmax = 1\nallow_emtpy = true\n', "did you mean 'allow_empty'"),
        ('[policy]\nnmae = "x"\n[[gate]]\nname = "g"\nmax = 1\n', "[policy]: unknown key 'nmae'"),
        ('[[gates]]\nname = "g"\nmax = 1\n', "did you mean 'gate'"),
        ('[gate]\nname = "g"\nmax = 1\n', "[[gate]] tables (double brackets)"),
        ('[policy]\nname = "x"\n', "defines no gate"),
        ("gate = []\n", "defines no gate"),
        # Operators: exactly one, sane bounds, modifiers only where they mean something.
        ('[[gate]]\nname = "g"\n', "exactly one operator"),
        ('[[gate]]\nname = "g"\nmin = 0\nmax = 1\n', "given: min, max"),
        ('[[gate]]\nname = "g"\nmax_abs = -1\n', "max_abs must be >= 0"),
        ('[[gate]]\nname = "g"\nmin_results = 0\n', "min_results must be >= 1"),
        ('[[gate]]\nname = "g"\nmax_drop = 0.1\nwhen = "significant"\n', "applies to min/max"),
        ('[[gate]]\nname = "g"\nmax = 1\nalpha = 0.01\n', "only with when = 'significant'"),
        ('[[gate]]\nname = "g"\nmax = 1\nwhen = "significant"\nalpha = 1.5\n', "alpha must lie"),
        ('[[gate]]\nname = "g"\nmax = 1\nchange = "relative"\n', "only to max_drop/max_increase"),
        ('[[gate]]\nname = "g"\nmax = 1\nwhen = "often"\n', "gate[0] ('g'): when"),
        ('[policy]\nalpha = 0\n[[gate]]\nname = "g"\nmax = 1\n', "alpha must lie"),
        ('[policy]\nversion = 2\n[[gate]]\nname = "g"\nmax = 1\n', "version"),
        # Types are strict: a quoted number or a bare number as a pattern is an error.
        ('[[gate]]\nname = "g"\nmax = "0.8"\n', "max: Input should be a valid number"),
        ('[[gate]]\nname = "g"\nmax = 1\ncheck = 7\n', "expected a glob pattern"),
        ('[[gate]]\nname = "g"\nmax = 1\ncheck = []\n', "expected a glob pattern"),
        ('[[gate]]\nname = "g"\nmax = 1\ndim = "384"\n', "expected a positive integer"),
        ('[[gate]]\nname = "g"\nmax = 1\nallow_empty = "yes"\n', "allow_empty"),
        ('[[gate]]\nname = "g"\nmax = nan\n', "finite"),
        ('[[gate]]\nname = "g"\nmax = 1\n[[gate]]\nname = "g"\nmin = 0\n', "duplicate gate"),
        ("[[gate]\n", "invalid TOML"),
    ],
)
def test_invalid_policies_are_config_errors(text, expected):
    with pytest.raises(ConfigError) as info:
        parse_policy(text, source="p.toml")
    assert expected in str(info.value)
    assert str(info.value).startswith("p.toml")


def test_every_problem_is_reported_at_once():
    text = '[[gate]]\nname = "a"\nchek = "x"\nmax = 1\n[[gate]]\nname = "b"\nmetrc = "m"\nmin = 0\n'
    with pytest.raises(ConfigError) as info:
        parse_policy(text)
    msg = str(info.value)
    assert (
        "gate[0] ('a'): unknown key 'chek'" in msg and "gate[1] ('b'): unknown key 'metrc'" in msg
    )


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="policy file not found"):
        load_policy(tmp_path / "nope.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[[gate]]\nname = "caf\xe9"\nmax = 1\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_policy(bad)


def test_shipped_default_policy_selects_todays_bias_results():
    """The shipped default policy gates the results the bias suite files today.

    Expected verdicts, worked out by hand from the fixture's p-values. Issue 18: the gate
    no longer adjusts over its own eight social tests; it reads the p_adjusted the suite
    stored, Holm over the family of all ten raw WEAT tests. Sorted, weat1 and weat2
    (1e-05) take the multipliers 10 and 9, so weat5 gets 0.00282*8 = 0.0226, weat4
    max(0.00285*7, 0.0226) = 0.0226, weat6 0.0161*6 = 0.0966, ... (the same numbers as the
    old gate-side Holm over 3-10 here, since weat1-2 are far below): only weat4 and weat5
    (|d| > 0.8) are significant breaches.
    """
    policy = load_policy("default")
    assert policy.sha256 == load_policy(ROOT / "audit/gates/policies/default.toml").sha256
    assert policy.needs_baseline() == []  # usable without --baseline
    gated = apply_policy(report(weat_results()), policy)
    by_name = {g.name: g for g in gated.gates}
    social = by_name["bias-weat-social"]
    assert social.selected == 8 and not social.passed
    failing = sorted(e["check"] for e in social.evidence if not e["passed"])
    assert failing == ["weat/weat4", "weat/weat5"]
    assert social.value == pytest.approx(0.944)
    adjusted = {e["check"]: e["p_adjusted"] for e in social.evidence}
    assert adjusted["weat/weat5"] == pytest.approx(0.00282 * 8)
    assert adjusted["weat/weat4"] == pytest.approx(0.00282 * 8)  # monotone step-down
    assert adjusted["weat/weat6"] == pytest.approx(0.0161 * 6)
    assert by_name["bias-weat-social-coverage"].passed
    assert by_name["bias-weat-social-coverage"].value == 8
    sanity = by_name["bias-weat-probe-sanity"]
    assert sanity.passed and sanity.selected == 2 and sanity.value == pytest.approx(1.237)
    # Gates over suites that are not run yet are explicit skips, not silent passes: the
    # debiased gate (allow_empty) and every gate over another suite (not assessed).
    skipped = {g.name for g in gated.gates if g.selected == 0}
    others = {g.name for g in policy.gate if g.suite != ("bias",)}
    assert skipped == {"bias-weat-social-debiased"} | others
    assert len(others) == 10  # 2 retrieval, 5 safety, 3 red-team gates
    assert all(by_name[n].message.startswith("not assessed: suite") for n in others)
    assert gated.status == "failed"
    assert gated.policy is not None and gated.policy.name == "default"
