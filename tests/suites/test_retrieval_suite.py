"""The retrieval suite against independent computations on the same embeddings."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import HashEmbedder
from PIL import Image

from audit.cache import CachedEmbedder
from audit.config import ConfigError, RunConfig
from audit.context import RunContext
from audit.datasets import Dataset
from audit.embedders.base import BaseEmbedder
from audit.items import Item, text_item
from audit.report import Result
from audit.suites import suite_summary
from audit.suites._retrieval import default_sizes
from audit.suites.retrieval import RetrievalSuite, subsample

GENDERS = ("man", "woman", "person")
TONES = ("light", "dark")


def _png(seed: int) -> bytes:
    rgb = np.random.default_rng(seed).integers(0, 255, size=(6, 6, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def _professions() -> Dataset:
    """Emoji-professions in miniature: neutral text queries, images with gender/skin tone."""
    corpus, queries, qrels = [], [], {}
    for p in range(6):
        queries.append(text_item(f"q{p}", f"profession number {p}"))
        qrels[f"q{p}"] = {}
        for gi, g in enumerate(GENDERS):
            for ti, t in enumerate(TONES):
                cid = f"p{p}.{g}.{t}"
                attrs = {"gender": g, "skin_tone": t}
                corpus.append(Item(cid, "image", _png(100 * p + 10 * gi + ti), attrs))
                qrels[f"q{p}"][cid] = 2 if g == "person" else 1  # graded
    for d in range(8):  # distractors without group attributes
        corpus.append(Item(f"z{d}", "image", _png(9000 + d)))
    card = {"group_attributes": ["gender", "skin_tone"]}
    return Dataset("mini-professions", None, corpus, queries, qrels, card=card)


def _ctx(tmp_path: Path, embedder: Any, variants: dict | None = None, **opts: Any) -> RunContext:
    config = RunConfig(suites=["retrieval"], suite_options={"retrieval": opts}, seed=7)
    return RunContext(embedder=embedder, config=config, run_dir=tmp_path, variants=variants or {})


def _run(ds: Dataset | list[Dataset], ctx: RunContext) -> list[Result]:
    return RetrievalSuite(ds if isinstance(ds, list) else [ds]).run(ctx)


def _pick(results: list[Result], **sel: Any) -> Result:
    hits = [r for r in results if all(getattr(r, k) == v for k, v in sel.items())]
    assert len(hits) == 1, (sel, len(hits))
    return hits[0]


# -- an independent implementation: full score matrix, lexsort, metrics from definitions --
def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _rankings(qv: np.ndarray, cv: np.ndarray, cids: list[str]) -> list[list[str]]:
    scores = (qv.astype(np.float64) @ cv.astype(np.float64).T).astype(np.float32)
    id_rank = np.argsort(np.argsort(np.array(cids)))
    return [[cids[i] for i in np.lexsort((id_rank, -row))] for row in scores]


def _metric(name: str, ranking: list[str], judged: dict[str, int]) -> float:
    kind, k = name.split("@")
    k = int(k)
    rel = {d for d, g in judged.items() if g > 0}
    top = ranking[:k]
    if kind == "recall":
        return len(rel & set(top)) / len(rel)
    if kind == "hit":
        return float(bool(rel & set(top)))
    if kind == "mrr":
        return next((1.0 / (i + 1) for i, d in enumerate(top) if d in rel), 0.0)
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(top))
    ideal = sorted((judged[d] for d in rel), reverse=True)[:k]
    return dcg / sum(g / math.log2(i + 2) for i, g in enumerate(ideal))


def _expected(ds: Dataset, qv: np.ndarray, cv: np.ndarray, metric: str) -> float:
    ranks = _rankings(qv, cv, [c.id for c in ds.corpus])
    vals = [_metric(metric, r, ds.qrels[q.id]) for r, q in zip(ranks, ds.queries, strict=True)]
    return float(np.mean(vals))


METRICS = ("recall@1", "recall@5", "recall@10", "ndcg@5", "ndcg@10", "mrr@10", "hit@1", "hit@10")


def test_numbers_equal_an_independent_computation(tmp_path: Path) -> None:
    ds = _professions()
    emb = HashEmbedder(dim=16)
    results = _run(ds, _ctx(tmp_path, emb, sizes=[16, 8, 4], latency_items=0, n_bootstrap=50))
    qv = emb.embed(ds.queries, purpose="query")
    cv = emb.embed(ds.corpus, purpose="index")
    for dim in (16, 8, 4):
        q, c = _unit(qv[:, :dim]), _unit(cv[:, :dim])
        for metric in METRICS:
            r = _pick(results, metric=metric, dim=dim, group=None, variant="raw")
            assert r.value == pytest.approx(_expected(ds, q, c, metric), abs=1e-12)
            assert r.n == 6 and r.modality == "text->image" and r.check == "mini-professions"
            assert r.ci_low is not None and r.ci_low <= r.value <= r.ci_high
        parts = [_expected(ds, q, c, f"recall@{k}") for k in (1, 5, 10)]
        avg = _pick(results, metric="avg_recall", dim=dim, group=None)
        assert avg.value == pytest.approx(np.mean(parts), abs=1e-12)
        hits = [_expected(ds, q, c, f"hit@{k}") for k in (1, 5, 10)]
        assert _pick(results, metric="avg_hit", dim=dim, group=None).value == pytest.approx(
            np.mean(hits), abs=1e-12
        )


def test_sizes_dims_and_untrained_marking(tmp_path: Path) -> None:
    ds = _professions()
    results = _run(ds, _ctx(tmp_path, HashEmbedder(dim=16), sizes=[4, 16, 8], latency_items=0))
    overall = [r for r in results if r.metric == "ndcg@10" and r.group is None]
    assert sorted(r.dim for r in overall) == [4, 8, 16]
    kinds = {r.dim: r.details["truncation"] for r in overall}
    assert kinds == {16: "native", 8: "untrained", 4: "untrained"}
    assert {r.details["size_source"] for r in overall if r.dim != 16} == {
        "truncated and re-normalised"
    }

    class Mrl(HashEmbedder):
        matryoshka_dims = (16, 8)

    results = _run(ds, _ctx(tmp_path, Mrl(dim=16), latency_items=0, n_bootstrap=0))
    kinds = {r.dim: r.details["truncation"] for r in results if r.metric == "ndcg@10"}
    assert kinds == {16: "native", 8: "trained"}  # default sizes: native + Matryoshka


def test_default_sizes_for_non_mrl_and_mrl_models() -> None:
    assert default_sizes(HashEmbedder(dim=384)) == [384, 256, 128, 64]
    assert default_sizes(HashEmbedder(dim=768)) == [768, 512, 256, 128, 64]

    class Nova(HashEmbedder):
        matryoshka_dims = (3072, 1024, 384, 256)

    assert default_sizes(Nova(dim=3072)) == [3072, 1024, 384, 256]


class _Serving(HashEmbedder):
    """Serves 8-d vectors itself (different from truncation), like Nova's MRL sizes."""

    served_dims = (16, 8)

    def embed(self, items, *, purpose="index", dim=None):  # type: ignore[no-untyped-def]
        if dim == 8:
            self.served_calls = getattr(self, "served_calls", 0) + len(items)
            return _unit(super().embed(items, purpose=purpose)[:, 8:])
        return super().embed(items, purpose=purpose, dim=dim)


