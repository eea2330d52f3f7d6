"""The safety suite end to end on a fast policy (term list only, no models)."""

from __future__ import annotations

import json

import pytest
from fakes import HashEmbedder

from audit.config import ConfigError, RunConfig
from audit.context import RunContext
from audit.report import Report
from audit.safety._evalsets import PROFANE_TERMS
from audit.suites.safety import SafetySuite


def _ctx(tmp_path, options, embedder=None):
    config = RunConfig(
        suites=["safety"], quick=True, progress=False, suite_options={"safety": options}
    )
    return RunContext(embedder=embedder or HashEmbedder(), config=config, run_dir=tmp_path)


@pytest.fixture
def policy(tmp_path):
    terms = ", ".join(json.dumps(t) for t in PROFANE_TERMS)
    path = tmp_path / "policy.toml"
    path.write_text(
        f'[categories]\noffensive-term = "block"\n[checkers.terms]\nterms = [{terms}]\n'
        "[checkers.hashlist]\n"
    )
    return path


def _one(results, check, metric, variant=None, group=None):
    found = [
        r
        for r in results
        if r.check == check
        and r.metric == metric
        and (variant is None or r.variant == variant)
        and r.group == group
    ]
    assert len(found) == 1, (check, metric, variant, found)
    return found[0]


@pytest.mark.slow
def test_suite_measures_the_filter(tmp_path, policy):
    options = {
        "policy": str(policy),
        "parts": ["labelled", "benign", "groups", "evasion"],
        "builtins": ["passages"],
        "max_items": 10,
    }
    results = SafetySuite().run(_ctx(tmp_path, options))
    Report(
        run_id="r",
        tool_version="0",
        suite="safety",
        embedder={"spec": "x", "name": "x", "modalities": [], "dim": 1},
        results=results,
    )
    # the term list holds exactly the templated terms: every positive hits, no twin does
    assert _one(results, "labelled/text-templates", "recall").value == 1.0
    assert _one(results, "labelled/text-templates", "false_positive_rate").value == 0.0
    assert _one(results, "labelled/text-templates", "precision").value == 1.0
    # hardening: obfuscations evade the raw list, not the hardened one
    for name in ("homoglyph", "zero-width", "leet", "bidi", "fullwidth", "spaced"):
        hardened = _one(results, f"evasion/text/{name}", "recall", "term-list")
        raw = _one(results, f"evasion/text/{name}", "recall", "term-list-raw")
        assert hardened.value == 1.0 and raw.value < 0.5, name
    # test hash list: listed photos match under every transform, controls never
    for transform in ("jpeg50", "half", "crop5-corner", "mirror", "combined"):
        check = f"evasion/image/phash+crops/{transform}"
        assert _one(results, check, "recall").value == 1.0
        assert _one(results, check, "false_match_rate").value == 0.0
    # per-group rates exist for the identity-mention set, with a gap summary
    gay = _one(
        results,
        "benign/identity-mentions/groups/identity",
        "false_positive_rate",
        group="identity=gay",
    )
    assert gay.n == 5 and gay.value == 0.0  # a term list of profanity does not hit these
    assert _one(results, "benign/identity-mentions/groups/identity", "fpr_gap").value == 0.0
    passages = _one(results, "benign/passages", "false_positive_rate")
    assert passages.n == 10 and passages.value == 0.0
    log = tmp_path / "artifacts" / "safety" / "suite-decisions.jsonl"
    assert log.is_file() and "Assert statements" not in log.read_text()


def test_user_labelled_dataset(tmp_path, policy):
    """A user's labelled set as a manifest (labels true/false/unsafe in attr_unsafe)."""
    manifest = tmp_path / "mine.csv"
    manifest.write_text(
        "id,role,text,attr_unsafe\n"
        "a,corpus,you jackass,true\n"
        "b,corpus,lovely weather,false\n"
        "c,corpus,crap!,unsafe\n"
        "d,corpus,nice crab,safe\n"
    )
    options = {"policy": str(policy), "parts": ["labelled"], "datasets": [str(manifest)]}
    results = SafetySuite().run(_ctx(tmp_path, options))
    mine = [r for r in results if r.check not in ("labelled/text-templates",)]
    recall = next(r for r in mine if r.metric == "recall")
    fpr = next(r for r in mine if r.metric == "false_positive_rate")
    assert (recall.value, recall.n, fpr.value, fpr.n) == (1.0, 2, 0.0, 2)
    assert recall.details["source"] == str(manifest)
    with manifest.open("a") as fh:
        fh.write("e,corpus,no label here,\n")
    with pytest.raises(ConfigError, match="without a label"):
        SafetySuite().run(_ctx(tmp_path, options))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"parts": ["nope"]}, "parts"),
        ({"builtins": ["x"]}, "builtins"),
        ({"target_fpr": 2}, "target_fpr"),
        ({"what": 1}, "unknown option"),
    ],
)
def test_bad_options(tmp_path, options, message):
    with pytest.raises(ConfigError, match=message):
        SafetySuite().run(_ctx(tmp_path, options))
