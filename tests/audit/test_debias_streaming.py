"""Streaming debias fits (chunks, embedder batches, Parquet shards) against one-shot fits."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fakes import HashEmbedder
from sklearn.model_selection import train_test_split

from audit._parquet_shards import iter_parquet_shards
from audit.debias.fit import (
    fit_debias,
    fit_debias_from_shards,
    fit_debias_streaming,
    fit_from_chunks,
    group_labels,
)
from audit.debias.methods import make_debiaser
from audit.items import text_item
from fairness.debias import LEACE, FairPCA, PCADebiaser

METHODS = ["fairpca", "fairpca-cov", "pca", "leace"]


def _synthetic(n: int = 3000, d: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Anisotropic rows, three groups with shifted means and one with a wider spread."""
    rng = np.random.default_rng(seed)
    y = rng.choice(np.array(["a", "b", "c"]), size=n, p=[0.5, 0.3, 0.2])
    X = rng.standard_normal((n, d)) / np.sqrt(np.arange(1, d + 1))
    X[y == "b"] += 0.4 * rng.standard_normal(d)
    X[y == "c"] *= 1.5
    return X, y


@pytest.mark.parametrize(
    "make",
    [
        lambda: FairPCA(10),
        lambda: FairPCA(8, constraint="covariance"),
        lambda: PCADebiaser(12),
        lambda: LEACE(),
    ],
)
def test_fit_from_chunks_equals_one_shot_fit(make) -> None:
    X, y = _synthetic()
    one = make().fit(X, sensitive_features=y)
    cuts = [0, 1, 400, 401, 1777, 3000]  # uneven chunks, one of a single row, none empty
    chunks = [(X[a:b], y[a:b]) for a, b in itertools.pairwise(cuts)]
    chunks.insert(2, (X[:0], y[:0]))  # an empty chunk is skipped
    streamed = fit_from_chunks(make(), iter(chunks))
    probe = np.random.default_rng(1).standard_normal((50, X.shape[1]))
    np.testing.assert_allclose(streamed.transform(probe), one.transform(probe), atol=1e-10)
    assert streamed.n_samples_seen_ == 3000


def test_fit_from_chunks_rejects_bad_chunks() -> None:
    X, y = _synthetic(100)
    with pytest.raises(ValueError, match="every chunk was empty"):
        fit_from_chunks(FairPCA(4), [(X[:0], y[:0])])
    with pytest.raises(ValueError, match="chunk 1: X must be 2-D with one group label per row"):
        fit_from_chunks(FairPCA(4), [(X[:10], y[:10]), (X[10:20], y[10:19])])
    with pytest.raises(TypeError, match="no partial_fit"):
        fit_from_chunks(object(), [(X, y)])


def _items(n: int = 900) -> list:
    groups = ["female", "male", "other"]
    return [text_item(f"i{i:04d}", f"sentence {i}", gender=groups[i % 7 % 3]) for i in range(n)]


@pytest.mark.parametrize("method", METHODS)
def test_streaming_fit_debias_equals_fit_debias_on_fake_embeddings(method: str) -> None:
    items = _items()
    emb = HashEmbedder(dim=16)
    one, rep1 = fit_debias(emb, items, attribute="gender", method=method, sizes=[16, 8], seed=4)
    two, rep2 = fit_debias_streaming(
        emb, items, attribute="gender", method=method, sizes=[16, 8], seed=4, chunk_size=101
    )
    X = emb.embed(items[:40]).astype(np.float64)
    np.testing.assert_allclose(two.transform(X), one.transform(X), atol=1e-10)
    a, b = rep1.to_dict(), rep2.to_dict()
    for key in ("method", "attribute", "embedder", "n_fit", "n_probe", "groups", "n_components"):
        assert a[key] == b[key], key
    assert len(a["sizes"]) == len(b["sizes"])
    for s1, s2 in zip(a["sizes"], b["sizes"], strict=True):
        for key, v in s1.items():
            assert s2[key] == pytest.approx(v, abs=1e-9), key
    assert a["streaming"] is None
    assert b["streaming"] == {"chunk_size": 101, "max_probe": 50_000, "rows": 900, "chunks": 9}


def test_probe_cap_keeps_a_stratified_subset() -> None:
    items = _items(600)
    _, rep = fit_debias_streaming(
        HashEmbedder(dim=8), items, attribute="gender", chunk_size=64, max_probe=120
    )
    assert rep.n_fit == 300 and rep.n_probe == 120


