"""FAISS exact search against brute force, the reusable SearchIndex, recall at cut-offs."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from audit.retrieval import SearchIndex, recall_vs_exact, search


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_faiss_flat_top10_equals_numpy_argsort_on_a_tie_free_corpus() -> None:
    rng = np.random.default_rng(0)
    corpus, queries = _unit(rng, 3000, 48), _unit(rng, 60, 48)
    scores = queries.astype(np.float64) @ corpus.astype(np.float64).T
    order = np.argsort(-scores, axis=1)
    # Tie-free, and by a margin far above float32 rounding around the 10th place.
    top11 = np.take_along_axis(scores, order[:, :11], axis=1)
    assert (np.diff(top11, axis=1) < -1e-6).all()
    res = search(queries, corpus, 10, engine="faiss-flat")
    np.testing.assert_array_equal(res.indices, order[:, :10])
    np.testing.assert_allclose(res.scores, np.take_along_axis(scores, order[:, :10], 1), atol=1e-6)


def test_faiss_flat_equals_the_exact_engine_on_a_corpus_with_ties() -> None:
    rng = np.random.default_rng(1)
    corpus = rng.integers(-1, 2, size=(500, 6)).astype(np.float32)  # many equal scores
    corpus[rng.choice(500, 100, replace=False)] = corpus[rng.choice(500, 100)]
    queries = rng.integers(-1, 2, size=(40, 6)).astype(np.float32)
    ids = [f"doc-{i:04d}" for i in rng.permutation(500)]
    exact = search(queries, corpus, 10, corpus_ids=ids, engine="exact")
    flat = search(queries, corpus, 10, corpus_ids=ids, engine="faiss-flat")
    scores = queries @ corpus.T
    kth, nxt = np.sort(scores, axis=1)[:, -10], np.sort(scores, axis=1)[:, -11]
    assert (kth == nxt).sum() > 20  # the cut-off falls inside a tie group for most queries
    np.testing.assert_array_equal(flat.indices, exact.indices)
    np.testing.assert_array_equal(flat.scores, exact.scores)
    # FAISS alone orders those ties its own way; ours follow the ids.
    _, raw = faiss.knn(queries, corpus, 10, metric=faiss.METRIC_INNER_PRODUCT)
    assert not np.array_equal(raw, flat.indices)


@pytest.mark.parametrize("engine", ["exact", "faiss-flat", "faiss-ivf", "faiss-hnsw"])
def test_index_reused_over_query_chunks_equals_one_search(engine: str) -> None:
    rng = np.random.default_rng(2)
    corpus, queries = _unit(rng, 800, 16), _unit(rng, 90, 16)
    params = {"nlist": 16, "nprobe": 2} if engine == "faiss-ivf" else {}
    index = SearchIndex(corpus, engine=engine, seed=3, **params)
    parts = [index.search(queries[i : i + 25], 7) for i in range(0, 90, 25)]
    # The same index for the approximate engines: an HNSW graph built twice with
    # several threads may differ, and that is not what is tested here.
    whole = index.search(queries, 7)
    if engine in ("exact", "faiss-flat"):
        np.testing.assert_array_equal(
            search(queries, corpus, 7, engine=engine).indices, whole.indices
        )
    np.testing.assert_array_equal(np.concatenate([p.indices for p in parts]), whole.indices)
    if engine in ("exact", "faiss-flat"):
        assert whole.recall is None and all(p.recall is None for p in parts)
    else:
        weighted = sum(p.recall * p.recall_queries for p in parts) / 90
        assert weighted == pytest.approx(whole.recall)


def test_recall_at_each_cutoff_equals_recall_vs_exact() -> None:
    rng = np.random.default_rng(4)
    corpus, queries = _unit(rng, 1000, 16), _unit(rng, 50, 16)
    approx = search(
        queries, corpus, 10, engine="faiss-ivf", nlist=20, nprobe=1, recall_cutoffs=[1, 5, 99]
    )
    exact = search(queries, corpus, 10, engine="exact")
    assert sorted(approx.recall_at) == [1, 5, 10]  # 99 > k is ignored
    for c, r in approx.recall_at.items():
        overlap = [
            len(set(a[:c]) & set(e[:c])) / c
            for a, e in zip(approx.indices, exact.indices, strict=True)
        ]
        assert r == pytest.approx(np.mean(overlap))
        assert r == pytest.approx(recall_vs_exact(approx, exact, k=c))
    assert approx.recall == approx.recall_at[10] < 1.0


def test_recall_vs_exact_cutoff_hand_example() -> None:
    a = search(np.eye(2), np.eye(2), 2)
    exact = type(a)(np.array([[0, 1], [2, 3]]), a.scores, "exact", 2)
    approx = type(a)(np.array([[1, 0], [2, -1]]), a.scores, "faiss-ivf", 2)
    assert recall_vs_exact(approx, exact, k=1) == pytest.approx((0 + 1) / 2)
    assert recall_vs_exact(approx, exact) == pytest.approx((1 + 0.5) / 2)
    with pytest.raises(ValueError, match="k=3 exceeds"):
        recall_vs_exact(approx, exact, k=3)


def test_index_bytes_match_faiss_serialisation_and_tune_changes_nprobe() -> None:
    rng = np.random.default_rng(5)
    corpus, queries = _unit(rng, 2000, 32), _unit(rng, 30, 32)
    ivf = SearchIndex(corpus, engine="faiss-ivf", nlist=40, nprobe=1, train_size=800, seed=1)
    hnsw = SearchIndex(corpus, engine="faiss-hnsw", hnsw_m=8, ef_construction=20)
    for index in (ivf, hnsw):
        serialised = faiss.serialize_index(index._index).nbytes
        assert index.index_bytes == pytest.approx(serialised, rel=0.05)
        assert index.build_seconds > 0
    assert ivf.params["train_size"] == 800
    low = ivf.search(queries, 10)
    ivf.tune(nprobe=40)  # every list: the IVF search is exhaustive
    full = ivf.search(queries, 10)
    assert full.params["nprobe"] == 40 and full.recall == 1.0 and low.recall < 1.0
    with pytest.raises(ValueError, match="nprobe applies to faiss-ivf"):
        hnsw.tune(nprobe=3)
    with pytest.raises(ValueError, match="train_size=5 is below nlist=40"):
        SearchIndex(corpus, engine="faiss-ivf", nlist=40, train_size=5)


def test_measure_recall_off_leaves_recall_to_the_caller() -> None:
    rng = np.random.default_rng(6)
    corpus, queries = _unit(rng, 500, 8), _unit(rng, 20, 8)
    index = SearchIndex(corpus, engine="faiss-hnsw", hnsw_m=4, ef_construction=8)
    res = index.search(queries, 5, measure_recall=False)
    assert res.recall is None and res.recall_at == {}
    exact = SearchIndex(corpus).search(queries, 5)  # default engine: faiss-flat (exact)
    assert exact.engine == "faiss-flat" and 0.0 <= recall_vs_exact(res, exact) <= 1.0
