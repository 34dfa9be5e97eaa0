"""The demo shows every insight view filled: a fresh sync of the demo a new user starts on
(`lowdash --demo`: 3000 generations) has a spike at the default minimum, a runway of weeks to
months with a finite range, weeks that differ with movers, and a top-up history."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from lowdash_desktop.api.connection import Connection
from lowdash_desktop.demo import DemoPlatform
from lowdash_desktop.demo.data import BURST_ROUTE
from lowdash_desktop.insight.report import insight
from lowdash_desktop.insight.spikes import SpikeRule
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.sync.engine import SyncEngine


@pytest.mark.parametrize("seed", [7, 9])  # 9: a demo account without a "Batch jobs" key
def test_fresh_demo_sync_fills_every_insight_view(seed, tmp_path):
    with DemoPlatform(seed=seed, generations=3000) as platform:
        cache, _ = Cache.open(tmp_path / "c.sqlite3")
        try:
            with Connection(platform.base_url, platform.api_key).client() as client:
                SyncEngine(client, cache).run()
                topups = client.topups(limit=100).data  # as Settings -> Credits lists them
            assert cache.generation_count() == 3000, "--generations N is still the total"
            now = int(time.time() * 1000)
            found = insight(cache.conn, now, 30)
        finally:
            cache.close()

        # spikes: the batch burst of two days ago, at the default minimum, on its key and model
        assert found.rule == SpikeRule() and found.rule.min_amount == 1_000_000_000
        start, end = platform.data.burst
        burst_key = platform.data.key_ids[platform.data.burst_key]
        assert 36 * 3_600_000 < now - end and now - start < 72 * 3_600_000
        scopes = {(s.scope, s.id) for s in found.spikes}
        assert scopes == {("key", burst_key), ("model", BURST_ROUTE[0])}
        for spike in found.spikes:
            assert spike.start_ms < end and spike.end_ms > start
            assert spike.spend >= 2 * found.rule.min_amount
            assert spike.spend > 5 * max(spike.expected, spike.threshold // 3)
        names = {k["id"]: k["name"] for k in platform.keys.values()}
        assert names[burst_key] == ("Batch jobs" if "Batch jobs" in names.values()
                                    else "Production")

        # runway: weeks to months, and a finite range around it
        runway = found.runway
        assert runway.days is not None and runway.days.high is not None
        assert 0 < runway.days.low <= runway.days.value <= runway.days.high
        assert 21 <= runway.days.value <= 120
        assert runway.runs_out is not None and runway.runs_out[1] is not None
        assert not runway.below_threshold and runway.reaches_threshold is not None

        # periods: this week differs from the one before by a visible margin, with movers both
        # ways (the assistant's move from GPT-4o to Claude Sonnet 4)
        week = found.periods[7]
        assert week.percent is not None and abs(week.percent) >= 20
        assert week.movers and {m.dimension for m in week.movers} == {"model", "provider", "key"}
        assert any(m.change < 0 for m in week.movers) and any(m.change > 0 for m in week.movers)
        by_model = {m.id: m.change for m in week.movers if m.dimension == "model"}
        assert by_model["openai/gpt-4o"] < 0 < by_model["anthropic/claude-sonnet-4"]

        # top-ups: a history, in tens of euros, that pays for the spend and leaves the balance
        assert len(topups) >= 8
        paid = sum(Decimal(t.amount) for t in topups if t.status == "succeeded")
        assert all(Decimal(t.amount) % 10 == 0 for t in topups)
        spent = Decimal(int(platform.data.cost.sum())) / 10**9
        assert paid - spent == Decimal(platform.credits["balance"])
        assert {t.status for t in topups} == {"succeeded", "failed", "pending"}


def test_small_demos_are_the_plain_traffic():
    """Below 500 generations the demo is its plain synthetic traffic (no burst, no workload)."""
    small = DemoPlatform(seed=3, generations=200)
    assert small.data.burst is None
    assert len(small.data) == 200