def test_each_item_embedded_once_and_served_sizes_requested(tmp_path: Path) -> None:
    ds = _professions()
    emb = _Serving(dim=16)
    results = _run(ds, _ctx(tmp_path, emb, sizes=[16, 8, 4], latency_items=0, n_bootstrap=0))
    n_items = len(ds.corpus) + len(ds.queries)
    # Native once, plus the served 8-d call; the 4-d vectors come from truncation.
    assert len(emb.calls) == 2 * n_items and emb.served_calls == n_items
    ref = HashEmbedder(dim=16)
    q = _unit(ref.embed(ds.queries)[:, 8:])
    c = _unit(ref.embed(ds.corpus)[:, 8:])
    r = _pick(results, metric="ndcg@10", dim=8, group=None)
    assert r.details["size_source"] == "served by the embedder"
    assert r.value == pytest.approx(_expected(ds, q, c, "ndcg@10"), abs=1e-12)


class _Lookup(BaseEmbedder):
    """Vectors looked up by text content: rankings chosen by hand."""

    name = "lookup"
    modalities = frozenset({"text"})

    def __init__(self, table: dict[str, list[float]]) -> None:
        super().__init__()
        self.table = table
        self.dim = len(next(iter(table.values())))
        self.progress = False

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        return np.array([self.table[str(it.content)] for it in items])


