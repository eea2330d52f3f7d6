"""Retrieval metrics against hand-computed values, ranx and trec_eval (pytrec_eval)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

from audit.retrieval import (
    evaluate,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    parse_metric,
    recall_at_k,
    run_from_search,
    search,
)

CUTS = (1, 3, 5, 10)


def _random_case(
    seed: int, n_queries: int = 150, n_docs: int = 60
) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    """Random graded qrels (grades 0-3, every query with >= 1 relevant) and rankings."""
    rng = np.random.default_rng(seed)
    docs = [f"d{i}" for i in range(n_docs)]
    run: dict[str, list[str]] = {}
    qrels: dict[str, dict[str, int]] = {}
    for i in range(n_queries):
        qid = f"q{i}"
        judged = rng.choice(n_docs, size=int(rng.integers(1, 15)), replace=False)
        grades = rng.integers(0, 4, size=judged.size)
        grades[0] = max(1, int(grades[0]))
        qrels[qid] = {docs[j]: int(g) for j, g in zip(judged, grades, strict=True)}
        length = int(rng.integers(1, 30))
        run[qid] = [docs[j] for j in rng.choice(n_docs, size=length, replace=False)]
    return run, qrels


def _scored(run: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Strictly decreasing scores, so peers cannot reorder (their tie-breaks differ)."""
    return {q: {d: float(len(r) - i) for i, d in enumerate(r)} for q, r in run.items()}


def test_hand_computed_ndcg() -> None:
    # Wikipedia's DCG example: grades at ranks 1..6 are 3, 2, 3, 0, 1, 2; the judged
    # pool also holds grades 3, 2 (so the ideal order is 3, 3, 3, 2, 2, 2).
    judgments = {"a": 3, "b": 2, "c": 3, "d": 0, "e": 1, "f": 2, "g": 3, "h": 2}
    ranking = ["a", "b", "c", "d", "e", "f"]
    dcg = 3 + 2 / math.log2(3) + 3 / 2 + 0 + 1 / math.log2(6) + 2 / math.log2(7)
    idcg = 3 + 3 / math.log2(3) + 3 / 2 + 2 / math.log2(5) + 2 / math.log2(6) + 2 / math.log2(7)
    assert dcg == pytest.approx(6.861, abs=1e-3)
    assert ndcg_at_k(ranking, judgments, 6) == pytest.approx(dcg / idcg, abs=1e-12)
    # The 2**grade - 1 gain gives a different number; we use the grade itself.
    burges = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate([3, 2, 3, 0, 1, 2]))
    ideal_burges = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate([3, 3, 3, 2, 2, 2]))
    assert abs(ndcg_at_k(ranking, judgments, 6) - burges / ideal_burges) > 1e-3


def test_hand_computed_recall_mrr_hit() -> None:
    judgments = {"x": 1, "y": 2, "z": 0, "w": 1}
    ranking = ["z", "q", "y", "x"]
    assert recall_at_k(ranking, judgments, 1) == 0.0
    assert recall_at_k(ranking, judgments, 3) == pytest.approx(1 / 3)
    assert recall_at_k(ranking, judgments, 10) == pytest.approx(2 / 3)
    assert mrr_at_k(ranking, judgments, 2) == 0.0
    assert mrr_at_k(ranking, judgments, 3) == pytest.approx(1 / 3)
    assert hit_at_k(ranking, judgments, 2) == 0.0
    assert hit_at_k(ranking, judgments, 3) == 1.0
    # One relevant item: recall@k is the hit rate (the Nova report's Recall@k).
    for k in (1, 2, 3):
        assert recall_at_k(ranking, {"y": 1}, k) == hit_at_k(ranking, {"y": 1}, k)


# ranx compiles its numba kernels on first use (cached afterwards): up to ~1.5 min.
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_ranx(seed: int) -> None:
    ranx = pytest.importorskip("ranx")
    run, qrels = _random_case(seed)
    names = [f"{m}@{k}" for m in ("recall", "ndcg", "mrr") for k in CUTS]
    ours = evaluate(run, qrels, names + [f"hit@{k}" for k in CUTS])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = ranx.evaluate(
            ranx.Qrels(qrels),
            ranx.Run(_scored(run)),
            names + [f"hit_rate@{k}" for k in CUTS],
            return_mean=False,
        )
    # ranx orders queries by sorted id; align through the ids.
    order = [sorted(qrels).index(q) for q in ours.query_ids]
    for name in names:
        np.testing.assert_allclose(ours.per_query[name], theirs[name][order], rtol=0, atol=1e-9)
    for k in CUTS:
        got, want = ours.per_query[f"hit@{k}"], theirs[f"hit_rate@{k}"][order]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", [3, 4])
def test_agrees_with_trec_eval(seed: int) -> None:
    pytrec_eval = pytest.importorskip("pytrec_eval")
    run, qrels = _random_case(seed)
    cuts = ",".join(map(str, CUTS))
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {f"recall.{cuts}", f"ndcg_cut.{cuts}"})
    theirs = evaluator.evaluate(_scored(run))
    names = [f"{m}@{k}" for m in ("recall", "ndcg") for k in CUTS]
    ours = evaluate(run, qrels, [*names, "mrr@10"])
    for name in names:
        metric, k = parse_metric(name)
        trec = {"recall": "recall", "ndcg": "ndcg_cut"}[metric]
        want = np.array([theirs[q][f"{trec}_{k}"] for q in ours.query_ids])
        np.testing.assert_allclose(ours.per_query[name], want, rtol=0, atol=1e-9)
    # trec_eval's recip_rank has no cut-off: truncate the run to 10 first.
    top10 = {q: r[:10] for q, r in run.items()}
    rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(_scored(top10))
    want = np.array([rr[q]["recip_rank"] for q in ours.query_ids])
    np.testing.assert_allclose(ours.per_query["mrr@10"], want, rtol=0, atol=1e-9)


