"""Shard files, item shipping, error round trips and wrap_engine's checks (no Ray started)."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from fakes import HashEmbedder

from audit.cache import cache_key
from audit.embedders.base import EmbeddingError
from audit.engines import (
    RayOptions,
    iter_shards,
    shard_key,
    shard_path,
    wrap_engine,
)
from audit.engines._errors import decode_errors, encode_error
from audit.engines._shards import item_from_json, item_to_json, read_shard, write_shard
from audit.items import BadItemsError, Item, ItemError, text_item

FP = "hash@0123456789abcdef"


def _vectors(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def _write(root: Path, ids: list[str], vecs: np.ndarray, purpose: str = "index") -> Path:
    items = [text_item(i, f"text of {i}") for i in ids]
    keys = [cache_key(FP, it, purpose) for it in items]
    path = shard_path(root, FP, shard_key(FP, purpose, keys))
    write_shard(path, ids, keys, vecs, fingerprint=FP, purpose=purpose)
    return path


def test_shard_key_is_sha256_over_fingerprint_purpose_and_keys_in_order() -> None:
    keys = ["k1", "k2"]
    by_hand = hashlib.sha256(b"fp\x1findex\x1fk1\x1fk2\x1f").hexdigest()
    assert shard_key("fp", "index", keys) == by_hand
    assert shard_key("fp", "index", keys[::-1]) != by_hand
    assert shard_key("fp", "query", keys) != by_hand
    assert shard_key("fp2", "index", keys) != by_hand
    assert shard_key("fp", "index", ["k1k2"]) != shard_key("fp", "index", ["k1", "k2"])


def test_write_then_read_round_trips_exactly_with_layout_and_metadata(tmp_path: Path) -> None:
    ids = ["a", "b", "c"]
    vecs = _vectors(3, 5, 0)
    items = [text_item(i, f"text of {i}") for i in ids]
    keys = [cache_key(FP, it, "index") for it in items]
    path = _write(tmp_path, ids, vecs)
    assert path.parent.parent == tmp_path and path.name == f"{shard_key(FP, 'index', keys)}.parquet"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
    table = pq.read_table(path)
    assert str(table.schema.field("vector").type) == "fixed_size_list<element: float>[5]"
    assert table.column("id").to_pylist() == ids and table.column("key").to_pylist() == keys
    meta = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert meta["fingerprint"] == FP and meta["purpose"] == "index" and meta["dim"] == "5"
    assert meta["tool_version"]
    got = read_shard(path, keys, fingerprint=FP, purpose="index", dim=5)
    assert got is not None and np.array_equal(got, vecs)


@pytest.mark.parametrize(
    "change",
    ["keys", "purpose", "fingerprint", "dim", "truncated", "garbage"],
)
def test_read_shard_refuses_what_does_not_match_and_logs_it(
    tmp_path: Path, change: str, caplog: pytest.LogCaptureFixture
) -> None:
    ids = ["a", "b"]
    items = [text_item(i, f"text of {i}") for i in ids]
    keys = [cache_key(FP, it, "index") for it in items]
    path = _write(tmp_path, ids, _vectors(2, 4, 1))
    kwargs = {"fingerprint": FP, "purpose": "index", "dim": 4}
    if change == "keys":
        keys = keys[::-1]
    elif change in ("purpose", "fingerprint"):
        kwargs[change] = "other"
    elif change == "dim":
        kwargs["dim"] = 8
    elif change == "truncated":
        path.write_bytes(path.read_bytes()[:-40])
    else:
        path.write_bytes(b"PAR1 not a parquet file")
    with caplog.at_level(logging.WARNING, logger="audit.engines._shards"):
        assert read_shard(path, keys, **kwargs) is None
    assert "recomputing" in caplog.text and path.name in caplog.text
    assert read_shard(tmp_path / "absent.parquet", keys, **kwargs) is None


def test_iter_shards_returns_exactly_what_was_written(tmp_path: Path) -> None:
    written: dict[str, np.ndarray] = {}
    for s in range(3):
        ids = [f"s{s}i{j}" for j in range(5 + s)]
        vecs = _vectors(len(ids), 6, s)
        _write(tmp_path, ids, vecs)
        written.update(zip(ids, vecs, strict=True))
    _write(tmp_path, ["q0", "q1"], _vectors(2, 6, 9), purpose="query")
    chunks = list(iter_shards(tmp_path, FP, purpose="index", batch_size=4))
    assert all(len(ids) <= 4 and v.shape == (len(ids), 6) for ids, v in chunks)
    got = {i: v for ids, vecs in chunks for i, v in zip(ids, vecs, strict=True)}
    assert got.keys() == written.keys()
    assert all(np.array_equal(got[i], written[i]) for i in written)
    everything = [i for ids, _ in iter_shards(tmp_path) for i in ids]
    assert sorted(everything) == sorted([*written, "q0", "q1"])
    assert list(iter_shards(tmp_path, "other@fingerprint")) == []
    assert list(iter_shards(tmp_path / "absent")) == []


def test_iter_shards_names_an_unreadable_file(tmp_path: Path) -> None:
    path = _write(tmp_path, ["a"], _vectors(1, 3, 0))
    path.write_bytes(b"broken")
    with pytest.raises(ValueError, match=path.name):
        list(iter_shards(tmp_path))


def test_items_travel_as_json_with_the_same_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "img.png").write_bytes(b"\x89PNG fake")
    items = [
        text_item("t", "héllo wörld"),
        Item("b", "image", b"\x00\x01binary\xff"),
        Item("p", "image", Path("img.png")),
        Item("s", "image", "img.png"),
        Item("u", "image", "s3://bucket/key.png"),
    ]
    rows = [json.loads(json.dumps(item_to_json(it))) for it in items]
    assert rows[2]["path"] == str(tmp_path / "img.png")  # relative made absolute
    assert rows[4]["path"] == "s3://bucket/key.png"
    back = [item_from_json(r) for r in rows]
    assert [(b.id, b.modality) for b in back] == [(it.id, it.modality) for it in items]
    for before, after in zip(items[:4], back[:4], strict=True):
        assert after.content_sha256() == before.content_sha256()


def test_errors_decode_to_the_in_process_kinds() -> None:
    bad = encode_error(BadItemsError([ItemError("x", "too big"), ItemError("y", "empty")]))
    one = encode_error(ItemError("z", "no file"))
    merged = decode_errors([("shard 0", bad), ("shard 3", one)])
    assert isinstance(merged, BadItemsError)
    assert [(e.item_id, e.reason) for e in merged.errors] == [
        ("x", "too big"),
        ("y", "empty"),
        ("z", "no file"),
    ]
    emb = decode_errors([("shard 2 (items 'a'..'b')", encode_error(EmbeddingError("NaN for a")))])
    assert isinstance(emb, EmbeddingError) and "shard 2" in str(emb) and "NaN for a" in str(emb)
    assert type(decode_errors([("s", encode_error(MemoryError("oom")))])) is MemoryError

    class Custom(Exception):
        pass

    other = decode_errors([("s", encode_error(Custom("odd")))])
    assert isinstance(other, EmbeddingError) and "Custom: " in str(other)


def test_wrap_engine_inprocess_returns_the_backend_itself() -> None:
    base = HashEmbedder()
    assert wrap_engine(base, "hash", engine="inprocess", options={}) is base


@pytest.mark.parametrize(
    ("engine", "options", "match"),
    [
        ("rya", {}, r"unknown engine 'rya'; did you mean 'ray'"),
        ("ray", {"shard_sise": 10}, r"\['shard_sise'\].*did you mean 'shard_size'"),
        ("ray", {"shard_size": 0}, "shard_size must be an integer >= 1, got 0"),
        ("ray", {"shard_size": 2.5}, "shard_size must be an integer"),
        ("ray", {"num_gpus": -1}, "num_gpus must be a number >= 0"),
        ("ray", {"num_actors": True}, "num_actors must be an integer"),
        ("ray", {"address": ""}, "address must be a non-empty string"),
        ("inprocess", {"shard_size": 4}, "inprocess engine takes no options"),
    ],
)
def test_wrap_engine_rejects_bad_engines_and_options(
    engine: str, options: dict, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        wrap_engine(HashEmbedder(), "hash", engine=engine, options=options)


def test_ray_missing_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    monkeypatch.setitem(sys.modules, "ray.data", None)
    with pytest.raises(ImportError, match=r"pip install 'mme-audit\[ray\]'"):
        wrap_engine(HashEmbedder(), "hash", engine="ray", options={})


def test_ray_options_defaults_and_shard_dir_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDIT_SHARD_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    opts = RayOptions.parse({})
    assert opts.shard_size == 1024 and opts.num_gpus is None and opts.address is None
    assert opts.shard_dir == tmp_path / "runs" / ".cache" / "shards"  # absolute
    monkeypatch.setenv("AUDIT_SHARD_DIR", str(tmp_path / "elsewhere"))
    assert RayOptions.parse({}).shard_dir == tmp_path / "elsewhere"
    assert RayOptions.parse({"shard_dir": "x"}).shard_dir == tmp_path / "x"
    emb = wrap_engine(HashEmbedder(), "hash", engine="ray", options={"shard_size": 8})
    assert emb.fingerprint == HashEmbedder().fingerprint and emb.dim == 16
    assert emb.preferred_chunk_size == 8 * 16


@pytest.mark.parametrize(
    ("options", "cluster", "shards", "expected"),
    [
        ({}, (16, 4), 10, (1.0, 4)),  # GPUs present: one per actor, one actor per GPU
        ({}, (16, 4), 2, (1.0, 2)),  # never more actors than shards to compute
        ({"num_gpus": 0}, (16, 4), 40, (0.0, 16)),  # forced CPU: cluster CPUs // 1
        ({"num_gpus": 0.5}, (16, 4), 20, (0.5, 8)),  # fractional GPUs share a device
        ({}, (6, 0), 10, (0.0, 6)),  # no GPU: CPU actors
        ({"num_cpus": 4}, (6, 0), 10, (0.0, 1)),
        ({"num_actors": 3}, (16, 4), 10, (1.0, 3)),
    ],
)
def test_actor_pool_follows_the_clusters_gpus(
    monkeypatch: pytest.MonkeyPatch,
    options: dict,
    cluster: tuple[int, int],
    shards: int,
    expected: tuple[float, int],
) -> None:
    from audit.engines import _ray
    from audit.engines._session import Resources

    monkeypatch.setattr(_ray, "cluster_resources", lambda: Resources(*map(float, cluster)))
    emb = _ray.RayEngineEmbedder(HashEmbedder(), "hash", RayOptions.parse(options))
    assert emb._pool_size(shards) == expected
    info = emb.engine_info()
    assert (info["gpus_per_actor"], info["actors"]) == expected
    assert info["cluster"] == {"CPU": cluster[0], "GPU": cluster[1]}
