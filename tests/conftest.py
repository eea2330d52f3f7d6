"""Shared fixtures: a deterministic fake backend so core tests need no model."""

from __future__ import annotations

import pytest
from fakes import HashEmbedder


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()