def _vec(u: float, w: float) -> list[float]:
    return [u, math.sqrt(1 - u * u - w * w), w]


def _hand_dataset() -> tuple[Dataset, _Lookup]:
    # q1 ranks a1 x a2 b2 a3 b1; q2 ranks b1 b2 x a3 a2 a1 (scores = first/third coordinate).
    table = {
        "q1": [1.0, 0.0, 0.0],
        "q2": [0.0, 0.0, 1.0],
        "a1": _vec(0.9, 0.0),
        "x": _vec(0.8, 0.5),
        "a2": _vec(0.7, 0.1),
        "b1": _vec(0.1, 0.9),
        "a3": _vec(0.2, 0.3),
        "b2": _vec(0.3, 0.6),
    }
    gender = {"a1": "man", "b1": "man", "x": "man", "a2": "woman", "a3": "woman", "b2": "woman"}
    corpus = [text_item(c, c, gender=g) for c, g in gender.items()]
    queries = [text_item("q1", "q1", lang="en"), text_item("q2", "q2", lang="fr")]
    qrels = {"q1": {"a1": 1, "a2": 1, "a3": 1}, "q2": {"b1": 1, "b2": 1}}
    return Dataset("hand", None, corpus, queries, qrels), _Lookup(table)


def test_per_group_values_match_a_hand_computation(tmp_path: Path) -> None:
    ds, emb = _hand_dataset()
    ctx = _ctx(
        tmp_path,
        emb,
        sizes=[3],
        group_attributes=["gender", "lang"],
        group_metrics=["recall@2", "mrr@10"],
        latency_items=0,
        n_bootstrap=200,
    )
    results = _run(ds, ctx)
    # Overall: q1's top 1 holds 1 of its 3 relevant items, q2's 1 of its 2.
    assert _pick(results, metric="recall@1", group=None).value == pytest.approx(5 / 12)

    def val(metric: str, group: str) -> Result:
        return _pick(results, metric=metric, group=group)

    # Corpus side: man = {a1 | q1, b1 | q2}: both at rank 1; woman = {a2, a3 | q1}: ranks
    # 3 and 5, {b2 | q2}: rank 2.
    assert val("recall@2", "gender=man").value == 1.0
    assert val("recall@2", "gender=woman").value == pytest.approx(0.5)
    assert val("mrr@10", "gender=man").value == 1.0
    assert val("mrr@10", "gender=woman").value == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert val("recall@2_difference", "gender").value == pytest.approx(0.5)
    assert val("recall@2_ratio", "gender").value == pytest.approx(0.5)
    assert val("mrr@10_difference", "gender").value == pytest.approx(1 - 5 / 12)
    assert val("mrr@10_ratio", "gender").value == pytest.approx(5 / 12)
    gap = val("mrr@10_difference", "gender")
    assert gap.details["best_group"] == "man" and gap.details["worst_group"] == "woman"
    assert gap.details["side"] == "corpus"
    # Every bootstrap replicate of "man" has recall@2 = 1: a degenerate interval.
    man = val("recall@2", "gender=man")
    assert (man.ci_low, man.ci_high, man.n) == (1.0, 1.0, 2)
    # Query side ("lang" is only on queries): each query is its own group.
    assert val("recall@2", "lang=en").value == pytest.approx(1 / 3)
    assert val("recall@2", "lang=fr").value == 1.0
    assert val("recall@2", "lang=en").details["side"] == "queries"


