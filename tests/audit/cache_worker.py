"""Subprocess body for the killed-run cache test: embeds slowly through the cache."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes import HashEmbedder

from audit.cache import CachedEmbedder
from audit.items import text_item


class SlowHash(HashEmbedder):
    def _embed_batch(self, modality, items, purpose):
        time.sleep(0.05)
        return super()._embed_batch(modality, items, purpose)


if __name__ == "__main__":
    db, n = sys.argv[1], int(sys.argv[2])
    emb = CachedEmbedder(SlowHash(), db, chunk_size=5)
    emb.embed([text_item(f"t{i}", f"sentence number {i}") for i in range(n)])
    print("finished", flush=True)
