"""`audit fit-debias` one-shot, streamed (--chunk-size) and from Ray-engine shards
(--from-shards) fit the same projection on the same split."""

from __future__ import annotations

import numpy as np
import pytest

from audit.cache import cache_key
from audit.cli import EXIT_OK, EXIT_USAGE, main
from audit.datasets import load_dataset
from audit.engines._shards import shard_key, shard_path, write_shard
from audit.pipeline import build_embedder
from fairness.debias import load_debiaser


@pytest.mark.slow
def test_fit_debias_streamed_and_from_shards_equal_one_shot(tmp_path, capsys):
    cache = tmp_path / "c.sqlite"
    base = ["fit-debias", "--sizes", "128", "--cache", str(cache)]
    assert main([*base, "--out", str(tmp_path / "one.npz")]) == EXIT_OK
    assert main([*base, "--out", str(tmp_path / "chunked.npz"), "--chunk-size", "37"]) == EXIT_OK

    # Shards as the Ray engine writes them: this embedder's vectors, purpose index.
    items = list(load_dataset("builtin:gendered-sentences").corpus)
    embedder, _ = build_embedder("local", cache_path=cache)  # all cache hits
    vectors = embedder.embed(items, purpose="index")
    fp = embedder.fingerprint
    shards = tmp_path / "shards"
    for start in range(0, len(items), 50):
        part = items[start : start + 50]
        keys = [cache_key(fp, it, "index") for it in part]
        write_shard(
            shard_path(shards, fp, shard_key(fp, "index", keys)),
            [it.id for it in part],
            keys,
            vectors[start : start + 50],
            fingerprint=fp,
            purpose="index",
        )
    args = [*base, "--out", str(tmp_path / "shards.npz"), "--from-shards", str(shards)]
    assert main(args) == EXIT_OK
    capsys.readouterr()

    # The basis inside the kept subspace is arbitrary (equal eigenvalues may rotate), so
    # compare the orthogonal projector onto it, which the fit determines uniquely.
    one = load_debiaser(tmp_path / "one.npz").components_
    for name in ("chunked", "shards"):
        other = load_debiaser(tmp_path / f"{name}.npz").components_
        assert other.shape == one.shape == (383, 384)
        np.testing.assert_allclose(other.T @ other, one.T @ one, atol=1e-5)

    # A folder without this embedder's shards: the labelled items are missing -> usage error.
    (tmp_path / "empty").mkdir()
    args = [*base, "--out", str(tmp_path / "x.npz"), "--from-shards", str(tmp_path / "empty")]
    assert main(args) == EXIT_USAGE
    assert "audit: error:" in capsys.readouterr().err


def test_fit_debias_streaming_flag_errors(tmp_path, capsys):
    out = ["fit-debias", "--out", str(tmp_path / "p.npz")]
    assert main([*out, "--chunk-size", "0"]) == EXIT_USAGE
    assert "--chunk-size must be >= 1" in capsys.readouterr().err
    assert main([*out, "--chunk-size", "5", "--from-shards", str(tmp_path)]) == EXIT_USAGE
    assert "exclude each other" in capsys.readouterr().err
    assert main([*out, "--from-shards", str(tmp_path / "none")]) == EXIT_USAGE
    assert "no such folder" in capsys.readouterr().err
