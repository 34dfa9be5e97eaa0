"""The fast demo platform of the sync benchmark: pre-rendered pages, feed orders, realistic data,
and a sync from it that ends equal to the platform's truth."""

from __future__ import annotations

import json

import pytest

from lowdash_desktop.api.connection import Connection
from lowdash_desktop.demo.fastfeed import ORDERS, FastDemoPlatform
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.sync.engine import SyncEngine


def feed(platform: FastDemoPlatform) -> list[dict]:
    return [r for start in sorted(platform._pages)
            for r in json.loads(platform._pages[start].body)["data"]]


@pytest.mark.parametrize("order", ORDERS)
def test_every_order_serves_every_generation_and_its_revisions_after_it(order):
    platform = FastDemoPlatform(seed=4, generations=600, order=order, page_limit=100)
    records = feed(platform)
    assert len(records) == platform.feed_length
    newest: dict[str, int] = {}
    for r in records:
        assert r["revision"] == newest.get(r["id"], 0) + 1  # a revision follows its first
        newest[r["id"]] = r["revision"]
    assert newest == platform.truth()
    times = [r["created_at"] for r in records if r["revision"] == 1]
    assert (times == sorted(times)) == (order != "shuffled")
    if order == "revisions-late":
        revised = [r["revision"] for r in records]
        assert revised == sorted(revised)


def test_realistic_data_varies_continuously_and_has_a_long_tail_of_odd_names():
    platform = FastDemoPlatform(seed=4, generations=3000, page_limit=1000)
    records = [r for r in feed(platform) if r["revision"] == 1]
    by_route: dict[tuple, set[int]] = {}
    for r in records:
        by_route.setdefault((r["resolved_model"], r["provider"]), set()).add(r["latency_ms"])
    biggest = max(by_route.values(), key=len)
    assert len(biggest) > 100  # the default demo has at most 16 latencies per route
    models = {r["resolved_model"] for r in records}
    assert len(models) > 40 and any(not m.isascii() for m in models)
    assert all(r["tokens"]["total"] == r["tokens"]["prompt"] + r["tokens"]["completion"]
               + r["tokens"]["reasoning"] for r in records)


def test_a_sync_from_it_equals_the_truth_in_shuffled_order(tmp_path):
    platform = FastDemoPlatform(seed=5, generations=1500, order="shuffled", page_limit=200)
    base_url = platform.start()
    try:
        cache, _ = Cache.open(tmp_path / "c.sqlite3")
        with Connection(base_url, platform.api_key).client() as client:
            result = SyncEngine(client, cache, page_limit=200).run()
        assert result.complete and result.quarantined == 0
        assert cache.revisions() == platform.truth()
        cache.close()
    finally:
        platform.stop()
