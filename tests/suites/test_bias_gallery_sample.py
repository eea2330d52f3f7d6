"""Skew over a sampled gallery: stratified allocation, the draws, and what the report says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import HashEmbedder

from audit.config import ConfigError, RunConfig
from audit.context import RunContext
from audit.datasets import Dataset, write_beir
from audit.items import text_item
from audit.report import Result
from audit.suites._bias import BiasOptions
from audit.suites._bias._sampling import allocate, sample_gallery
from audit.suites.bias import BiasSuite
from fairness.probes import max_skew_at_k, uniform_target

FAST = {"n_bootstrap": 20, "skew_permutations": 20, "gap_permutations": 20}
SIZES = {"a": 180, "b": 90, "c": 30}
QUERIES = ["a nurse", "an engineer", "a teacher", "a pilot"]


def test_allocation_by_hand() -> None:
    assert allocate({"a": 50, "b": 30, "c": 20}, 10) == {"a": 5, "b": 3, "c": 2}
    # Quotas 9.7, 0.2, 0.1: floors 9, 0, 0; the remainder goes to a (0.7); then b and c
    # get one item each, taken from a.
    assert allocate({"a": 97, "b": 2, "c": 1}, 10) == {"a": 8, "b": 1, "c": 1}
    # Quotas 1.5 each: equal remainders go by group name.
    assert allocate({"b": 10, "a": 10}, 3) == {"a": 2, "b": 1}
    with pytest.raises(ValueError, match=r"between 3 .* and 100 items, got 2"):
        allocate({"a": 97, "b": 2, "c": 1}, 2)


def test_stratified_sample_counts_seed_and_uniformity_within_groups() -> None:
    labels = [g for g, n in SIZES.items() for _ in range(n)]
    rng = np.random.default_rng(0)
    labels = [labels[i] for i in rng.permutation(len(labels))]  # groups interleaved
    s = sample_gallery(labels, 30, method="stratified", seed=5)
    assert s.counts_sample == {"a": 18, "b": 9, "c": 3} and s.counts_population == SIZES
    assert Counter(labels[i] for i in s.rows) == Counter(s.counts_sample)
    assert np.all(np.diff(s.rows) > 0) and s.n_population == 300
    again = sample_gallery(labels, 30, method="stratified", seed=5)
    np.testing.assert_array_equal(again.rows, s.rows)
    assert not np.array_equal(sample_gallery(labels, 30, method="stratified", seed=6).rows, s.rows)
    # Within a group every item is equally likely: inclusion rate = allocation / size.
    hits = np.zeros(300)
    for seed in range(2000):
        hits[sample_gallery(labels, 30, method="stratified", seed=seed).rows] += 1
    arr = np.asarray(labels)
    for g, n in SIZES.items():
        rate = hits[arr == g] / 2000
        expected = s.counts_sample[g] / n  # 0.1 for every group here
        assert abs(rate.mean() - expected) < 1e-12  # exact: the allocation is fixed
        assert np.abs(rate - expected).max() < 0.045  # ~6 sd of a binomial(2000, 0.1) share


def test_uniform_and_whole_gallery() -> None:
    labels = ["a"] * 90 + ["b"] * 10
    u = sample_gallery(labels, 20, method="uniform", seed=1)
    assert len(u.rows) == len(set(u.rows.tolist())) == 20 and u.method == "uniform"
    assert sum(u.counts_sample.values()) == 20 and "allocation" not in u.details()
    whole = sample_gallery(labels, 100, method="stratified", seed=1)
    assert whole.method == "none" and whole.rows.tolist() == list(range(100))
    assert sample_gallery(labels, None, method="uniform", seed=1).method == "none"
    with pytest.raises(ValueError, match="unknown sampling method"):
        sample_gallery(labels, 5, method="systematic", seed=1)


def _gallery(tmp_path: Path) -> str:
    corpus = [
        text_item(f"{g}{i:03d}", f"photo {g} number {i}", g=g)
        for g, n in SIZES.items()
        for i in range(n)
    ]
    ds = Dataset("big-gallery", None, corpus, [text_item("q", "q")], {"q": {"a000": 1}})
    return str(write_beir(ds, tmp_path / "big-gallery"))


def _run(tmp_path: Path, emb: HashEmbedder, **opts: Any) -> tuple[list[Result], RunContext]:
    spec = _gallery(tmp_path)
    options = {
        "probes": ["skew/*"],
        "debias": "none",
        "skew_k": [5],
        "skew_datasets": [{"dataset": spec, "attributes": ["g"], "queries": QUERIES}],
        **FAST,
        **opts,
    }
    config = RunConfig(suites=["bias"], suite_options={"bias": options}, seed=11, quick=True)
    ctx = RunContext(embedder=emb, config=config, run_dir=tmp_path, variants={})
    return BiasSuite().run(ctx), ctx


def test_skew_on_a_stratified_sample_reports_it_and_ranks_only_it(tmp_path: Path) -> None:
    emb = HashEmbedder(dim=16)
    results, ctx = _run(tmp_path, emb, gallery_sample=30)
    max_skew = next(r for r in results if r.metric == "max_skew@5")
    d = max_skew.details
    sampling = d["gallery_sampling"]
    assert sampling["n_sample"] == 30 and sampling["n_population"] == 300
    assert sampling["method"] == "stratified" and "largest remainder" in sampling["allocation"]
    assert sampling["seed"] == ctx.seed_for("bias/gallery-sample/big-gallery/g")
    assert sampling["counts_sample"] == {"a": 18, "b": 9, "c": 3}
    assert sampling["counts_population"] == SIZES
    assert d["gallery_size"] == 30
    assert d["gallery_shares"] == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1})
    # Only the sampled items were embedded, and they are the counts reported.
    embedded = [i for i in emb.calls if i[0] in "abc" and i[1:].isdigit()]
    assert len(embedded) == 30 and Counter(i[0] for i in embedded) == {"a": 18, "b": 9, "c": 3}
    # The value: MaxSkew@5 over exactly those 30 items, computed directly.
    gallery = sorted(embedded)
    items = [text_item(i, f"photo {i[0]} number {int(i[1:])}") for i in gallery]
    fresh = HashEmbedder(dim=16)
    qv = fresh.embed([text_item(f"q/{j}", t) for j, t in enumerate(QUERIES)], purpose="query")
    gv = fresh.embed(items)
    scores = (qv.astype(np.float64) @ gv.astype(np.float64).T).astype(np.float32)
    labels = np.array([i[0] for i in gallery])
    target = uniform_target(list(labels))
    expect = np.mean(
        [max_skew_at_k(list(labels[np.argsort(-row, kind="stable")]), target, 5) for row in scores]
    )
    assert max_skew.value == pytest.approx(expect, abs=1e-9)
    per_group = [r for r in results if r.metric == "skew@5"]
    assert {r.group for r in per_group} == {"a", "b", "c"}
    assert all(r.details["gallery_sampling"] == sampling for r in per_group)
    assert d["engine"] == "faiss-flat" and d["search_exact"] is True


def test_whole_gallery_by_default_and_ivf_recall_reported(tmp_path: Path) -> None:
    results, _ = _run(
        tmp_path,
        HashEmbedder(dim=16),
        engine="faiss-ivf",
        engine_params={"nlist": 10, "nprobe": 1},
    )
    r = next(r for r in results if r.metric == "ndkl@5")
    assert r.details["gallery_sampling"]["method"] == "none"
    assert r.details["gallery_size"] == 300
    assert r.details["engine"] == "faiss-ivf" and r.details["search_recall_k"] == 5
    assert 0.0 <= r.details["search_recall"] <= 1.0 and r.details["search_recall_queries"] == 4


@pytest.mark.parametrize(
    ("opts", "match"),
    [
        ({"gallery_sample": -1}, "gallery_sample must be an int >= 0"),
        ({"gallery_sample_method": "cluster"}, "gallery_sample_method must be one of"),
        ({"engine": "faiss-ivff"}, "engine must be one of"),
        ({"engine_params": {"bogus": 1}}, r"unknown key\(s\) \['bogus'\]"),
    ],
)
def test_bad_options(opts: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        BiasOptions.parse(opts, quick=True)