def test_difference_and_ratio_are_consistent_with_group_values(tmp_path: Path) -> None:
    ds = _professions()
    results = _run(ds, _ctx(tmp_path, HashEmbedder(dim=16), sizes=[16, 4], latency_items=0))
    n_gaps = 0
    for gap in (r for r in results if r.metric.endswith("_difference")):
        base_metric = gap.metric.removesuffix("_difference")
        groups = [
            r
            for r in results
            if r.metric == base_metric
            and r.dim == gap.dim
            and r.group is not None
            and r.group.startswith(f"{gap.group}=")
        ]
        values = [g.value for g in groups]
        assert len(groups) == (3 if gap.group == "gender" else 2)
        assert gap.value == pytest.approx(max(values) - min(values), abs=1e-12)
        ratio = _pick(results, metric=f"{base_metric}_ratio", dim=gap.dim, group=gap.group)
        assert ratio.value == pytest.approx(min(values) / max(values), abs=1e-12)
        assert gap.ci_low <= gap.ci_high
        n_gaps += 1
    assert n_gaps == 2 * 2 * 2  # attributes x group metrics x sizes


def test_debiased_variant_reported_side_by_side(tmp_path: Path) -> None:
    from sklearn.decomposition import PCA

    from audit.projection import ProjectedEmbedder

    ds = _professions()
    raw = HashEmbedder(dim=16)
    pca = PCA(n_components=8).fit(np.random.default_rng(0).normal(size=(64, 16)))
    debiased = ProjectedEmbedder(raw, pca)
    ctx = _ctx(
        tmp_path,
        debiased,
        variants={"raw": raw, "debiased": debiased},
        sizes=[16, 8, 4],
        latency_items=0,
        n_bootstrap=0,
    )
    results = _run(ds, ctx)
    dims = {v: sorted({r.dim for r in results if r.variant == v}) for v in ("raw", "debiased")}
    assert dims == {"raw": [4, 8, 16], "debiased": [4, 8]}  # 16 > the projection's 8-d
    qv = pca.transform(raw.embed(ds.queries).astype(np.float64))
    cv = pca.transform(raw.embed(ds.corpus).astype(np.float64))
    for dim in (8, 4):
        want = _expected(ds, _unit(_unit(qv)[:, :dim]), _unit(_unit(cv)[:, :dim]), "ndcg@10")
        got = _pick(results, metric="ndcg@10", dim=dim, group=None, variant="debiased")
        assert got.value == pytest.approx(want, abs=1e-6)  # float32 projection
    text = suite_summary("retrieval", results)
    assert re.search(r"mini-professions\s+text->image\s+debiased\s+-\s+\S+\s+\S+", text)


def test_summary_text_has_the_table3_shape(tmp_path: Path) -> None:
    passages = Dataset(
        "mini-passages",
        None,
        [text_item(f"d{i}", f"passage {i}") for i in range(20)],
        [text_item(f"q{i}", f"title {i}") for i in range(20)],
        {f"q{i}": {f"d{i}": 1} for i in range(20)},
    )
    ds = [_professions(), passages]
    results = _run(ds, _ctx(tmp_path, HashEmbedder(dim=16), sizes=[16, 8], latency_items=2))
    text = suite_summary("retrieval", results)
    assert text is not None
    lines = text.splitlines()
    header = next(
        i
        for i, line in enumerate(lines)
        if line.split()[:5] == ["dataset", "modality", "variant", "16", "8"]
    )
    rows = {tuple(line.split()[:3]): line.split()[3:] for line in lines[header + 2 : header + 4]}
    for (check, modality, variant), cells in rows.items():
        metric = "avg_hit" if check == "mini-professions" else "avg_recall"
        for dim, cell in zip((16, 8), cells, strict=True):
            r = _pick(results, check=check, metric=metric, dim=dim, group=None, variant=variant)
            assert cell == f"{100 * r.value:.1f}" + ("*" if dim == 8 else "")
            assert r.modality == modality
    assert ("mini-passages", "text->text", "raw") in rows
    assert "NDCG@10" in text and "* untrained truncation" in text
    assert re.search(r"^text\s+query\s+raw\s+[\d.]+\s+[\d.]+\s+2$", text, re.M)


