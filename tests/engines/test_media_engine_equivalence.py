"""Audio and video through ``local``: one vector per item, whatever engine or thread count.

Issue 23: on ``--engine ray`` 14 of 57 audio and 2 of 11 video vectors differed from the
in-process ones (other transcripts), because OpenBLAS sums faster-whisper's mel features
in a thread-dependent order and Ray gives a 1-CPU actor one thread. The embedder now pins
every thread count it uses. Compared here, bitwise (``np.array_equal``, and transcripts
``==``), on every audio and video item of every built-in dataset:

- this process with 3 torch and 3 BLAS threads vs the Ray engine with 1 CPU per actor
  (two actors on a 2-CPU local Ray, as on a 2-core machine; shards of 16 items, so the
  batches differ too);
- this process vs a fresh process started with ``OMP_NUM_THREADS=1`` (another thread
  count for every runtime that reads it: OpenBLAS, torch, CTranslate2's default).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from media_items import builtin_media_items, embed_local
from ray_engine_fakes import start_ray
from threadpoolctl import threadpool_limits

from audit.embedders import create_embedder
from audit.engines import RayEngineEmbedder, wrap_engine

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def in_process() -> tuple[list[str], np.ndarray, list[str]]:
    """Ids, vectors and transcripts computed here with 3 threads for torch and BLAS."""
    items = builtin_media_items()
    saved = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        with threadpool_limits(limits=3, user_api="blas"):
            vectors, texts = embed_local(items)
    finally:
        torch.set_num_threads(saved)
    return [it.id for it in items], vectors, texts


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    start_ray()
    yield
    ray.shutdown()


def test_builtin_media_items_cover_audio_and_video() -> None:
    items = builtin_media_items()
    kinds = {it.modality for it in items}
    assert kinds == {"audio", "video"}
    assert len(items) == len({it.id for it in items}) >= 87  # 76 speech clips + 11 videos


def test_ray_engine_with_one_cpu_per_actor_gives_the_same_vectors(
    in_process: tuple[list[str], np.ndarray, list[str]], local_ray: None, tmp_path: Path
) -> None:
    ids, expected, _ = in_process
    items = builtin_media_items()
    assert [it.id for it in items] == ids
    base = create_embedder("local")
    base.progress = False  # type: ignore[attr-defined]
    emb = wrap_engine(
        base,
        "local",
        engine="ray",
        options={"shard_dir": str(tmp_path), "shard_size": 16, "num_cpus": 1},
    )
    assert isinstance(emb, RayEngineEmbedder)
    got = emb.embed(items, purpose="index")
    info = emb.describe()["engine"]
    assert info["cpus_per_actor"] == 1.0 and info["actors"] == 2
    assert len(info["workers"]) == 2  # both actors embedded: two processes, not this one
    assert got.shape == expected.shape == (len(items), 384)
    differ = [ids[i] for i in np.flatnonzero((got != expected).any(axis=1))]
    assert differ == []
    assert np.array_equal(got, expected)


def test_another_process_thread_count_gives_the_same_vectors_and_transcripts(
    in_process: tuple[list[str], np.ndarray, list[str]], tmp_path: Path
) -> None:
    ids, expected, texts = in_process
    out = tmp_path / "omp1.npz"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, str(HERE / "media_items.py"), str(out)],
        check=True,
        env=env,
        cwd=HERE,
        timeout=1800,
    )
    with np.load(out, allow_pickle=False) as saved:
        assert saved["ids"].tolist() == ids
        assert saved["transcripts"].tolist() == texts
        assert sum(bool(t) for t in texts) >= 60  # most clips hold speech: a real comparison
        assert np.array_equal(saved["vectors"], expected)
