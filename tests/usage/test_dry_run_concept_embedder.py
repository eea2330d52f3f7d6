"""A dry run never sends, even when the safety policy's concept check names a hosted model.

The concept checker builds its own embedder from the policy (``[checkers.concepts]
embedder``); in a dry run that one must be a planning embedder too. Checked against the
Bedrock stand-in's request log: a real run of the same pipeline does send.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "embedders"))
bedrock_standin = pytest.importorskip("bedrock_standin")

from audit.items import text_item  # noqa: E402
from audit.pipeline import build_pipeline  # noqa: E402

TITAN = f"bedrock:{bedrock_standin.TITAN_TEXT}?dim=256"
POLICY = """
version = 1
default_action = "block"
unchecked_action = "block"
[categories]
concept-hate = "flag"
[checkers.concepts]
embedder = "{spec}"
[checkers.concepts.categories.concept-hate]
descriptions = ["hate speech"]
threshold = 0.99
"""


@pytest.mark.parametrize("dry_run", [True, False])
def test_hosted_concept_embedder_is_planned_not_called(tmp_path, monkeypatch, dry_run):
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.format(spec=TITAN))
    with bedrock_standin.standin_env(monkeypatch, tmp_path) as standin:
        pipe = build_pipeline(
            TITAN, safety_policy=policy, dry_run=dry_run, run_dir=tmp_path / "run"
        )
        vecs = pipe.deployed.embed([text_item("q1", "a harmless sentence about tea")])
        sent = list(standin.requests)
    assert vecs.shape == (1, 256)
    if dry_run:
        assert sent == []
    else:  # the concept descriptions and the item itself went to the stand-in
        assert len(sent) >= 2
