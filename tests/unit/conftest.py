"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from lowdash_desktop.store.cache import Cache


@pytest.fixture
def cache(tmp_path):
    """An empty cache, opened as the app opens it (modules may override with seeded ones)."""
    cache, _ = Cache.open(tmp_path / "cache.sqlite3")
    yield cache
    cache.close()
