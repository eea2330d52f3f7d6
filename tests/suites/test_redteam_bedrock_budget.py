"""Square through the Bedrock backend (its local stand-in) stays inside its query budget.

The suite's Square family runs against ``BedrockEmbedder`` with ``embed()`` only; the
stand-in records every HTTP request. The stand-in's vectors are hash-seeded, so every
perturbed image gets an unrelated vector: a targeted attack on a 40-item gallery rarely
wins early, and the budget is what stops it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "embedders"))

from bedrock_standin import NOVA, standin_env
from redteam_suite_data import context, image_dataset

from audit.embedders.bedrock import from_spec
from audit.suites.redteam import RedteamSuite

N_QUERIES = 3
BUDGETS = (10, 25)


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with standin_env(monkeypatch, tmp_path) as s:
        yield s


def _image_requests(standin, purpose: str) -> int:
    count = 0
    for body in standin.bodies():
        params = body["singleEmbeddingParams"]
        count += "image" in params and params["embeddingPurpose"] == purpose
    return count


def test_square_against_bedrock_stays_within_its_query_budget(standin, tmp_path: Path) -> None:
    emb = from_spec(f"{NOVA}?dim=256&max_attempts=2&base_delay=0.001&max_delay=0.005")
    emb.progress = False
    ds = image_dataset(40)
    ctx = context(
        tmp_path,
        emb,
        families=["square"],
        square_queries=N_QUERIES,
        square_budgets=list(BUDGETS),
        square_targeted=True,
        squeezers=[],
        gallery_size=0,
        artifacts_per_attack=0,
    )
    results = RedteamSuite(image_dataset=ds).run(ctx)
    runs = [r for r in results if r.metric == "queries_used"]
    assert sorted((r.check, r.details["query_budget"]) for r in runs) == [
        ("image/square", 10),
        ("image/square", 25),
        ("image/square-targeted", 25),
    ]
    for r in runs:
        budget = r.details["query_budget"]
        assert r.value <= budget * N_QUERIES  # per-input budget x inputs
        # Besides the attack's queries, the report embeds each clean and adversarial input
        assert r.details["rows_embedded"] == r.value + 2 * N_QUERIES
    # Server side: one request per image; the index once, the queries exactly as recorded
    assert _image_requests(standin, "GENERIC_INDEX") == len(ds.corpus)
    sent = sum(r.details["rows_embedded"] for r in runs)
    assert _image_requests(standin, "GENERIC_RETRIEVAL") == sent
    assert len(standin.requests) == len(ds.corpus) + sent  # no retries, nothing else sent
    # The targeted run is stopped by the budget, not by success: it spends most of it
    targeted = next(r for r in runs if r.check == "image/square-targeted")
    assert targeted.value > 0.5 * 25 * N_QUERIES
