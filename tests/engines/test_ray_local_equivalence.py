"""The Ray engine against the in-process engine with the real ``local`` backend.

What is compared, precisely: vectors the Ray actors return for a shard against the same
backend run in this process on the same slice (the same batch) with the same torch thread
count as the actor (1, from ``num_cpus=1``): bitwise equal (``np.array_equal``). Since
issue 23 ``local`` pins its torch threads and embeds one item per forward pass, so another
thread count in this process and another batch give bitwise-equal vectors too (before,
they differed in float32 rounding: sums ordered by thread and by batch shape). Audio and
video: test_media_engine_equivalence.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from ray_engine_fakes import start_ray

from audit.cli import EXIT_OK, main
from audit.datasets import load_dataset
from audit.embedders import create_embedder
from audit.engines import RayEngineEmbedder, iter_shards, wrap_engine
from audit.items import Item
from audit.report import load_report

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    start_ray()
    yield
    ray.shutdown()


@pytest.fixture
def one_thread() -> Iterator[None]:
    """This process computes like a 1-CPU actor (Ray sets its OMP threads to 1)."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def _builtin_items() -> list[Item]:
    emoji = load_dataset("builtin:emoji-professions")
    passages = load_dataset("builtin:passages")
    # text queries, profession images, passages: both paths of the local backend
    return [*emoji.queries[:6], *emoji.corpus[:10], *passages.corpus[:8]]


@pytest.mark.slow
def test_ray_vectors_equal_in_process_vectors_of_the_same_shards(
    local_ray: None, one_thread: None, tmp_path: Path
) -> None:
    items = _builtin_items()
    assert {it.modality for it in items} == {"text", "image"}
    base = create_embedder("local")
    base.progress = False
    emb = wrap_engine(
        base,
        "local",
        engine="ray",
        options={"shard_dir": str(tmp_path), "shard_size": 12, "num_actors": 1},
    )
    assert isinstance(emb, RayEngineEmbedder)
    got = emb.embed(items, purpose="index")
    same_batches = np.concatenate([base.embed(items[i : i + 12]) for i in range(0, len(items), 12)])
    assert got.dtype == np.float32 and got.shape == (len(items), 384)
    assert np.array_equal(got, same_batches)
    torch.set_num_threads(2)  # another thread count and batch: pinned, so the same bits
    assert np.array_equal(got, base.embed(items))
    torch.set_num_threads(1)
    on_disk = {i: v for ids, vecs in iter_shards(tmp_path) for i, v in zip(ids, vecs, strict=True)}
    assert np.array_equal(np.stack([on_disk[it.id] for it in items]), got)
    assert emb.describe()["engine"]["shards_computed"] == 2


def _results(run_dir: Path) -> list[tuple]:
    report = load_report(next(run_dir.glob("*/report.json")))
    assert report.status != "error", report.errors
    fields = ("suite", "check", "metric", "variant", "dim", "modality", "group")
    fields += ("value", "p_value", "ci_low", "ci_high", "n")
    return [tuple(getattr(r, f) for f in fields) for r in report.results]  # report order


@pytest.mark.slow
def test_cli_runs_on_both_engines_give_identical_suite_results(
    local_ray: None, one_thread: None, tmp_path: Path
) -> None:
    config = tmp_path / "run.toml"
    config.write_text('[suite.bias]\nprobes = ["weat/weat6"]\ndebias = "none"\n')
    common = ["run", "--suite", "bias,retrieval", "--quick", "--no-cache", "--no-progress"]
    common += ["--config", str(config)]
    assert main([*common, "--out", str(tmp_path / "inprocess")]) == EXIT_OK
    ray_args = ["--engine", "ray", "--shard-size", "32", "--out", str(tmp_path / "ray")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUDIT_SHARD_DIR", str(tmp_path / "shards"))
        assert main([*common, *ray_args]) == EXIT_OK
    inproc, on_ray = _results(tmp_path / "inprocess"), _results(tmp_path / "ray")
    checks = {(r[0], r[5]) for r in inproc}
    # bias on text (WEAT 6); retrieval on text->text (passages) and text->image (emoji)
    assert {("bias", None), ("retrieval", "text->text"), ("retrieval", "text->image")} <= checks
    assert len(inproc) > 50
    assert inproc == on_ray  # every value, p-value and interval equal, not merely close
    assert len(list((tmp_path / "shards").rglob("*.parquet"))) >= 4
    engine = load_report(next((tmp_path / "ray").glob("*/report.json"))).wrappers.engine
    assert engine is not None and engine["shards_computed"] >= 4
    # Without $AUDIT_SHARD_DIR the shards go beside the run's cache: a re-run reuses them.
    ray_args[-1] = str(tmp_path / "ray2")
    assert main([*common, *ray_args]) == EXIT_OK
    shards = list((tmp_path / "ray2" / ".cache" / "shards").rglob("*.parquet"))
    assert len(shards) >= 4 and _results(tmp_path / "ray2") == inproc
    reports = sorted((tmp_path / "ray2").glob("*/report.json"))
    assert main([*common, *ray_args]) == EXIT_OK  # same out: every shard is reused
    rerun = [p for p in (tmp_path / "ray2").glob("*/report.json") if p not in reports]
    engine = load_report(rerun[0]).wrappers.engine
    assert engine is not None and engine["shards_computed"] == 0 and engine["shards_reused"] >= 4