def test_mixed_corpus_is_split_by_modality_pair(tmp_path: Path) -> None:
    corpus = [text_item(f"t{i}", f"text doc {i}") for i in range(6)]
    corpus += [Item(f"i{i}", "image", _png(i)) for i in range(6)]
    queries = [text_item(f"q{i}", f"query {i}") for i in range(6)]
    qrels = {f"q{i}": {f"t{i}": 1, f"i{(i + 1) % 6}": 1} for i in range(6)}
    ds = Dataset("mixed", None, corpus, queries, qrels)
    emb = HashEmbedder(dim=16)
    results = _run(ds, _ctx(tmp_path, emb, sizes=[16], latency_items=0, n_bootstrap=0))
    assert {r.modality for r in results} == {"text->text", "text->image"}
    qv = emb.embed(queries)
    for mod, prefix in (("text", "t"), ("image", "i")):
        sub = [c for c in corpus if c.modality == mod]
        part = Dataset(
            "p",
            None,
            sub,
            queries,
            {q: {d: g for d, g in j.items() if d.startswith(prefix)} for q, j in qrels.items()},
        )
        r = _pick(results, metric="mrr@10", modality=f"text->{mod}")
        assert r.details["n_corpus"] == 6
        assert r.value == pytest.approx(_expected(part, qv, emb.embed(sub), "mrr@10"), abs=1e-12)


def test_latency_bypasses_a_warm_cache(tmp_path: Path) -> None:
    ds = _professions()
    base = HashEmbedder(dim=16)
    cached = CachedEmbedder(base, tmp_path / "cache.sqlite")
    opts = {"sizes": [16], "latency_items": 3, "n_bootstrap": 0}
    _run(ds, _ctx(tmp_path, cached, **opts))
    before = len(base.calls)
    results = _run(ds, _ctx(tmp_path / "again", cached, **opts))
    # Second run: the cache serves every item, yet latency is timed on the backend
    # (1 warm-up + 3 timed items per modality/purpose pool: image/index, text/query).
    assert len(base.calls) - before == 2 * (1 + 3)
    lat = _pick(results, check="embedding/index", metric="latency_ms_per_item")
    assert lat.modality == "image" and lat.n == 3
    assert "cache bypassed" in lat.details["timed"]
    thr = _pick(results, check="embedding/index", metric="throughput_items_per_s")
    assert thr.value == pytest.approx(3 / lat.details["seconds"])
    assert lat.value == pytest.approx(lat.details["seconds"] / 3 * 1000)
    observed = _pick(results, metric="ndcg@10", group=None).details["observed_embedding"]
    assert observed["cache_hits"] == len(ds.corpus) + len(ds.queries)
    assert observed["cache_misses"] == 0


def test_subsample_keeps_relevant_items_and_caps() -> None:
    ds = _professions()
    small, info = subsample(ds, 3, 20, np.random.default_rng(0))
    ids = {c.id for c in small.corpus}
    assert len(small.corpus) <= 20 and 1 <= len(small.queries) <= 3
    for q in small.queries:
        assert {d for d, g in ds.qrels[q.id].items() if g > 0} <= ids
    assert info == {
        "queries": len(small.queries),
        "queries_total": 6,
        "corpus": len(small.corpus),
        "corpus_total": len(ds.corpus),
    }
    again, _ = subsample(ds, 3, 20, np.random.default_rng(0))
    assert [c.id for c in again.corpus] == [c.id for c in small.corpus]
    assert subsample(ds, None, None, np.random.default_rng(0)) == (ds, None)


