"""The Ray engine on a local 2-CPU Ray, with a spec-built hash backend (ray_engine_fakes).

The fake's vectors are a pure function of the content, so every vector the engine returns
is checked against the same backend run in this process; its log (written by the actors)
says exactly which items were embedded, which is how "not recomputed" is proven.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from ray_engine_fakes import HERE, LoggingHash, logged_ids, start_ray

from audit.cache import CachedEmbedder
from audit.embedders.base import EmbeddingError
from audit.engines import RayEngineEmbedder, iter_shards, wrap_engine
from audit.items import BadItemsError, Item, text_item
from audit.pipeline import build_embedder

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray's own, internal


@pytest.fixture(scope="module")
def gcs() -> Iterator[str]:
    address = start_ray()
    yield address
    ray.shutdown()


@pytest.fixture
def fake(tmp_path: Path, gcs: str) -> Path:
    folder = tmp_path / "fake"
    folder.mkdir()
    return folder


def _engine(folder: Path, shard_dir: Path, **options: object) -> RayEngineEmbedder:
    spec = f"rayhash:{folder}"
    base = LoggingHash(str(folder))
    emb = wrap_engine(base, spec, engine="ray", options={"shard_dir": str(shard_dir), **options})
    assert isinstance(emb, RayEngineEmbedder)
    return emb


def _items(n: int, tag: str = "t", **special: str) -> list[Item]:
    return [
        text_item(f"{tag}{i}", special.get(f"{tag}{i}", f"sentence number {i} of {tag}"))
        for i in range(n)
    ]


def _reference(folder: Path, items: list[Item], **kw: object) -> np.ndarray:
    ref = LoggingHash(str(folder / "ref"))
    ref.root.mkdir(exist_ok=True)
    return ref.embed(items, **kw)


def _files(shard_dir: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in shard_dir.rglob("*.parquet")}


def test_vectors_equal_in_process_in_input_order_and_second_call_reuses(
    fake: Path, tmp_path: Path
) -> None:
    shards = tmp_path / "shards"
    emb = _engine(fake, shards, shard_size=4)
    items = _items(18)
    got = emb.embed(items)
    assert np.array_equal(got, _reference(fake, items))  # exact: a pure function of content
    assert sorted(logged_ids(fake)) == sorted(it.id for it in items)  # each item once
    assert len(_files(shards)) == 5  # ceil(18 / 4)
    assert {os.path.basename(p) for p in os.listdir(shards)} == {
        p.parent.name for p in shards.rglob("*.parquet")
    }
    info = emb.describe()["engine"]
    assert (info["shards_computed"], info["shards_reused"], info["jobs"]) == (5, 0, 1)
    assert info["actors"] == 2 and info["gpus_per_actor"] == 0.0 and info["cluster"]["GPU"] == 0
    assert len(info["workers"]) == 2  # both actors worked
    before = _files(shards)
    again = emb.embed(items, dim=8)
    assert np.array_equal(again, _reference(fake, items, dim=8))
    assert len(logged_ids(fake)) == 18 and _files(shards) == before  # nothing recomputed
    info = emb.describe()["engine"]
    assert (info["shards_computed"], info["shards_reused"], info["jobs"]) == (5, 5, 1)
    written = {
        i: v
        for ids, vecs in iter_shards(shards, emb.fingerprint)
        for i, v in zip(ids, vecs, strict=True)
    }
    assert np.array_equal(np.stack([written[it.id] for it in items]), got)


def test_purposes_are_separate_shards_and_repeated_slices_are_computed_once(
    fake: Path, tmp_path: Path
) -> None:
    shards = tmp_path / "shards"
    emb = _engine(fake, shards, shard_size=3)
    items = _items(3)
    twice = [*items, *[text_item(f"copy{i}", str(it.content)) for i, it in enumerate(items)]]
    got = emb.embed(twice, purpose="query")
    assert np.array_equal(got, _reference(fake, twice, purpose="query"))
    assert len(logged_ids(fake)) == 3  # the second slice has the same keys: one shard
    emb.embed(items, purpose="index")
    purposes = {p for p in ("index", "query") for _ in iter_shards(shards, purpose=p)}
    assert purposes == {"index", "query"} and len(_files(shards)) == 2


def test_a_failing_item_names_itself_keeps_finished_shards_and_resumes(
    fake: Path, tmp_path: Path
) -> None:
    shards = tmp_path / "shards"
    items = _items(24, t13="this one will FAIL")  # item t13 lies in shard 3 (of 6)
    (fake / "fail").touch()
    emb = _engine(fake, shards, shard_size=4)
    with pytest.raises(EmbeddingError, match=r"shard 3 \(items 't12'..'t15'\).*failed on t13"):
        emb.embed(items)
    kept = _files(shards)
    assert len(kept) == 5  # every other shard finished and stayed on disk
    assert sorted(logged_ids(fake)) == sorted(
        it.id for it in items if it.id not in {"t12", "t13", "t14", "t15"}
    )
    (fake / "fail").unlink()
    (fake / "embedded.log").unlink()
    resumed = _engine(fake, shards, shard_size=4)  # a fresh run, same shard folder
    got = resumed.embed(items)
    assert np.array_equal(got, _reference(fake, items))
    assert sorted(logged_ids(fake)) == ["t12", "t13", "t14", "t15"]  # only shard 3
    after = _files(shards)
    assert all(after[name] == kept[name] for name in kept)  # same inode and mtime
    info = resumed.describe()["engine"]
    assert (info["shards_reused"], info["shards_computed"]) == (5, 1)


def test_bad_items_on_workers_are_merged_into_one_bad_items_error(
    fake: Path, tmp_path: Path
) -> None:
    (fake / "fail").touch()
    items = _items(8, t1="BAD one", t6="BAD two")
    with pytest.raises(BadItemsError) as err:
        _engine(fake, tmp_path / "shards", shard_size=4).embed(items)
    assert sorted(e.item_id for e in err.value.errors) == ["t1", "t6"]
    assert all(e.reason == "rayhash rejects BAD texts" for e in err.value.errors)


def test_an_item_that_kills_its_worker_fails_the_job_instead_of_looping(
    fake: Path, tmp_path: Path
) -> None:
    # Ray Data's default is to restart dead actors and retry their tasks forever.
    class Hung(BaseException):  # not an Exception: nothing on the way may swallow it
        pass

    def hung(signum: int, frame: object) -> None:
        raise Hung("the engine kept retrying a shard that kills its worker")

    (fake / "fail").touch()
    items = _items(12, t9="CRASH here")  # shard 2 of 3 kills its worker on every try
    emb = _engine(fake, tmp_path / "shards", shard_size=4, num_actors=1)
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(90)
    try:
        with pytest.raises(EmbeddingError, match="the Ray job failed after"):
            emb.embed(items)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    finished = {i for ids, _ in iter_shards(tmp_path / "shards") for i in ids}
    assert finished <= {f"t{i}" for i in range(8)}  # whole shards, never the crashing one
    assert len(finished) == 4 * len(_files(tmp_path / "shards"))


def test_invalid_items_are_refused_on_the_driver_before_any_job(fake: Path, tmp_path: Path) -> None:
    emb = _engine(fake, tmp_path / "shards")
    items = [*_items(2), text_item("empty", "  "), Item("img", "image", b"not an image")]
    with pytest.raises(BadItemsError) as err:
        emb.embed(items)
    assert [e.item_id for e in err.value.errors] == ["empty", "img"]
    assert emb.stats.jobs == 0 and logged_ids(fake) == []


def test_a_worker_with_other_weights_is_refused(
    fake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAYHASH_SALT", "driver-only")  # workers were started without it
    emb = _engine(fake, tmp_path / "shards")
    with pytest.raises(EmbeddingError, match="fingerprint") as err:
        emb.embed(_items(2))
    assert emb.fingerprint in str(err.value) and logged_ids(fake) == []
    assert list((tmp_path / "shards").rglob("*.parquet")) == []


def test_a_corrupt_shard_is_logged_and_recomputed_alone(
    fake: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shards = tmp_path / "shards"
    items = _items(12)
    _engine(fake, shards, shard_size=4).embed(items)
    before = _files(shards)
    victim = sorted(shards.rglob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[:100])  # truncated
    (fake / "embedded.log").unlink()
    emb = _engine(fake, shards, shard_size=4)
    with caplog.at_level(logging.WARNING, logger="audit.engines._shards"):
        got = emb.embed(items)
    assert victim.name in caplog.text
    assert np.array_equal(got, _reference(fake, items))
    assert len(logged_ids(fake)) == 4  # the one damaged shard
    after = _files(shards)
    assert all(after[n] == before[n] for n in before if n != victim.name)
    assert after[victim.name] != before[victim.name]
    assert (emb.stats.shards_reused, emb.stats.shards_computed) == (2, 1)


def test_gpus_asked_on_a_cluster_without_any_is_a_clear_error(fake: Path, tmp_path: Path) -> None:
    emb = _engine(fake, tmp_path / "shards", num_gpus=1)
    with pytest.raises(ValueError, match=r"num_gpus=1\.0, but the cluster has no GPU"):
        emb.embed(_items(2))


def test_behind_the_cache_the_engine_gets_large_chunks_and_fills_the_cache(
    fake: Path, tmp_path: Path
) -> None:
    composed, _ = build_embedder(
        f"rayhash:{fake}",
        cache_path=tmp_path / "cache.sqlite",
        engine="ray",
        engine_options={"shard_size": 2, "shard_dir": str(tmp_path / "shards")},
    )
    assert isinstance(composed, CachedEmbedder) and isinstance(composed.base, RayEngineEmbedder)
    assert composed.chunk_size == 2 * 16
    items = _items(5)
    assert np.array_equal(composed.embed(items), _reference(fake, items))
    assert composed.store.count() == 5 and composed.describe()["engine"]["shards_computed"] == 3
    assert np.array_equal(composed.embed(items), _reference(fake, items))
    assert len(logged_ids(fake)) == 5  # served by the cache the second time


def test_answers_a_worker_finished_before_its_shard_failed_reach_the_cache(
    fake: Path, tmp_path: Path
) -> None:
    def composed() -> CachedEmbedder:
        emb, _ = build_embedder(
            f"rayhash:{fake}",
            cache_path=tmp_path / "cache.sqlite",
            engine="ray",
            engine_options={"shard_size": 6, "shard_dir": str(tmp_path / "shards")},
        )
        assert isinstance(emb, CachedEmbedder)
        return emb

    (fake / "batch_size").write_text("2")
    (fake / "fail").touch()
    items = _items(12, t9="this one will FAIL")  # shard 1 = t6..t11, batches of 2
    first = composed()
    with pytest.raises(EmbeddingError, match="failed on t9") as info:
        first.embed(items)
    finished = [f"t{i}" for i in range(8)]  # shard 0, then t6 and t7 of shard 1
    assert sorted(logged_ids(fake)) == sorted(finished)
    assert first.store.count() == len(finished)
    assert "8 embedding(s) finished before this error are saved" in "".join(
        getattr(info.value, "__notes__", [])
    )
    (fake / "fail").unlink()
    (fake / "embedded.log").unlink()
    again = composed()
    got = again.embed(items)
    assert sorted(logged_ids(fake)) == ["t10", "t11", "t8", "t9"]  # only what was missing
    assert np.array_equal(got, _reference(fake, items))


_KILLED_RUN = """
import ray, sys
sys.path[:0] = [{here!r}, {tests!r}]
from ray_engine_fakes import LoggingHash, register, runtime_env
from audit.engines import wrap_engine
from audit.items import text_item
register()
ray.init(address={gcs!r}, runtime_env=runtime_env(), log_to_driver=False, logging_level="ERROR")
items = [text_item(f"t{{i}}", f"sentence number {{i}} of t") for i in range(32)]
emb = wrap_engine(LoggingHash({fake!r}), "rayhash:" + {fake!r}, engine="ray",
                  options={{"shard_size": 4, "shard_dir": {shards!r}}})
