"""Top-k search against brute force with the documented tie-break, engines, validation."""

from __future__ import annotations

import numpy as np
import pytest

from audit.retrieval import (
    SearchResult,
    _exact,
    _search,
    recall_vs_exact,
    run_from_search,
    search,
)

EXACT_ENGINES = ("exact", "faiss-flat")


def _brute_force(
    queries: np.ndarray, corpus: np.ndarray, k: int, ids: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Full float64 score matrix rounded to float32, lexsort by (-score, id)."""
    scores = (queries.astype(np.float64) @ corpus.astype(np.float64).T).astype(np.float32)
    tie = np.arange(corpus.shape[0]) if ids is None else np.argsort(np.argsort(ids))
    order = np.array([np.lexsort((tie, -row))[:k] for row in scores], dtype=np.int64)
    order = order.reshape(queries.shape[0], k)
    return order, np.take_along_axis(scores, order, axis=1)


def _tied_data(seed: int, n: int, n_q: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Small-integer vectors (exact float arithmetic) plus duplicated corpus rows."""
    rng = np.random.default_rng(seed)
    corpus = rng.integers(-2, 3, size=(n, dim)).astype(np.float32)
    dup = rng.choice(n, size=n // 4, replace=False)
    corpus[dup] = corpus[rng.choice(n, size=dup.size)]  # planted exact duplicates
    queries = rng.integers(-2, 3, size=(n_q, dim)).astype(np.float32)
    return queries, corpus


@pytest.mark.parametrize("engine", EXACT_ENGINES)
@pytest.mark.parametrize("seed", range(4))
def test_exact_matches_brute_force_with_ties(engine: str, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    queries, corpus = _tied_data(seed, n=int(rng.integers(50, 700)), n_q=37, dim=6)
    k = int(rng.integers(1, 40))
    ids = None
    if seed % 2:
        ids = np.array([f"id-{i:05d}" for i in rng.permutation(corpus.shape[0])])
    res = search(queries, corpus, k, corpus_ids=ids, engine=engine, chunk_size=8)
    want_idx, want_scores = _brute_force(queries, corpus, k, ids)
    np.testing.assert_array_equal(res.indices, want_idx)
    np.testing.assert_array_equal(res.scores, want_scores)
    assert res.indices.dtype == np.int64 and res.scores.dtype == np.float32
    assert res.recall is None and res.exact


def test_duplicates_ordered_by_id_not_row() -> None:
    corpus = np.array([[1, 0], [1, 0], [0, 1], [1, 0]], dtype=np.float32)
    ids = ["c", "a", "z", "b"]
    for engine in EXACT_ENGINES:
        res = search(np.array([[1.0, 0.0]]), corpus, 4, corpus_ids=ids, engine=engine)
        assert res.indices.tolist() == [[1, 3, 0, 2]]  # a, b, c by id, then z (score 0)
        assert res.scores.tolist() == [[1.0, 1.0, 1.0, 0.0]]
        plain = search(np.array([[1.0, 0.0]]), corpus, 3, engine=engine)
        assert plain.indices.tolist() == [[0, 1, 3]]  # no ids: row order


def test_normalised_float_data_matches_float64_reference() -> None:
    rng = np.random.default_rng(11)
    corpus = rng.standard_normal((3000, 48)).astype(np.float32)
    corpus /= np.linalg.norm(corpus, axis=1, keepdims=True)
    corpus[2000:2050] = corpus[100]  # near-identical scores must still tie exactly
    queries = corpus[rng.choice(3000, 64)] + 0.05 * rng.standard_normal((64, 48)).astype(np.float32)
    for engine in EXACT_ENGINES:
        res = search(queries, corpus, 20, engine=engine, chunk_size=16)
        want_idx, want_scores = _brute_force(queries, corpus, 20)
        np.testing.assert_array_equal(res.indices, want_idx)
        np.testing.assert_array_equal(res.scores, want_scores)


def test_result_does_not_depend_on_blocking(monkeypatch: pytest.MonkeyPatch) -> None:
    queries, corpus = _tied_data(5, n=400, n_q=25, dim=5)
    ref = search(queries, corpus, 12)
    # Tiny score blocks force many corpus blocks; _PILE_MIN=0 forces the exact
    # settling of near-ties mid-scan; the threshold pass is split over 3 threads.
    monkeypatch.setattr(_search, "_SCORE_BLOCK_ELEMS", 64)
    monkeypatch.setattr(_exact, "_PILE_MIN", 0)
    monkeypatch.setattr(_exact, "_THREADED_MIN", 0)
    monkeypatch.setattr(_exact, "_n_threads", lambda: 3)
    for chunk in (1, 3, 25, 1000):
        res = search(queries, corpus, 12, chunk_size=chunk)
        np.testing.assert_array_equal(res.indices, ref.indices)
        np.testing.assert_array_equal(res.scores, ref.scores)
    np.testing.assert_array_equal(ref.indices, _brute_force(queries, corpus, 12)[0])


@pytest.mark.parametrize("engine", ["exact", "faiss-flat", "faiss-ivf", "faiss-hnsw"])
def test_zero_query_returns_first_ids(engine: str) -> None:
    rng = np.random.default_rng(3)
    corpus = rng.standard_normal((30, 4)).astype(np.float32)
    ids = np.array([f"{i:02d}" for i in rng.permutation(30)])
    queries = np.zeros((2, 4), dtype=np.float32)
    queries[1] = 1.0
    res = search(queries, corpus, 5, corpus_ids=ids, engine=engine)
    assert ids[res.indices[0]].tolist() == ["00", "01", "02", "03", "04"]
    assert res.scores[0].tolist() == [0.0] * 5
    np.testing.assert_array_equal(res.indices, _brute_force(queries, corpus, 5, ids)[0])


@pytest.mark.parametrize("engine", EXACT_ENGINES)
def test_all_zero_corpus_ties_everything(engine: str) -> None:
    corpus = np.zeros((40, 3), dtype=np.float32)
    ids = [f"{i:02d}" for i in np.random.default_rng(1).permutation(40)]
    res = search(np.ones((2, 3)), corpus, 4, corpus_ids=ids, engine=engine)
    assert [ids[i] for i in res.indices[1]] == ["00", "01", "02", "03"]
    assert res.scores.tolist() == [[0.0] * 4] * 2


def test_faiss_flat_refetches_past_a_large_tie_group() -> None:
    rng = np.random.default_rng(4)
    corpus = rng.standard_normal((500, 8)).astype(np.float32)
    corpus[rng.choice(500, 60, replace=False)] = 3.0  # 60 tied best items, k' starts at 13
    queries = np.ones((3, 8), dtype=np.float32)
    res = search(queries, corpus, 5, engine="faiss-flat")
    np.testing.assert_array_equal(res.indices, _brute_force(queries, corpus, 5)[0])


def test_int_and_float64_inputs_are_converted() -> None:
    queries, corpus = _tied_data(6, n=50, n_q=4, dim=3)
    ref = search(queries, corpus, 7)
    res = search(queries.astype(np.int64), corpus.astype(np.float64).tolist(), 7)
    np.testing.assert_array_equal(res.indices, ref.indices)


@pytest.mark.parametrize("engine", ["faiss-ivf", "faiss-hnsw"])
def test_approximate_engines_are_exact_on_tiny_data(engine: str) -> None:
    rng = np.random.default_rng(8)
    corpus = rng.standard_normal((60, 6)).astype(np.float32)
    corpus[40:45] = corpus[3]  # a tie group smaller than the over-fetch
    queries = np.concatenate([corpus[[3, 7]], rng.standard_normal((8, 6)).astype(np.float32)])
    res = search(queries, corpus, 5, engine=engine)
    assert res.recall == 1.0 and res.recall_queries == 10 and not res.exact
    # Candidates are re-scored and tie-broken like the exact engine.
    want_idx, want_scores = _brute_force(queries, corpus, 5)
    np.testing.assert_array_equal(res.indices, want_idx)
    np.testing.assert_array_equal(res.scores, want_scores)


def test_approximate_recall_matches_independent_count() -> None:
    rng = np.random.default_rng(9)
    corpus = rng.standard_normal((4000, 16)).astype(np.float32)
    queries = rng.standard_normal((50, 16)).astype(np.float32)
    res = search(queries, corpus, 10, engine="faiss-ivf", nlist=64, nprobe=1)
    exact = search(queries, corpus, 10)
    hits = [len(set(a) & set(e)) / 10 for a, e in zip(res.indices, exact.indices, strict=True)]
    assert 0.0 <= res.recall < 1.0  # one list of 64 probed: some true neighbours missed
    assert res.recall == pytest.approx(float(np.mean(hits)), abs=1e-12)
    assert recall_vs_exact(res, exact) == pytest.approx(res.recall, abs=1e-12)
    sampled = search(
        queries, corpus, 10, engine="faiss-hnsw", recall_sample=20, hnsw_m=4, ef_search=10
    )
    assert sampled.recall_queries == 20 and 0.0 <= sampled.recall <= 1.0


def test_recall_vs_exact_hand_example() -> None:
    def result(idx: list[list[int]]) -> SearchResult:
        arr = np.array(idx, dtype=np.int64)
        return SearchResult(arr, np.zeros(arr.shape, dtype=np.float32), "faiss-ivf", 3)

    approx = result([[1, 2, -1], [4, 5, 6]])
    exact = result([[1, 3, 2], [7, 8, 9]])
    assert recall_vs_exact(approx, exact) == pytest.approx((2 / 3 + 0) / 2)
    assert recall_vs_exact(exact, exact) == 1.0
    with pytest.raises(ValueError, match="shape"):
        recall_vs_exact(result([[1, 2, 3]]), exact)


def test_run_from_search() -> None:
    res = SearchResult(
        np.array([[2, 0], [1, -1]], dtype=np.int64),
        np.zeros((2, 2), dtype=np.float32),
        "faiss-hnsw",
        2,
    )
    run = run_from_search(res, ["qa", "qb"], np.array(["x", "y", "z"]))
    assert run == {"qa": ["z", "x"], "qb": ["y"]}
    assert all(type(d) is str for docs in run.values() for d in docs)
    with pytest.raises(ValueError, match="query_ids"):
        run_from_search(res, ["qa"], ["x", "y", "z"])
    with pytest.raises(ValueError, match="unique"):
        run_from_search(res, ["qa", "qa"], ["x", "y", "z"])
    with pytest.raises(ValueError, match="corpus row 2"):
        run_from_search(res, ["qa", "qb"], ["x", "y"])


def test_empty_queries() -> None:
    res = search(np.empty((0, 3)), np.ones((5, 3)), 2)
    assert res.indices.shape == (0, 2) and res.scores.shape == (0, 2)


GOOD_Q = np.ones((2, 3), dtype=np.float32)
GOOD_C = np.eye(3, dtype=np.float32)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"queries": np.ones((2, 4))}, ValueError, "dimension 4 but corpus has dimension 3"),
        ({"queries": np.array([[np.nan, 0, 0]])}, ValueError, "queries row 0 contains NaN"),
        ({"corpus": np.array([[0, 0, 0], [0, np.inf, 0]])}, ValueError, "corpus row 1"),
        ({"k": 4}, ValueError, "k=4 exceeds the corpus size 3"),
        ({"k": 0}, ValueError, "k must be >= 1"),
        ({"k": True}, TypeError, "k must be an int"),
        ({"k": 2.0}, TypeError, "k must be an int"),
        ({"queries": np.ones(3)}, ValueError, "2-D"),
        ({"queries": np.ones((1, 3), dtype=complex)}, TypeError, "real numeric"),
        ({"queries": np.ones((1, 0)), "corpus": np.ones((3, 0))}, ValueError, "dimension 0"),
        ({"corpus_ids": ["a", "b", "a"]}, ValueError, "'a' repeats"),
        ({"corpus_ids": ["a", "b"]}, ValueError, "one id per corpus row"),
        ({"corpus_ids": ["a", 1, 2]}, TypeError, "mix strings"),
        ({"corpus_ids": [1, 2.5, None]}, TypeError, "comparable"),
        ({"engine": "faiss-hsnw"}, ValueError, "did you mean 'faiss-hnsw'"),
        ({"chunk_size": 0}, ValueError, "chunk_size must be >= 1"),
        ({"engine": "faiss-ivf", "nlist": 5}, ValueError, "nlist=5 exceeds"),
        ({"recall_sample": 0}, ValueError, "recall_sample"),
    ],
)
def test_search_rejects_bad_input(kwargs: dict, error: type, match: str) -> None:
    args = {"queries": GOOD_Q, "corpus": GOOD_C, "k": 2, **kwargs}
    with pytest.raises(error, match=match):
        search(args.pop("queries"), args.pop("corpus"), args.pop("k"), **args)
