"""Search engines in the suites: faiss-flat by default, approximate recall next to every number."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fakes import HashEmbedder

from audit.config import ConfigError, RunConfig
from audit.context import RunContext
from audit.datasets import Dataset
from audit.items import text_item
from audit.report import Result
from audit.retrieval import recall_vs_exact, search
from audit.suites import suite_summary
from audit.suites._bias import BiasOptions
from audit.suites._retrieval import RetrievalOptions
from audit.suites.retrieval import RetrievalSuite
from dashboard.views.retrieval import RECALL_COLUMN, search_recall_columns

IVF = {"nlist": 12, "nprobe": 1}


def _dataset() -> Dataset:
    """300 passages, 40 queries with one relevant passage each, a group attribute."""
    corpus = [text_item(f"d{i:03d}", f"passage {i}", grp="xy"[i % 2]) for i in range(300)]
    queries = [text_item(f"q{i}", f"question {i}") for i in range(40)]
    qrels = {f"q{i}": {f"d{(7 * i) % 300:03d}": 1} for i in range(40)}
    return Dataset("passages-300", None, corpus, queries, qrels)


def _run(tmp_path: Path, **opts: Any) -> list[Result]:
    base = {"sizes": [16], "latency_items": 0, "n_bootstrap": 20, "group_attributes": ["grp"]}
    config = RunConfig(suites=["retrieval"], suite_options={"retrieval": {**base, **opts}}, seed=3)
    ctx = RunContext(embedder=HashEmbedder(dim=16), config=config, run_dir=tmp_path, variants={})
    return RetrievalSuite([_dataset()]).run(ctx)


def test_default_engine_is_faiss_flat_everywhere() -> None:
    assert RetrievalOptions.parse({}, quick=False).engine == "faiss-flat"
    assert BiasOptions.parse({}, quick=True).engine == "faiss-flat"
    assert RetrievalOptions.parse({"engine": "exact"}, quick=False).engine == "exact"
    with pytest.raises(ConfigError, match=r"engine_params: unknown key\(s\) \['nlists'\]"):
        RetrievalOptions.parse({"engine_params": {"nlists": 3}}, quick=False)


def test_default_run_is_exact_and_says_so(tmp_path: Path) -> None:
    results = _run(tmp_path)
    assert results and all(r.details["engine"] == "faiss-flat" for r in results)
    assert all(r.details["search_exact"] and "search_recall" not in r.details for r in results)
    exact = _run(tmp_path, engine="exact")
    assert [(r.metric, r.group, r.value) for r in exact] == [
        (r.metric, r.group, r.value) for r in results
    ]
    text = suite_summary("retrieval", results)
    assert text is not None and "Search: faiss-flat (exact" in text


def _independent_recall(metric: str) -> float:
    """recall@k of IVF against exact search at the metric's k, computed outside the suite."""
    ds = _dataset()
    emb = HashEmbedder(dim=16)
    qv, cv = emb.embed(ds.queries, purpose="query"), emb.embed(ds.corpus, purpose="index")
    cids = [c.id for c in ds.corpus]
    # The suite ranks depth 10 plus one rank for its tie count: 11 neighbours.
    approx = search(qv, cv, 11, corpus_ids=cids, engine="faiss-ivf", **IVF)
    exact = search(qv, cv, 11, corpus_ids=cids, engine="exact")
    return recall_vs_exact(approx, exact, k=_cutoff(metric))


def _cutoff(metric: str) -> int:
    """The metric's k (``ndcg@10_ratio`` -> 10); 10, the depth, for ``avg_recall``."""
    found = re.search(r"@(\d+)", metric)
    return int(found.group(1)) if found else 10


def test_every_ivf_number_carries_its_recall(tmp_path: Path) -> None:
    results = _run(tmp_path, engine="faiss-ivf", engine_params=IVF)
    assert len(results) == 15  # 7 overall, 2 x 2 per group, 2 x 2 gaps
    recalls = set()
    for r in results:
        d = r.details
        assert d["engine"] == "faiss-ivf" and d["search_exact"] is False
        assert 0.0 <= d["search_recall"] <= 1.0 and d["search_recall_queries"] == 40
        assert d["search_recall"] == pytest.approx(_independent_recall(r.metric), abs=1e-12)
        assert d["search_recall_k"] == _cutoff(r.metric)
        recalls.add(d["search_recall"])
    assert min(recalls) < 1.0  # one probed list of twelve: the search really is approximate
    text = suite_summary("retrieval", results)
    assert text is not None
    lines = text.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("Approximate search (faiss-ivf)"))
    assert lines[at].startswith("Approximate search (faiss-ivf): recall@10 ")
    assert lines[at + 1].split() == ["dataset", "modality", "variant", "16"]
    assert lines[at + 3].split() == [
        "passages-300",
        "text->text",
        "raw",
        f"{_independent_recall('recall@10'):.3f}",
    ]


def test_dashboard_table_puts_recall_next_to_approximate_rows(tmp_path: Path) -> None:
    results = _run(tmp_path, engine="faiss-ivf", engine_params=IVF)
    rows = [
        {"check": r.check, "modality": r.modality, "dim": r.dim, "variant": r.variant,
         "details": json.dumps(r.details)}
        for r in results
        if r.group is None
    ]  # fmt: skip
    table = search_recall_columns(pd.DataFrame(rows))
    assert table is not None and len(table) == 1
    row = table.iloc[0]
    assert row["engine"] == "faiss-ivf"
    assert row[RECALL_COLUMN] == f"{_independent_recall('recall@10'):.3f} @10"
    exact = _run(tmp_path)
    plain = [
        {**row_, "details": json.dumps(r.details)} for row_, r in zip(rows, exact, strict=False)
    ]
    assert search_recall_columns(pd.DataFrame(plain)) is None
