"""Session fixtures for the red-team tests; models and data live in redteam_toys.py."""

from __future__ import annotations

import pytest
from redteam_toys import IndexWorld, QueryWorld, make_index_world, make_query_world


@pytest.fixture(scope="session")
def query_world() -> QueryWorld:
    """Image queries and a gallery of noisy copies (item i relevant to query i)."""
    return make_query_world()


@pytest.fixture(scope="session")
def index_world() -> IndexWorld:
    """Image items and text-like queries with a modality gap."""
    return make_index_world()
