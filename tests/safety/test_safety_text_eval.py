"""The text path's evaluation (issue 16.7): the targets on the held-out sets, and the
evaluation's own bookkeeping checked against the filter."""

from __future__ import annotations

import sys
from dataclasses import replace

import pytest

from audit.items import text_item
from audit.safety import build_filter, packaged_policy
from audit.safety._lexicon import Lexicon, match
from audit.safety._texteval import (
    RESPELT,
    _action,
    is_test_term,
    list_respellings,
    text_eval,
)

POLICIES = ("default", "strict")


@pytest.fixture(scope="module")
def ev():
    # The runtime reads the shipped lexicon only: the dev-only source packages must not
    # be imported (a None entry in sys.modules makes any import of them fail).
    saved = {m: sys.modules.get(m) for m in ("better_profanity", "names")}
    sys.modules.update(dict.fromkeys(saved))
    try:
        return text_eval({p: packaged_policy(p) for p in POLICIES})
    finally:
        for m, mod in saved.items():
            if mod is None:
                del sys.modules[m]
            else:
                sys.modules[m] = mod


@pytest.mark.slow
def test_targets_on_the_held_out_evaluation(ev):
    for p in POLICIES:
        caught, fp = ev.caught_all[p], ev.false_positive_all[p]
        assert caught.value >= 0.95, (p, caught)
        assert fp.value <= 0.01, (p, fp)
        assert fp.n >= 5000, fp  # at least 5,000 real benign sentences
        assert ev.dictionary[p].k == 0, ev.flagged_words[p]  # no common word alone
        assert ev.dictionary[p].n >= 19_000
        # pooled rates are the sums of the parts (computed another way)
        assert caught.k == sum(r.k for r in ev.caught[p].values())
        assert fp.n == sum(r.n for r in ev.false_positive[p].values())
    # default flags abuse, strict blocks it: the same items caught, blocked only by strict
    for fam, r in ev.caught["strict"].items():
        assert ev.blocked["strict"][fam].k == r.k == ev.caught["default"][fam].k, fam
        assert ev.blocked["default"][fam].k == 0, fam
    assert ev.caught["default"][RESPELT].n > 0


@pytest.mark.slow
def test_results_carry_every_rate(ev):
    results = ev.results()
    by = {(r.variant, r.check, r.metric): r for r in results}
    for p in POLICIES:
        r = by[(p, "text/abuse/all", "detection_rate")]
        assert (r.value, r.n) == (ev.caught_all[p].value, ev.caught_all[p].n)
        for src, rate in ev.false_positive[p].items():
            got = by[(p, f"text/benign/{src}", "false_positive_rate")]
            assert (got.details["k"], got.n, got.ci_low) == (rate.k, rate.n, rate.ci_low)
    assert all(r.suite == "safety" and r.modality == "text" for r in results)


def test_one_screening_maps_to_what_each_policy_decides():
    # the evaluation screens once and maps decisions per policy; the filter of each
    # policy, screening on its own, must decide the same
    texts = ["you f*cking b1tch", "a lovely day", "sh!t happens", "the cockpit"]
    items = [text_item(f"t{i}", t) for i, t in enumerate(texts)]
    default = packaged_policy("default")
    abuse_only = replace(default, checkers={"abuse": default.checkers["abuse"]})
    decisions = [v.decisions for v in build_filter(abuse_only).screen(items)]
    for name in POLICIES:
        policy = packaged_policy(name)
        own = build_filter(replace(policy, checkers={"abuse": policy.checkers["abuse"]}))
        assert [_action(policy, d) for d in decisions] == [v.action for v in own.screen(items)]


def test_list_respellings_are_held_out_and_read_by_the_tune_half():
    lex = Lexicon.load()
    respelt, tune = list_respellings(lex)
    assert respelt and all(is_test_term(t) for t in respelt)
    assert not any(is_test_term(t) for t in tune.terms)
    assert set(respelt).isdisjoint(tune.terms)
    # by hand: "fook" (test half) respells "fuck" (tune half)
    assert "fook" in respelt and "fuck" in tune.terms
    assert match(tune, "fook off") == ("fuck", "phonetic")


@pytest.mark.slow
def test_safety_suite_text_part_stores_the_same_numbers(tmp_path, ev):
    from fakes import HashEmbedder

    from audit.config import RunConfig
    from audit.context import RunContext
    from audit.suites.safety import SafetySuite

    policy = tmp_path / "policy.toml"  # a run policy of its own: measured beside the two
    policy.write_text('[categories]\noffensive-term = "block"\n[checkers.terms]\nterms = ["x"]\n')
    config = RunConfig(
        suites=["safety"],
        quick=False,
        progress=False,
        suite_options={"safety": {"policy": str(policy), "parts": ["text"]}},
    )
    ctx = RunContext(embedder=HashEmbedder(), config=config, run_dir=tmp_path)
    got = {(r.variant, r.check, r.metric): r for r in SafetySuite().run(ctx)}
    want = {(r.variant, r.check, r.metric): r for r in ev.results()}
    assert set(want) <= set(got)
    for key, r in want.items():
        assert (got[key].value, got[key].n, got[key].details["k"]) == (
            r.value,
            r.n,
            r.details["k"],
        ), key
    # the run's policy has no abuse checker: it catches only what its term list holds
    assert got[("run-policy", "text/abuse/all", "detection_rate")].value < 0.5
