"""A backend failing part-way: the rows it finished reach the cache before the error.

``BaseEmbedder``'s batch loop attaches the finished rows to the exception (whole batches,
and the part of the failing batch a hook reports), and ``CachedEmbedder`` commits them.
The fake's vectors are a pure function of the content, so every kept row is checked
against a clean run of the same backend.
"""

from __future__ import annotations

import numpy as np
import pytest
from fakes import HashEmbedder

from audit.cache import CachedEmbedder, EmbeddingCache
from audit.embedders.base import EmbeddingError, finished_for, keep_finished
from audit.items import Item, text_item


class Flaky(HashEmbedder):
    """HashEmbedder in batches of 4 that fails on marked texts.

    ``FAIL`` raises ``error`` after embedding the items before it in the batch (reported
    with the exception, as a hosted backend does for its answered requests); ``NAN``
    answers a NaN row for that item.
    """

    batch_size = 4

    def __init__(self, error: type[BaseException] = EmbeddingError) -> None:
        super().__init__()
        self.error = error

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        marked = [i for i, it in enumerate(items) if "FAIL" in str(it.content)]
        if marked:
            before = list(range(marked[0]))
            exc = self.error(f"backend gone at {items[marked[0]].id}")
            keep_finished(
                exc, items, before, super()._embed_batch(modality, items[: len(before)], purpose)
            )
            raise exc
        raw = super()._embed_batch(modality, items, purpose)
        raw[[i for i, it in enumerate(items) if "NAN" in str(it.content)]] = np.nan
        return raw


def items(n: int, **special: str) -> list[Item]:
    return [text_item(f"t{i}", special.get(f"t{i}", f"sentence number {i}")) for i in range(n)]


@pytest.mark.parametrize("error", [EmbeddingError, KeyboardInterrupt])
def test_rows_finished_before_an_error_are_cached_and_not_embedded_again(tmp_path, error):
    bad = items(10, t6="this one will FAIL")  # batches t0-t3, t4-t7: t4 and t5 finish
    path = tmp_path / "c.sqlite"
    with pytest.raises(error) as info:
        CachedEmbedder(Flaky(error), path, chunk_size=8).embed(bad)
    assert EmbeddingCache(path).count() == 6
    assert "6 embedding(s) finished before this error are saved" in "".join(info.value.__notes__)
    good = items(10)
    good[:6] = bad[:6]  # the same content: cache hits
    backend = HashEmbedder()
    again = CachedEmbedder(backend, path, chunk_size=8)
    got = again.embed(good)
    assert backend.calls == [f"t{i}" for i in range(6, 10)]  # only what was missing
    np.testing.assert_array_equal(got, HashEmbedder().embed(good))


def test_an_unusable_row_keeps_the_usable_ones_of_its_batch(tmp_path):
    bad = items(6, t5="NAN here")  # batches t0-t3, t4-t5
    path = tmp_path / "c.sqlite"
    with pytest.raises(EmbeddingError, match=r"t5 \(NaN/inf values\)"):
        CachedEmbedder(Flaky(), path).embed(bad)
    assert EmbeddingCache(path).count() == 5
    backend = HashEmbedder()
    fixed = items(6)
    got = CachedEmbedder(backend, path).embed(fixed)
    assert backend.calls == ["t5"]
    np.testing.assert_array_equal(got, HashEmbedder().embed(fixed))


def test_rows_attached_for_other_items_are_ignored():
    exc = EmbeddingError("x")
    keep_finished(exc, items(3), [2], np.ones((1, 16)))
    assert finished_for(exc, items(3), 16) is not None
    assert finished_for(exc, items(3), 8) is None  # other width
    assert finished_for(exc, items(2), 16) is None  # position out of range
    assert (
        finished_for(exc, [text_item("x0", "a"), text_item("x1", "b"), text_item("x2", "c")], 16)
        is None
    )


class DiesOnSecondBatch(HashEmbedder):
    """Answers its first batch of 4, then the endpoint goes away."""

    batch_size = 4

    def __init__(self) -> None:
        super().__init__()
        self.n_batches = 0

    def _embed_batch(self, modality: str, items: list[Item], purpose: str) -> np.ndarray:
        self.n_batches += 1
        if self.n_batches > 1:
            raise EmbeddingError("connection refused by http://127.0.0.1:9")
        return super()._embed_batch(modality, items, purpose)


def test_a_failed_runs_report_says_what_the_cache_kept(tmp_path, monkeypatch):
    """The one-line error in report.json carries the cache's note, not only the traceback."""
    import json

    from fakes import register_embedder

    from audit.cli import main

    register_embedder(monkeypatch, "diesonsecond", DiesOnSecondBatch)
    cfg = tmp_path / "run.toml"
    cfg.write_text('[suite.bias]\ntests = ["weat6"]\n', encoding="utf-8")
    out = tmp_path / "runs"
    code = main(["run", "--suite", "bias", "--embedder", "diesonsecond", "--config", str(cfg),
                 "--out", str(out), "--no-progress"])  # fmt: skip
    assert code == 3
    (path,) = out.glob("*/report.json")
    first = json.loads(path.read_text())["errors"][0]
    assert first.startswith("EmbeddingError: connection refused")
    # the cache counted the rows itself: 4 of the first batch
    assert "(4 embedding(s) finished before this error are saved in the cache" in first
    assert EmbeddingCache(out / ".cache" / "embeddings.sqlite").count() == 4
