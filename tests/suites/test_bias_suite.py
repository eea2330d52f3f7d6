"""The bias suite against independent computations on the same embeddings.

A fake embedder (content hash -> vector) stands in for the model, so every number the
suite files can be recomputed here from the vectors with numpy and the scalar formulas.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import HashEmbedder

from audit.config import ConfigError, RunConfig
from audit.context import RunContext
from audit.datasets import Dataset, load_dataset, write_beir
from audit.embedders.base import BaseEmbedder
from audit.items import Item, text_item
from audit.projection import ProjectedEmbedder
from audit.registry import RegistryError
from audit.report import Result
from audit.suites._bias import (
    KINDS,
    BiasOptions,
    ProbeEnv,
    adjust_families,
    builtin_probes,
)
from audit.suites._summaries.bias import summary_text
from audit.suites.bias import BiasSuite, list_probes
from fairness.debias import PCADebiaser
from fairness.probes import (
    association_test,
    group_gap_test,
    holm_bonferroni,
    load_neutral_queries,
    load_weat_tests,
    max_skew_at_k,
    uniform_target,
)

EMOJI = "builtin:emoji-professions"
FAST = {
    "n_permutations": 300,
    "n_bootstrap": 50,
    "skew_permutations": 100,
    "gap_permutations": 100,
}


class MediaHash(HashEmbedder):
    """The shared fake, also accepting audio (the speech probe)."""

    modalities = frozenset({"text", "image", "audio"})


class TableEmbedder(BaseEmbedder):
    """Fixed vectors by text: the hand-built rankings below are known exactly."""

    name = "table"
    dim = 3
    modalities = frozenset({"text"})

    def __init__(self, table: dict[str, list[float]]) -> None:
        super().__init__()
        self.table = table
        self.progress = False

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        return np.array([self.table[str(it.content)] for it in items], dtype=np.float64)


def _ctx(tmp_path: Path, emb: Any, variants: dict | None = None, **opts: Any) -> RunContext:
    config = RunConfig(suites=["bias"], suite_options={"bias": opts}, seed=11, quick=True)
    return RunContext(embedder=emb, config=config, run_dir=tmp_path, variants=variants or {})


def _pick(results: list[Result], **sel: Any) -> Result:
    hits = [r for r in results if all(getattr(r, k) == v for k, v in sel.items())]
    assert len(hits) == 1, (sel, len(hits))
    return hits[0]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _projected(raw: Any) -> ProjectedEmbedder:
    """A fake "debiased" variant: a PCA projection (12 of 16 dims) over the raw embedder."""
    X = np.random.default_rng(0).normal(size=(200, raw.dim))
    return ProjectedEmbedder(raw, PCADebiaser(n_components=12).fit(X))


# -- the registry: one common test over every built-in probe ------------------------------
@pytest.fixture(scope="module")
def env() -> ProbeEnv:
    raw = MediaHash()
    loaded: dict[str, Dataset] = {}

    def loader(spec: str) -> Dataset:
        return loaded.setdefault(spec, load_dataset(spec))

    return ProbeEnv(
        variants={"raw": raw, "debiased": _projected(raw)},
        options=BiasOptions.parse({**FAST, "speech": True}, quick=True),
        dataset_loader=loader,
        seed_for=lambda s: len(s),
    )


@pytest.mark.parametrize("name", builtin_probes().order)
def test_every_registered_probe_files_well_formed_results(name, env):
    probe = builtin_probes().get(name)
    assert probe.kind in KINDS and name.startswith(f"{probe.kind}/") and probe.description
    assert probe.skip_reason(env) is None
    for variant, dim in (("raw", 16), ("debiased", 12)):
        results = probe.run(env, variant)
        assert results, name
        for r in results:
            assert r.suite == "bias" and r.variant == variant
            assert r.check.startswith(name.split("/")[0] + "/")
            assert r.check == name or r.check.startswith(f"{probe.kind}/")
            assert r.dim == dim or probe.kind == "projection-cost"
            assert r.value is None or math.isfinite(r.value)
            if r.p_value is not None:
                assert 0.0 < r.p_value <= 1.0
            if r.ci_low is not None:
                assert r.ci_low <= r.ci_high
        if probe.is_association:
            assert [r.metric for r in results] == ["effect_size"] and results[0].check == name


def test_list_probes_covers_the_registry():
    listed = dict(list_probes())
    assert list(listed) == builtin_probes().order
    assert {"weat/weat6", "seat/weat6", "skew/emoji-professions"} <= set(listed)
    assert any(n.startswith("xmodal/") for n in listed)
    assert listed["weat/weat6"].startswith("[weat] ")


# -- each kind of statistic against a direct computation ---------------------------------
def test_cross_modal_effect_size_equals_direct_computation(tmp_path):
    emb = MediaHash()
    ctx = _ctx(tmp_path, emb, probes=["xmodal/emoji-gender-career"], debias="none", **FAST)
    results = BiasSuite().run(ctx)
    res = _pick(results, check="xmodal/emoji-gender-career", variant="raw")
    assert res.modality == "image|text" and res.metric == "effect_size"

    ds = load_dataset(EMOJI)
    weat6 = load_weat_tests()["weat6"]
    direct = MediaHash()
    X = direct.embed([it for it in ds.corpus if it.attributes["gender"] == "man"])
    Y = direct.embed([it for it in ds.corpus if it.attributes["gender"] == "woman"])
    A, B = (
        direct.embed([text_item(f"w{i}", w) for i, w in enumerate(ws.words)])
        for ws in weat6.attributes
    )
    s = lambda W: (_unit(W) @ _unit(A).T).mean(1) - (_unit(W) @ _unit(B).T).mean(1)  # noqa: E731
    d = (s(X).mean() - s(Y).mean()) / np.concatenate([s(X), s(Y)]).std(ddof=1)
    assert res.value == pytest.approx(d, abs=1e-5)
    assert res.n == 240 and res.details["n_targets"] == [120, 120]
    assert res.details["statistic"] == pytest.approx(s(X).sum() - s(Y).sum(), abs=1e-4)
    again = association_test(
        X,
        Y,
        A,
        B,
        n_permutations=300,
        n_bootstrap=50,
        random_state=ctx.seed_for("bias/xmodal/emoji-gender-career"),
    )
    assert res.p_value == pytest.approx(again.p_value) and res.ci_low == pytest.approx(again.ci_low)


def test_emoji_skew_equals_direct_computation(tmp_path):
    ctx = _ctx(tmp_path, MediaHash(), probes=["skew/*"], debias="none", **FAST)
    results = BiasSuite().run(ctx)
    ds = load_dataset(EMOJI)
    direct = MediaHash()
    qs = load_neutral_queries("professions")
    qv = direct.embed([text_item(q.id, q.text) for q in qs], purpose="query")
    gv = direct.embed(ds.corpus)
    scores = (qv.astype(np.float64) @ gv.astype(np.float64).T).astype(np.float32)
    for attribute in ("gender", "skin_tone"):
        labels = np.array([it.attributes[attribute] for it in ds.corpus])
        target = uniform_target(list(labels))
        for k in (10, 20):
            expect = np.mean(
                [
                    max_skew_at_k(list(labels[np.argsort(-row, kind="stable")]), target, k)
                    for row in scores
                ]
            )
            got = _pick(
                results,
                check=f"skew/emoji-professions/{attribute}",
                metric=f"max_skew@{k}",
                variant="raw",
            )
            assert got.value == pytest.approx(expect, abs=1e-9)
            assert got.n == 60 and got.details["target_rule"].startswith("uniform")
            assert got.details["k"] == k and got.details["gallery_size"] == 360
            groups = sorted(set(labels))
            per_group = [r for r in results if r.metric == f"skew@{k}" and r.check == got.check]
            assert sorted(r.group for r in per_group) == groups


def test_emoji_disparity_equals_direct_computation(tmp_path):
    ctx = _ctx(
        tmp_path,
        MediaHash(),
        probes=["disparity/emoji-professions"],
        debias="none",
        disparity_metrics=["recall@10"],
        **FAST,
    )
    results = BiasSuite().run(ctx)
    ds = load_dataset(EMOJI)
    direct = MediaHash()
    qids = list(ds.qrels)
    by_id = ds.queries_by_id()
    qv = direct.embed([by_id[q] for q in qids], purpose="query")
    cv = direct.embed(ds.corpus)
    order = np.argsort(-(qv.astype(np.float64) @ cv.astype(np.float64).T), axis=1)[:, :10]
    cids = np.array([it.id for it in ds.corpus])
    gender = {it.id: it.attributes["gender"] for it in ds.corpus}
    table = np.zeros((len(qids), 3))
    for i, q in enumerate(qids):
        top = set(cids[order[i]])
        for j, g in enumerate(("man", "person", "woman")):
            rel = [c for c, grade in ds.qrels[q].items() if grade > 0 and gender[c] == g]
            table[i, j] = len(top & set(rel)) / len(rel)
    means = table.mean(axis=0)
    for j, g in enumerate(("man", "person", "woman")):
        got = _pick(
            results,
            check="disparity/emoji-professions/gender",
            metric="recall@10",
            group=g,
            variant="raw",
        )
        assert got.value == pytest.approx(means[j])
    gap = _pick(
        results,
        check="disparity/emoji-professions/gender",
        metric="recall@10_difference",
        variant="raw",
    )
    assert gap.value == pytest.approx(means.max() - means.min())
    ratio = _pick(
        results, check="disparity/emoji-professions/gender", metric="recall@10_ratio", variant="raw"
    )
    assert ratio.value == pytest.approx(means.min() / means.max() if means.max() else 0.0)
    expect_p = group_gap_test(
        table, n_permutations=100, random_state=ctx.seed_for("bias/disparity/emoji-professions")
    )
    assert gap.p_value == pytest.approx(expect_p.p_value)


# -- skew and disparity on hand-built rankings (a group absent from the top k) ----------
def _tiny(tmp_path: Path) -> tuple[str, TableEmbedder]:
    """9 texts in groups a, b, c; query q1 scores them by s1, q2 by s2 (known rankings)."""
    s1 = {"a1": 9, "a2": 8, "b1": 7, "a3": 6, "b2": 5, "b3": 4, "c1": 3, "c2": 2, "c3": 1}
    s2 = {"c2": 9, "b1": 8, "c1": 7, "a2": 6, "c3": 5, "b3": 4, "a1": 3, "b2": 2, "a3": 1}
    table = {}
    for name in s1:
        x, y = 0.06 * s1[name], 0.06 * s2[name]
        table[name] = [x, y, math.sqrt(1 - x * x - y * y)]
    table["q1"], table["q2"] = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
    corpus = [text_item(n, n, g=n[0]) for n in sorted(s1)]
    queries = [text_item("q1", "q1"), text_item("q2", "q2")]
    qrels = {"q1": {"a1": 1, "b2": 1, "c3": 1}, "q2": {"a2": 1, "b1": 1, "c1": 1}}
    root = write_beir(Dataset("tiny", None, corpus, queries, qrels), tmp_path / "tiny")
    return str(root), TableEmbedder(table)


def _ndkl(prefix_shares: list[list[float]]) -> float:
    kl = [sum(p * math.log(3 * p) for p in shares if p > 0) for shares in prefix_shares]
    w = [1 / math.log2(i + 2) for i in range(len(kl))]
    return sum(a * b for a, b in zip(kl, w, strict=True)) / sum(w)


def test_skew_on_hand_built_rankings_with_absent_group(tmp_path):
    spec, emb = _tiny(tmp_path)
    ctx = _ctx(
        tmp_path,
        emb,
        probes=["skew/*"],
        debias="none",
        skew_k=[4],
        skew_datasets=[{"dataset": spec, "attributes": ["g"], "queries": "dataset"}],
        **FAST,
    )
    results = BiasSuite().run(ctx)
    ln = math.log
    # q1 top 4: a a b a (c absent -> share 1/k = 1/4); q2 top 4: c b c a.
    max_skew = _pick(results, metric="max_skew@4", variant="raw")
    assert max_skew.check == "skew/tiny/g"
    assert max_skew.value == pytest.approx((ln(2.25) + ln(1.5)) / 2)
    assert _pick(results, metric="min_skew@4", variant="raw").value == pytest.approx(ln(0.75))
    per_group = {r.group: r for r in results if r.metric == "skew@4"}
    assert per_group["a"].value == pytest.approx((ln(2.25) + ln(0.75)) / 2)
    assert per_group["b"].value == pytest.approx(ln(0.75))
    assert per_group["c"].value == pytest.approx((ln(0.75) + ln(1.5)) / 2)
    assert per_group["c"].details["absent_in_queries"] == 1
    assert max_skew.details["absent_by_group"] == {"a": 0, "b": 0, "c": 1}
    q1 = _ndkl([[1, 0, 0], [1, 0, 0], [2 / 3, 1 / 3, 0], [3 / 4, 1 / 4, 0]])
    q2 = _ndkl([[0, 0, 1], [0, 1 / 2, 1 / 2], [0, 1 / 3, 2 / 3], [1 / 4, 1 / 4, 1 / 2]])
    assert _pick(results, metric="ndkl@4", variant="raw").value == pytest.approx((q1 + q2) / 2)


def test_disparity_on_hand_built_rankings(tmp_path):
    spec, emb = _tiny(tmp_path)
    ctx = _ctx(
        tmp_path,
        emb,
        probes=["disparity/*"],
        debias="none",
        disparity_metrics=["recall@4"],
        disparity_datasets=[{"dataset": spec, "attributes": ["g"]}],
        **FAST,
    )
    results = BiasSuite().run(ctx)
    # q1 ranks a1 1st, b2 5th, c3 9th; q2 ranks b1 2nd, c1 3rd, a2 4th.
    got = {r.group: r.value for r in results if r.metric == "recall@4" and r.variant == "raw"}
    assert got == {"a": 1.0, "b": 0.5, "c": 0.5}
    gap = _pick(results, metric="recall@4_difference", variant="raw")
    assert gap.value == pytest.approx(0.5) and gap.details["worst_group"] in ("b", "c")
    # Every arrangement of [[1,0,0],[1,1,1]] has gap 0.5: the exact p-value is 1.
    assert gap.p_value == pytest.approx(1.0) and gap.details["gap_test"]["method"] == "exact"
    assert _pick(results, metric="recall@4_ratio", variant="raw").value == pytest.approx(0.5)


# -- variants side by side ---------------------------------------------------------------
SIDE = [
    "weat/weat1",
    "xmodal/emoji-gender-career",
    "skew/*",
    "disparity/emoji-professions",
    "projection-cost/*",
]


def test_variants_side_by_side_with_deltas_and_holm(tmp_path):
    raw = MediaHash()
    deb = _projected(raw)
    ctx = _ctx(tmp_path, raw, variants={"raw": raw, "debiased": deb}, probes=SIDE, **FAST)
    results = BiasSuite().run(ctx)
    by = {v: [r for r in results if r.variant == v] for v in ("raw", "debiased", "delta")}
    key = lambda r: (r.check, r.metric, r.group, r.details.get("size_label"))  # noqa: E731
    assert {key(r) for r in by["raw"]} - {("coverage", "probes_run", None, None)} == {
        key(r) for r in by["debiased"]
    }
    assert all(r.dim == 12 for r in by["debiased"] if not r.check.startswith("projection-cost"))
    raw_of = {key(r): r for r in by["raw"]}
    deb_of = {key(r): r for r in by["debiased"]}
    assert by["delta"]
    for d in by["delta"]:
        assert d.group is None
        assert d.value == pytest.approx(deb_of[key(d)].value - raw_of[key(d)].value)
    weat = _pick(by["delta"], check="weat/weat1")
    assert weat.details["abs_change"] == pytest.approx(
        abs(deb_of[key(weat)].value) - abs(raw_of[key(weat)].value)
    )
    # Holm within each family (issue 18: variant and test kind, not the whole variant),
    # stored once as p_adjusted/p_family; the families are rebuilt here by hand.
    for v in ("raw", "debiased"):
        tested = [r for r in by[v] if r.p_value is not None]
        kinds = {r.check.split("/")[0] for r in tested}
        assert len(kinds) > 1  # several families, so the split is exercised
        for kind in kinds:
            fam = [r for r in tested if r.check.split("/")[0] == kind]
            expect = holm_bonferroni([r.p_value for r in fam])
            assert [r.p_adjusted for r in fam] == pytest.approx(expect)
            assert {r.p_family for r in fam} == {f"holm:bias/{v}/{kind} (m={len(fam)})"}
        assert all(r.test is not None for r in tested)
    # Cost at each size: native 16 vs 12, then the shared truncation sizes.
    cost = {
        (r.variant, r.details["size_label"]): r.dim
        for r in results
        if r.check == "projection-cost/emoji-professions" and r.metric == "recall@10"
    }
    assert cost[("raw", "native")] == 16 and cost[("debiased", "native")] == 12
    cover = _pick(results, check="coverage")
    assert cover.details["variants"] == ["raw", "debiased"] and cover.value == len(SIDE)


def test_debiased_variant_reuses_raw_embeddings(tmp_path):
    alone = MediaHash()
    BiasSuite().run(_ctx(tmp_path / "a", alone, probes=SIDE, debias="none", **FAST))
    paired = MediaHash()
    variants = {"raw": paired, "debiased": _projected(paired)}
    BiasSuite().run(_ctx(tmp_path / "b", paired, variants=variants, probes=SIDE, **FAST))
    # The projection is computed from the raw vectors: no item is embedded a second time.
    assert len(paired.calls) == len(alone.calls) == len(set(alone.calls))


def test_builtin_projection_when_none_is_configured(tmp_path):
    raw = MediaHash()
    results = BiasSuite().run(_ctx(tmp_path, raw, probes=["weat/weat7"], **FAST))
    deb = _pick(results, check="weat/weat7", variant="debiased")
    assert deb.details["projection"]["dataset"] == "builtin:gendered-sentences"
    assert "man" in deb.details["fit_overlap"]  # WEAT 7 male terms are in the fit data
    assert _pick(results, check="weat/weat7", variant="delta").value is not None


# -- options: `tests` alone, probe files, skips ------------------------------------------
def test_tests_option_runs_only_those_tests(tmp_path):
    emb = MediaHash()
    (res,) = BiasSuite().run(_ctx(tmp_path, emb, tests=["weat6"], **FAST))
    assert res.check == "weat/weat6" and res.variant == "raw"
    spec = load_weat_tests()["weat6"]
    assert len(emb.calls) == sum(len(ws.words) for ws in (*spec.targets, *spec.attributes))
    with pytest.raises(RegistryError, match="weat99"):
        BiasSuite().run(_ctx(tmp_path, emb, tests=["weat99"]))
    with pytest.raises(ConfigError, match="not an association test"):
        BiasSuite().run(_ctx(tmp_path, emb, tests=["skew/emoji-professions"]))
    with pytest.raises(ConfigError, match="unknown option"):
        BiasSuite().run(_ctx(tmp_path, emb, test=["weat6"]))


def test_probe_file_adds_user_tests(tmp_path):
    words = {"x": ["alpha", "beta"], "y": ["gamma", "delta"], "a": ["up"], "b": ["down"]}
    sets = lambda *ks: [{"name": k, "stimuli": words[k]} for k in ks]  # noqa: E731
    doc = {
        "probes": [
            {"name": "greek", "targets": sets("x", "y"), "attributes": sets("a", "b")},
            {
                "name": "greek-seat",
                "templates": ["This is {w}."],
                "targets": sets("x", "y"),
                "attributes": sets("a", "b"),
            },
        ]
    }
    path = tmp_path / "probes.json"
    path.write_text(json.dumps(doc))
    emb = MediaHash()
    results = BiasSuite().run(
        _ctx(tmp_path, emb, probe_files=[str(path)], probes=["*/greek*"], debias="none", **FAST)
    )
    plain = _pick(results, check="weat/greek")
    seat = _pick(results, check="seat/greek-seat")
    direct = MediaHash()
    vec = lambda ts: direct.embed([text_item(t, t) for t in ts])  # noqa: E731
    expect = association_test(
        vec(words["x"]), vec(words["y"]), vec(["up"]), vec(["down"]), n_bootstrap=0
    )
    assert plain.value == pytest.approx(expect.effect_size, abs=1e-5)
    assert plain.details["p_value_method"] == "exact" and plain.p_value == expect.p_value
    assert seat.details["templates"] == ["This is {w}."]
    # A user test may not take a built-in name; a bad file is a clear error.
    path.write_text(json.dumps({"probes": [{**doc["probes"][0], "name": "weat1"}]}))
    with pytest.raises(RegistryError, match="already registered"):
        BiasSuite().run(_ctx(tmp_path, emb, probe_files=[str(path)]))
    path.write_text(json.dumps({"probes": [{"name": "bad"}]}))
    with pytest.raises(ValueError, match="'targets' must be a list of exactly 2 sets"):
        BiasSuite().run(_ctx(tmp_path, emb, probe_files=[str(path)]))


def test_probe_needing_audio_is_skipped_with_its_reason(tmp_path):
    emb = HashEmbedder()  # text and image only
    results = BiasSuite().run(
        _ctx(
            tmp_path,
            emb,
            probes=["disparity/speech", "weat/weat1"],
            speech=True,
            debias="none",
            **FAST,
        )
    )
    cover = _pick(results, check="coverage")
    assert cover.details["run"] == ["weat/weat1"]
    assert "does not accept audio" in cover.details["skipped"]["disparity/speech"]
    text = summary_text(results)
    assert "not run: disparity/speech (the embedder does not accept audio)" in text


def test_summary_names_effects_significant_after_holm():
    def res(check: str, p: float, d: float) -> Result:
        return Result(
            suite="bias",
            check=check,
            metric="effect_size",
            value=d,
            p_value=p,
            modality="text",
            details={"description": f"{check}. more"},
        )

    results = [
        res("weat/weat1", 0.001, 1.2),
        res("weat/weat6", 0.03, 0.9),
        res("weat/weat9", 0.5, 0.1),
    ]
    adjust_families(results)  # 0.003, 0.06, 0.5: weat6 is below 0.05 raw but not after Holm
    assert [r.p_adjusted for r in results] == pytest.approx([0.003, 0.06, 0.5])
    text = summary_text(results)
    assert "1 of 3 association tests significant (raw): weat/weat1 d=+1.20" in text
    assert "weat/weat6 d=" not in text.split("Verdict:")[1]
    assert "+1.20*" in text and "+0.90 " in text


@pytest.mark.parametrize(
    ("spec", "label"),
    [
        ("builtin:emoji-professions", "emoji-professions"),
        ("/data/gallery.csv", "gallery-csv"),
        ("/data/my gallery v2.parquet/", "my-gallery-v2-parquet"),
        ("hf:org/set name", "set-name"),
    ],
)
def test_probe_names_from_dataset_paths_are_registrable(spec, label):
    """A gallery given as a file path (dots, spaces) gives a valid probe name, not a crash."""
    from audit.suites._bias._cost import CostProbe
    from audit.suites._bias._probe import ProbeRegistry
    from audit.suites._bias._ranking import DisparityProbe, SkewProbe

    text = frozenset({"text"})
    probes = [
        SkewProbe(spec, ("g",), "dataset", text),
        DisparityProbe(spec, ("g",), text),
        CostProbe(spec, text),
    ]
    assert [p.name for p in probes] == [
        f"{k}/{label}" for k in ("skew", "disparity", "projection-cost")
    ]
    registry = ProbeRegistry()
    for p in probes:
        registry.register(p.name, p)  # raised "invalid probe name" for dotted paths


def test_association_tests_are_two_sided_by_default_with_a_one_sided_option(tmp_path):
    # Issue 18: the suite's association p-value is the two-sided one of fairness.probes
    # (checked there against scipy.stats.permutation_test); alternative="greater" keeps
    # Caliskan's one-sided test. The user probe has 2 + 2 targets: C(4, 2) = 6 partitions,
    # so no p-value can reach alpha and the result says so (too_few).
    words = {"x": ["alpha", "beta"], "y": ["gamma", "delta"], "a": ["up"], "b": ["down"]}
    sets = lambda *ks: [{"name": k, "stimuli": words[k]} for k in ks]  # noqa: E731
    doc = {"probes": [{"name": "greek", "targets": sets("x", "y"), "attributes": sets("a", "b")}]}
    path = tmp_path / "probes.json"
    path.write_text(json.dumps(doc))
    direct = MediaHash()
    vec = lambda ts: direct.embed([text_item(t, t) for t in ts])  # noqa: E731
    X, Y, A, B = vec(words["x"]), vec(words["y"]), vec(["up"]), vec(["down"])
    kw = dict(probe_files=[str(path)], probes=["weat/greek"], debias="none", **FAST)
    for alternative in (None, "greater"):
        extra = {"alternative": alternative} if alternative else {}
        res = _pick(BiasSuite().run(_ctx(tmp_path, MediaHash(), **kw, **extra)), check="weat/greek")
        expect = association_test(X, Y, A, B, n_bootstrap=0, alternative=alternative or "two-sided")
        assert res.p_value == expect.p_value
        assert res.test.sidedness == (alternative or "two-sided")
        assert res.test.statistic == pytest.approx(expect.statistic, abs=1e-6)
        assert res.p_adjusted is not None and res.p_family == "holm:bias/raw/weat (m=1)"
        sides = 1 if alternative else 2
        assert f"smallest possible p-value is {sides / 6:.3g}" in res.too_few
    with pytest.raises(ConfigError, match="alternative must be one of"):
        BiasSuite().run(_ctx(tmp_path, MediaHash(), **kw, alternative="both"))