emb.embed(items)
print("finished")
"""


def test_a_driver_killed_mid_way_resumes_without_recomputing_finished_shards(
    fake: Path, tmp_path: Path, gcs: str
) -> None:
    shards = tmp_path / "shards"
    (fake / "delay").write_text("0.7")  # per shard: the kill lands mid-job
    code = _KILLED_RUN.format(
        here=str(HERE), tests=str(HERE.parent), gcs=gcs, fake=str(fake), shards=str(shards)
    )
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(_files(shards)) < 2:
            assert proc.poll() is None, "the driver ended before it could be killed"
            assert time.monotonic() < deadline, "no shard appeared"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    stable = _files(shards)
    while True:  # Ray stops the dead driver's actors; let any shard in flight land
        time.sleep(2)
        now = _files(shards)
        if now == stable:
            break
        stable = now
    assert 2 <= len(stable) < 8, "the kill must land mid-way"
    finished = {i for name in stable for i in _ids_of(shards, name)}
    (fake / "delay").unlink()
    (fake / "embedded.log").unlink()
    items = _items(32)
    emb = _engine(fake, shards, shard_size=4)
    got = emb.embed(items)
    assert np.array_equal(got, _reference(fake, items))
    after = _files(shards)
    assert len(after) == 8 and all(after[n] == stable[n] for n in stable)  # untouched
    assert (emb.stats.shards_reused, emb.stats.shards_computed) == (len(stable), 8 - len(stable))
    # the actors embedded exactly the items of the shards that were not finished
    assert sorted(logged_ids(fake)) == sorted(it.id for it in items if it.id not in finished)


def _ids_of(shards: Path, name: str) -> list[str]:
    import pyarrow.parquet as pq

    path = next(shards.rglob(name))
    return [str(x) for x in pq.read_table(path).column("id").to_pylist()]