@pytest.mark.slow
def test_search_run_with_planted_ties_agrees_with_ranx() -> None:
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(7)
    corpus = rng.integers(-1, 2, size=(80, 4)).astype(np.float32)  # many exact ties
    queries = rng.integers(-1, 2, size=(30, 4)).astype(np.float32)
    ids = np.array([f"doc{i:03d}" for i in rng.permutation(80)])
    res = search(queries, corpus, 10, corpus_ids=ids)
    qids = [f"q{i}" for i in range(30)]
    run = run_from_search(res, qids, ids)
    qrels = {q: {str(d): int(rng.integers(1, 4)) for d in rng.choice(ids, 5)} for q in qids}
    ours = evaluate(run, qrels, ["ndcg@10", "recall@5"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = ranx.evaluate(
            ranx.Qrels(qrels), ranx.Run(_scored(run)), ["ndcg@10", "recall@5"], return_mean=False
        )
    order = [sorted(qrels).index(q) for q in ours.query_ids]
    for name in ("ndcg@10", "recall@5"):
        np.testing.assert_allclose(ours.per_query[name], theirs[name][order], rtol=0, atol=1e-9)


def test_single_query_functions_match_evaluate() -> None:
    run, qrels = _random_case(5, n_queries=20)
    scores = evaluate(run, qrels, ["recall@5", "ndcg@10", "mrr@10", "hit@3"])
    fns = {"recall@5": recall_at_k, "ndcg@10": ndcg_at_k, "mrr@10": mrr_at_k, "hit@3": hit_at_k}
    for name, fn in fns.items():
        k = parse_metric(name)[1]
        want = [fn(run[q], qrels[q], k) for q in scores.query_ids]
        np.testing.assert_allclose(scores.per_query[name], want, rtol=0, atol=1e-15)
        assert scores.means[name] == pytest.approx(float(np.mean(want)), abs=1e-15)


def test_avg_is_mean_of_recall_at_1_5_10() -> None:
    run, qrels = _random_case(6, n_queries=40)
    scores = evaluate(run, qrels)
    want = np.mean([scores.means["recall@1"], scores.means["recall@5"], scores.means["recall@10"]])
    assert scores.avg == pytest.approx(float(want), abs=1e-15)
    assert evaluate(run, qrels, ["recall@1", "ndcg@5"]).avg is None


def test_queries_without_relevant_docs_are_skipped_and_missing_score_zero() -> None:
    qrels = {
        "a": {"d1": 1},
        "b": {"d2": 0},  # judged, nothing relevant: skipped
        "c": {"d3": 2},  # absent from the run: scores 0
    }
    run = {"a": ["d1", "d9"], "b": ["d2"], "x": ["d1"]}  # "x" is not in the qrels
    scores = evaluate(run, qrels, ["recall@1", "ndcg@5", "mrr@10"])
    assert scores.query_ids == ("a", "c")
    assert scores.n_queries == 2
    assert set(scores.skipped) == {"b", "x"}
    assert scores.missing == ("c",)
    np.testing.assert_array_equal(scores.per_query["recall@1"], [1.0, 0.0])
    assert scores.means["ndcg@5"] == 0.5
    assert scores.means["mrr@10"] == 0.5


def test_short_rankings_and_numpy_ids() -> None:
    qrels = {1: {10: 1, 11: 1, 12: 3}}
    run = {1: np.array([12])}
    scores = evaluate(run, qrels, ["recall@10", "ndcg@10"])
    assert scores.means["recall@10"] == pytest.approx(1 / 3)
    ideal = 3 + 1 / math.log2(3) + 1 / 2
    assert scores.means["ndcg@10"] == pytest.approx(3 / ideal)


@pytest.mark.parametrize(
    ("run", "qrels", "metrics", "error", "match"),
    [
        ({"a": ["d", "d"]}, {"a": {"d": 1}}, ["recall@5"], ValueError, "twice"),
        ({"a": ["d"]}, {"a": {"d": -1}}, ["recall@5"], ValueError, ">= 0"),
        ({"a": ["d"]}, {"a": {"d": 1.5}}, ["recall@5"], TypeError, "int grade"),
        ({"a": ["d"]}, {"a": {"d": True}}, ["recall@5"], TypeError, "int grade"),
        ({"a": ["d"]}, {"a": {"d": 1}}, ["precision@5"], ValueError, "unknown metric"),
        ({"a": ["d"]}, {"a": {"d": 1}}, ["ndcg@0"], ValueError, "unknown metric"),
        ({"a": ["d"]}, {"a": {"d": 1}}, "ndcg@5", TypeError, "sequence"),
        ({"a": ["d"]}, {"a": {"d": 0}}, ["ndcg@5"], ValueError, "no query"),
        ({"a": "d"}, {"a": {"d": 1}}, ["ndcg@5"], TypeError, "string"),
        ({"a": ["d"]}, {"a": ["d"]}, ["ndcg@5"], TypeError, "mapping"),
    ],
)
def test_evaluate_rejects_bad_input(
    run: Any, qrels: Any, metrics: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        evaluate(run, qrels, metrics)


def test_single_query_without_relevant_docs_raises() -> None:
    with pytest.raises(ValueError, match="undefined"):
        ndcg_at_k(["a"], {"a": 0}, 5)