def _write_shards(root: Path, ids: list[str], X: np.ndarray, per_file: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    vec_type = pa.list_(pa.float32(), X.shape[1])
    for f, start in enumerate(range(0, len(ids), per_file)):
        part = slice(start, start + per_file)
        table = pa.table(
            {
                "id": pa.array(ids[part], pa.string()),
                "key": pa.array([f"key-{i}" for i in ids[part]], pa.string()),
                "vector": pa.array(list(X[part].astype(np.float32)), type=vec_type),
            }
        )
        pq.write_table(table, root / f"part-{f:03d}.parquet")


def test_fit_from_parquet_shards_equals_a_one_shot_fit(tmp_path: Path) -> None:
    X, y = _synthetic(1200, d=12, seed=2)
    X = X.astype(np.float32)  # what the shards hold
    ids = [f"item-{i:05d}" for i in np.random.default_rng(3).permutation(1200)]
    _write_shards(tmp_path / "shards", ids, X, per_file=250)
    labels = {i: g for i, g in zip(ids, y, strict=True) if not i.endswith("7")}  # 10% unlabelled
    debiaser, rep = fit_debias_from_shards(
        tmp_path / "shards", labels, attribute="g", seed=5, batch_rows=64, embedder_name="e"
    )
    # One-shot reference: the same split over the labelled ids in the mapping's order
    # (the dataset's order, as fit_debias splits items), fit on its rows.
    order = list(labels)
    y_sorted = np.asarray([labels[i] for i in order])
    fit_idx, probe_idx = train_test_split(
        np.arange(len(order)), test_size=0.5, stratify=y_sorted, random_state=5
    )
    row = {i: r for r, i in enumerate(ids)}
    fit_rows = [row[order[j]] for j in fit_idx]
    reference = make_debiaser("fairpca", None).fit(
        X[fit_rows].astype(np.float64), sensitive_features=y[fit_rows]
    )
    np.testing.assert_allclose(debiaser.transform(X[:30]), reference.transform(X[:30]), atol=1e-9)
    assert rep.n_fit == len(fit_idx) and rep.n_probe == len(probe_idx)
    assert rep.streaming["rows"] == 1200
    assert rep.streaming["rows_unlabelled"] == 1200 - len(labels) > 0
    assert rep.groups == {g: int((y_sorted == g).sum()) for g in ("a", "b", "c")}
    assert rep.embedder == "e" and rep.sizes[0].max_group_mean_gap_fit < 1e-9


def test_shard_reader_batches_schema_and_list_columns(tmp_path: Path) -> None:
    X = np.arange(60, dtype=np.float32).reshape(20, 3)
    ids = [f"x{i}" for i in range(20)]
    _write_shards(tmp_path / "fixed", ids, X, per_file=8)
    batches = list(iter_parquet_shards(tmp_path / "fixed", batch_rows=5))
    assert [len(b[0]) for b in batches] == [5, 3, 5, 3, 4]  # per file, then per batch
    assert [i for b in batches for i in b[0]] == ids
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), X)
    # A variable-size list column with equal lengths is accepted too.
    var = tmp_path / "var"
    var.mkdir()
    pq.write_table(
        pa.table({"id": ids, "key": ids, "vector": pa.array(X.tolist(), pa.list_(pa.float32()))}),
        var / "a.parquet",
    )
    (got,) = list(iter_parquet_shards(var))
    np.testing.assert_array_equal(got[1], X)
    bad = tmp_path / "bad"
    bad.mkdir()
    pq.write_table(pa.table({"id": ids, "vector": pa.array(X.tolist())}), bad / "a.parquet")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['key'\]"):
        list(iter_parquet_shards(bad))
    ragged = tmp_path / "ragged"
    ragged.mkdir()
    pq.write_table(
        pa.table({"id": ["a", "b"], "key": ["a", "b"], "vector": [[1.0, 2.0], [1.0]]}),
        ragged / "a.parquet",
    )
    with pytest.raises(ValueError, match="different lengths"):
        list(iter_parquet_shards(ragged))
    with pytest.raises(FileNotFoundError, match=r"no \*\.parquet shards"):
        list(iter_parquet_shards(tmp_path / "nothing"))


def test_shards_must_hold_every_labelled_item_and_repeats_count_once() -> None:
    X, y = _synthetic(200, d=6)
    ids = [f"i{i}" for i in range(200)]
    labels = dict(zip(ids, y, strict=True))
    with pytest.raises(ValueError, match=r"2 labelled item\(s\) are in no shard"):
        fit_debias_from_shards([(ids[:-2], X[:-2])], labels, attribute="g")
    once, rep1 = fit_debias_from_shards([(ids, X)], labels, attribute="g")
    items = [text_item(i, i, g=str(g)) for i, g in labels.items()]
    assert group_labels(items, "g") == labels
    with pytest.raises(ValueError, match=r"1 item\(s\) lack attribute 'g'"):
        group_labels([*items, text_item("x", "x")], "g")
    # Items 0-49 again (as differently sliced shards would hold them): fitted once.
    twice, rep2 = fit_debias_from_shards([(ids, X), (ids[:50], X[:50])], labels, attribute="g")
    assert rep2.streaming["rows_duplicate"] == 50 and rep2.streaming["rows"] == 250
    assert rep1.streaming["rows_duplicate"] == 0 and rep2.n_fit == rep1.n_fit
    np.testing.assert_allclose(twice.transform(X), once.transform(X), atol=1e-12)
