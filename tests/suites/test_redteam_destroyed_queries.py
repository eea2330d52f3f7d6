"""The red-team suite when a text attack leaves a query the embedder refuses.

At full settings ``typo-drop`` at 8 edits wipes out one-word queries of ``builtin:passages``
(issue 16: the whole suite used to fail with "empty text"). Such a query must be counted
(``queries_destroyed``, ``details.n_destroyed``) and scored as a miss; here the counts are
known by construction and the scores recomputed with plain numpy over ``HashEmbedder``
vectors (a query's text equals its passage's, so clean retrieval is exact).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import HashEmbedder
from redteam_suite_data import context

from audit.datasets import Dataset
from audit.items import ItemLimits, text_item
from audit.report import Result
from audit.suites import suite_summary
from audit.suites.redteam import RedteamSuite
from redteam.text import TypoDrop, TypoInsert

SHORT = ["Lambdas", "None", "a b"]  # <= 8 alphanumerics: nothing (or a space) is left
LONG = [
    "Notes on hash tables and how dicts resize.",
    "How the garbage collector finds cycles.",
    "Reading a socket with a timeout set.",
]


def dataset(texts: list[str]) -> Dataset:
    corpus = [text_item(f"p{i}", t) for i, t in enumerate(texts)]
    corpus += [text_item(f"x{i}", f"Unrelated passage {i}.") for i in range(20)]
    queries = [text_item(f"q{i}", t) for i, t in enumerate(texts)]
    return Dataset(
        "mini", None, corpus, queries, {f"q{i}": {f"p{i}": 1} for i in range(len(texts))}
    )


def run(tmp_path: Path, emb: Any, texts: list[str], attack: str, budget: int) -> list[Result]:
    ctx = context(
        tmp_path,
        emb,
        families=["text"],
        text_attacks=[attack],
        text_budgets=[budget],
        text_queries=100,
        k=1,
    )
    return RedteamSuite(text_dataset=dataset(texts)).run(ctx)


def one(results: list[Result], metric: str, variant: str) -> Result:
    hits = [r for r in results if r.metric == metric and r.variant == variant]
    assert len(hits) == 1, [(r.check, r.metric, r.variant) for r in results]
    return hits[0]


def test_wiped_queries_are_counted_and_scored_as_misses(tmp_path: Path) -> None:
    emb = HashEmbedder()
    texts = SHORT + LONG
    results = run(tmp_path, emb, texts, "typo-drop", 8)
    seed = one(results, "attack_success_rate", "raw").details["seed"]
    attacked = TypoDrop(budget=8, seed=seed).perturb(texts)
    assert [t.strip() for t in attacked[:3]] == ["", "", ""]
    assert all(t.strip() for t in attacked[3:])

    # By hand: the three short queries are destroyed, raw and behind the sanitiser.
    for variant in ("raw", "defended"):
        gone = one(results, "queries_destroyed", variant)
        assert gone.value == 3.0 and gone.n == 6
        assert one(results, "attack_success_rate", variant).details["n_destroyed"] == 3
    # The long ones are ranked by plain numpy over the embedder's own vectors.
    gallery_items = dataset(texts).corpus
    gallery = emb.embed(gallery_items, purpose="index")
    q = emb.embed([text_item(f"a{i}", attacked[i]) for i in (3, 4, 5)], purpose="query")
    scores = q @ gallery.T
    survivor_hits = [int(np.argmax(scores[j]) == 3 + j) for j in range(3)]
    recall = one(results, "recall@1_attacked", "raw")
    assert recall.value == pytest.approx(sum(survivor_hits) / 6)  # wiped rows are misses
    assert recall.details["recall_clean"] == 1.0
    asr = one(results, "attack_success_rate", "raw")
    assert asr.value == pytest.approx((3 + 3 - sum(survivor_hits)) / 6)
    used = one(results, "queries_used", "raw")
    assert used.value == 6 + 3  # clean queries + the attacked ones the embedder accepted
    text = suite_summary("redteam", results)
    assert "text/typo-drop 8 edits raw: 3 of 6 queries" in text


class ShortTextEmbedder(HashEmbedder):
    """Refuses text over 45 characters, as an API with a small request limit does."""

    limits = ItemLimits(max_bytes={"text": 45})


def test_the_embedders_own_limits_decide_what_is_destroyed(tmp_path: Path) -> None:
    emb = ShortTextEmbedder()
    results = run(tmp_path, emb, LONG, "typo-insert", 4)
    seed = one(results, "attack_success_rate", "raw").details["seed"]
    attacked = TypoInsert(budget=4, seed=seed).perturb(LONG)
    over = sum(len(t) > 45 for t in attacked)
    assert [len(t) for t in LONG] == [42, 39, 36] and over == 1  # 42 + 4 inserts = 46
    assert one(results, "queries_destroyed", "raw").value == over
    assert one(results, "queries_used", "raw").value == 3 + 3 - over
