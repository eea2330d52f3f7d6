import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from fakes import HashEmbedder

from audit.cache import CachedEmbedder, EmbeddingCache
from audit.items import text_item

WORKER = Path(__file__).with_name("cache_worker.py")


def _items(n):
    return [text_item(f"t{i}", f"sentence number {i}") for i in range(n)]


def test_hits_skip_the_backend_and_match_fresh_vectors(tmp_path):
    base = HashEmbedder()
    cached = CachedEmbedder(base, tmp_path / "c.sqlite", chunk_size=3)
    first = cached.embed(_items(10))
    assert len(base.calls) == 10
    second = cached.embed(_items(12))
    assert len(base.calls) == 12  # only the two new items were embedded
    np.testing.assert_array_equal(second[:10], first)
    np.testing.assert_allclose(second, HashEmbedder().embed(_items(12)), rtol=1e-6)
    # Truncation is applied after the cache: stored vectors stay native-size.
    short = cached.embed(_items(3), dim=4)
    manual = first[:3, :4] / np.linalg.norm(first[:3, :4], axis=1, keepdims=True)
    np.testing.assert_allclose(short, manual, rtol=1e-6)
    assert len(base.calls) == 12


def test_key_separates_purpose_and_fingerprint(tmp_path):
    db = tmp_path / "c.sqlite"
    a = HashEmbedder()
    CachedEmbedder(a, db).embed(_items(2), purpose="index")
    CachedEmbedder(a, db).embed(_items(2), purpose="query")
    assert len(a.calls) == 4  # query vectors are cached separately
    other = HashEmbedder(dim=16)
    other.params = {"dim": 16, "variant": "other"}  # different params -> different key
    CachedEmbedder(other, db).embed(_items(2))
    assert len(other.calls) == 2
    assert EmbeddingCache(db).count() == 6


def test_killed_run_resumes_without_recomputing(tmp_path):
    db = tmp_path / "cache.sqlite"
    n = 200
    proc = subprocess.Popen([sys.executable, str(WORKER), str(db), str(n)])
    try:
        reader = None
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline:
            if db.exists():
                # A concurrent reader while the writer is busy (WAL mode).
                reader = reader or sqlite3.connect(db, timeout=5)
                try:
                    done = reader.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
                except sqlite3.OperationalError:
                    done = 0
                if done >= 40:
                    break
            time.sleep(0.02)
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert 40 <= done < n, f"worker state unexpected: {done} rows"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    survived = conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    conn.close()
    assert survived % 5 == 0  # whole chunks only: nothing half-written

    base = HashEmbedder()
    out = CachedEmbedder(base, db, chunk_size=5).embed(_items(n))
    assert len(base.calls) == n - survived  # finished embeddings were reused
    np.testing.assert_allclose(out, HashEmbedder().embed(_items(n)), rtol=1e-6)
