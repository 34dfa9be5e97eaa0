"""End to end over real HTTP: the demo platform, the client, the engine, the cache."""

from __future__ import annotations

import pytest

from lowdash_desktop.api.connection import Connection
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.sync.engine import SyncEngine, SyncError


def sync(platform, path, **kw):
    cache, _ = Cache.open(path)
    with Connection(platform.base_url, platform.api_key).client() as client:
        try:
            return SyncEngine(client, cache, **kw).run(), cache
        except SyncError:
            cache.close()
            raise


def test_full_sync_equals_the_platform(demo_platform, tmp_path):
    result, cache = sync(demo_platform, tmp_path / "c.sqlite3", page_limit=97)
    truth = demo_platform.truth()
    assert cache.revisions() == truth, "same ids, each at its highest revision"
    assert result.received >= len(truth), "revisions re-appear in the feed"
    assert cache.generation_count() == len(truth)
    sample = next(iter(demo_platform.all_generations()))
    stored = cache.generation(sample["id"])
    assert stored["cost"] == sample["cost"]["amount"]
    assert stored["total_tokens"] == sample["tokens"]["total"]
    assert {"account", "credits", "models", "methodology", "keys"} <= set(result.snapshots)
    assert cache.invoices(), "invoices are synced for offline use"
    cache.close()


def test_incremental_sync_resumes_from_cursor(demo_platform, tmp_path):
    path = tmp_path / "c.sqlite3"
    _, cache = sync(demo_platform, path)
    cache.close()
    demo_platform.add_generations(25)
    before = demo_platform.requests["/generations"]
    result, cache = sync(demo_platform, path)
    assert cache.revisions() == demo_platform.truth()
    assert result.received == 25
    assert demo_platform.requests["/generations"] - before == 1, "only the new tail is fetched"
    cache.close()


def test_wrong_key_changes_nothing(demo_platform, tmp_path):
    path = tmp_path / "c.sqlite3"
    _, cache = sync(demo_platform, path)
    count, cursor = cache.generation_count(), cache.feed_cursor
    cache.close()
    cache, _ = Cache.open(path)
    with Connection(demo_platform.base_url, "lr-live-" + "x" * 40).client() as client:
        with pytest.raises(SyncError) as info:
            SyncEngine(client, cache).run()
    assert "refused" in info.value.message
    assert info.value.result.error_kind == "auth"
    assert (cache.generation_count(), cache.feed_cursor) == (count, cursor)
    cache.close()


def test_server_down_is_offline(demo_platform, tmp_path):
    url, key = demo_platform.base_url, demo_platform.api_key
    demo_platform.stop()
    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    from lowdash_desktop.api.client import RetryPolicy

    with Connection(url, key).client(retry=RetryPolicy(attempts=2, base_delay=0.01)) as client:
        with pytest.raises(SyncError) as info:
            SyncEngine(client, cache).run()
    assert info.value.result.error_kind == "offline"
    assert info.value.message.startswith("Offline")
    cache.close()