@pytest.mark.parametrize(
    ("opts", "match"),
    [
        ({"sizez": [8]}, "unknown option"),
        ({"sizes": [0]}, "sizes must be"),
        ({"sizes": 8}, "sizes must be"),
        ({"engine": "faiss"}, "engine must be"),
        ({"metrics": ["recall@0"]}, "unknown metric"),
        ({"confidence": 1.5}, "confidence"),
        ({"n_bootstrap": -1}, "n_bootstrap"),
        ({"sizes": [64]}, "none of the sizes"),
    ],
)
def test_bad_options_are_config_errors(tmp_path: Path, opts: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        _run(_professions(), _ctx(tmp_path, HashEmbedder(dim=16), latency_items=0, **opts))


@pytest.mark.slow
def test_quick_run_with_the_local_embedder(tmp_path: Path) -> None:
    from audit.runner import run_suites
    from audit.suites import SUITES, SuiteEntry

    if "retrieval" not in SUITES:
        SUITES.register(
            "retrieval",
            SuiteEntry("audit.suites.retrieval:RetrievalSuite", "retrieval quality"),
        )
    config = RunConfig(
        suites=["retrieval"],
        quick=True,
        out=tmp_path / "runs",
        cache=tmp_path / "cache.sqlite",
        progress=False,
        suite_options={"retrieval": {"latency_items": 2}},  # quick mode skips latency
    )
    outcome = run_suites(config)
    assert not outcome.failed, outcome.report.errors
    results = outcome.report.results
    overall = [r for r in results if r.metric == "avg_recall" and r.group is None]
    assert {r.modality for r in overall} == {"text->text", "text->image"}
    assert {r.dim for r in overall} == {384, 256, 128, 64}
    assert {r.details["truncation"] for r in overall if r.dim < 384} == {"untrained"}
    groups = {r.group for r in results if r.check == "emoji-professions" and r.group}
    assert {"gender=woman", "gender=man", "gender=person", "skin_tone=dark"} <= groups
    # MiniLM matches Python reference headings to their sections far above chance.
    passages = _pick(results, check="passages", metric="avg_recall", dim=384, group=None)
    assert passages.value > 0.5
    assert {r.modality for r in results if r.check.startswith("embedding/")} == {"text", "image"}
    text = suite_summary("retrieval", results)
    assert text is not None and "emoji-professions" in text and "384" in text


def test_ties_across_a_cutoff_are_flagged_with_the_reversed_tie_break(tmp_path: Path) -> None:
    # a/b (and c/d) have identical content, hence identical vectors: which one ranks
    # first is decided by the id tie-break alone.
    table = {"q1": [1.0, 0.0, 0.0], "q2": [0.0, 1.0, 0.0], "s1": [1.0, 0.0, 0.0]}
    table |= {"s2": [0.0, 1.0, 0.0], "far": [0.0, 0.0, 1.0]}
    groups = {"a": ("s1", "x"), "b": ("s1", "y"), "c": ("s2", "x"), "d": ("s2", "y")}
    corpus = [text_item(i, content, grp=g) for i, (content, g) in groups.items()]
    corpus.append(text_item("z", "far"))
    qrels = {"q1": {"a": 1, "b": 1}, "q2": {"c": 1, "d": 1}}
    ds = Dataset("ties", None, corpus, [text_item("q1", "q1"), text_item("q2", "q2")], qrels)
    ctx = _ctx(
        tmp_path,
        _Lookup(table),
        sizes=[3],
        group_attributes=["grp"],
        group_metrics=["recall@1"],
        latency_items=0,
    )
    results = _run(ds, ctx)
    x, y = (_pick(results, metric="recall@1", group=f"grp={g}") for g in "xy")
    assert (x.value, y.value) == (1.0, 0.0)  # ids ascending: a before b, c before d
    assert (x.details["value_ties_reversed"], y.details["value_ties_reversed"]) == (0.0, 1.0)
    assert x.details["ties_at_cutoff"]["1"] == 2
    overall = _pick(results, metric="recall@1", group=None)
    assert overall.value == overall.details["value_ties_reversed"] == 0.5
