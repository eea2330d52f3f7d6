"""Chunked evaluation (search and score query chunk by chunk) against the whole-run path."""

from __future__ import annotations

import numpy as np
import pytest

from audit.retrieval import (
    SearchIndex,
    evaluate,
    evaluate_chunked,
    recall_vs_exact,
    run_from_search,
    search,
)

METRICS = ["recall@1", "recall@5", "recall@10", "ndcg@10", "mrr@10", "hit@5"]


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str], list[str], dict]:
    rng = np.random.default_rng(seed)
    corpus = rng.standard_normal((400, 12)).astype(np.float32)
    corpus[0:392:7] = corpus[1:393:7]  # duplicated rows: their order is the id tie-break
    queries = rng.standard_normal((53, 12)).astype(np.float32)
    cids = [f"d{i:03d}" for i in rng.permutation(400)]
    qids = [f"q{i}" for i in range(53)]
    qrels: dict[str, dict[str, int]] = {}
    for q in qids[:-3]:  # the last three queries have no qrels: "skipped"
        docs = rng.choice(400, size=rng.integers(1, 4), replace=False)
        qrels[q] = {cids[d]: int(rng.integers(0, 3)) for d in docs}
    qrels["q-not-searched"] = {cids[0]: 2}  # judged but absent from the queries: "missing"
    return queries, corpus, qids, cids, qrels


@pytest.mark.parametrize("engine", ["exact", "faiss-flat"])
@pytest.mark.parametrize("chunk", [1, 7, 53, 1000])
def test_chunked_equals_whole_run(engine: str, chunk: int) -> None:
    queries, corpus, qids, cids, qrels = _data()
    whole = evaluate(
        run_from_search(search(queries, corpus, 10, corpus_ids=cids, engine=engine), qids, cids),
        qrels,
        METRICS,
    )
    got = evaluate_chunked(
        queries,
        corpus,
        qrels,
        METRICS,
        query_ids=qids,
        corpus_ids=cids,
        query_chunk=chunk,
        engine=engine,
    )
    s = got.scores
    assert s.query_ids == whole.query_ids
    assert s.skipped == whole.skipped and s.missing == whole.missing == ("q-not-searched",)
    for m in METRICS:
        np.testing.assert_array_equal(s.per_query[m], whole.per_query[m])
        assert s.means[m] == whole.means[m]
    assert s.avg == whole.avg
    assert got.n_chunks == -(-53 // chunk) and got.recall is None and got.engine == engine


def test_chunked_ivf_recall_is_the_query_weighted_mean() -> None:
    queries, corpus, qids, cids, qrels = _data(1)
    index = SearchIndex(corpus, corpus_ids=cids, engine="faiss-ivf", nlist=20, nprobe=2)
    got = evaluate_chunked(
        queries,
        corpus,
        qrels,
        METRICS,
        query_ids=qids,
        corpus_ids=cids,
        query_chunk=10,
        index=index,
    )
    approx = index.search(queries, 10, measure_recall=False)
    exact = search(queries, corpus, 10, corpus_ids=cids)
    assert got.recall == pytest.approx(recall_vs_exact(approx, exact))
    assert got.recall_at[5] == pytest.approx(recall_vs_exact(approx, exact, k=5))
    assert got.recall_queries == 53 and got.recall < 1.0
    whole = evaluate(run_from_search(approx, qids, cids), qrels, METRICS)
    for m in METRICS:
        np.testing.assert_array_equal(got.scores.per_query[m], whole.per_query[m])


def test_chunked_reads_a_memory_mapped_query_file(tmp_path) -> None:
    queries, corpus, qids, cids, qrels = _data(2)
    path = tmp_path / "q.npy"
    np.save(path, queries)
    mapped = np.load(path, mmap_mode="r")
    a = evaluate_chunked(mapped, corpus, qrels, METRICS, query_ids=qids, corpus_ids=cids)
    b = evaluate_chunked(queries, corpus, qrels, METRICS, query_ids=qids, corpus_ids=cids)
    assert a.scores.means == b.scores.means


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"query_ids": ["a"] * 53}, ValueError, "unique"),
        ({"query_ids": ["a"]}, ValueError, "1 ids"),
        ({"query_chunk": 0}, ValueError, "query_chunk must be >= 1"),
        ({"metrics": "ndcg@10"}, TypeError, "single string"),
        ({"qrels": {"q0": {"d000": "1"}}}, TypeError, "int grade"),
        ({"qrels": {"q0": {"d000": 0}}}, ValueError, "no query in the qrels"),
    ],
)
def test_bad_input(kwargs: dict, error: type, match: str) -> None:
    queries, corpus, qids, cids, qrels = _data()
    args = {"qrels": qrels, "metrics": METRICS, "query_ids": qids, "corpus_ids": cids, **kwargs}
    with pytest.raises(error, match=match):
        evaluate_chunked(queries, corpus, args.pop("qrels"), args.pop("metrics"), **args)
