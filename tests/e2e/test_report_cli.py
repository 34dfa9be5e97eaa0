"""`lowdash report` as a real process against caches synced from the demo platform."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest

from lowdash_desktop import accounts
from lowdash_desktop.demo.data import BURST_ROUTE
from lowdash_desktop.insight.spikes import find_spikes
from lowdash_desktop.store.cache import Cache

from .test_eco_cli import run_lowdash


@pytest.fixture
def synced(demo_platform, data_dir):
    done = run_lowdash("sync", "--base-url", demo_platform.base_url, "--quiet",
                       env={"LOWDASH_API_KEY": demo_platform.api_key})
    assert done.returncode == 0, done.stderr
    return demo_platform


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def test_report_json_agrees_with_sums_over_the_cache(synced, data_dir):
    done = run_lowdash("report", "--days", "30", "--json", "--base-url", synced.base_url)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(doc) == {"currency", "as_of", "days", "runway", "spikes", "spike_min_amount",
                        "keys", "periods"}
    assert doc["currency"] == "EUR" and doc["days"] == 30
    entry = accounts.find(data_dir, synced.base_url)
    cache = Cache.open_reader(entry.cache_path(data_dir))
    try:
        def exact(where: str, params) -> Decimal:
            rows = cache.conn.execute(f"SELECT cost FROM generations WHERE {where}", params)
            return sum((Decimal(t) for (t,) in rows), Decimal(0))

        now = ms(doc["as_of"])
        for key in doc["keys"]:
            assert Decimal(key["spend"]) == exact(
                "key_id = ? AND created_at >= ? AND created_at < ?",
                (key["key_id"], now - 30 * 86_400_000, now))
        for name, period in doc["periods"].items():
            for side in ("current", "previous"):
                figures = period[side]
                assert Decimal(figures["spend"]) == exact(
                    "created_at >= ? AND created_at < ?", (ms(figures["from"]), ms(figures["to"])))
            assert Decimal(period["change"]["spend"]) == (
                Decimal(period["current"]["spend"]) - Decimal(period["previous"]["spend"]))
            assert name in ("7d", "30d")
        assert Decimal(doc["runway"]["balance"]) == Decimal(synced.credits["balance"])
        # the demo's one batch burst is found, on its key and on its model; its normal traffic
        # raises no false alarm in 30 days at the default minimum
        start, end = synced.data.burst
        burst_scopes = {("key", synced.data.key_ids[synced.data.burst_key]),
                        ("model", BURST_ROUTE[0])}
        assert {(s["scope"], s["id"]) for s in doc["spikes"]} == burst_scopes
        for spike in find_spikes(cache.conn, now, 30):
            assert (spike.scope, spike.id) in burst_scopes
            assert spike.start_ms < end and spike.end_ms > start
    finally:
        cache.close()
    burn = {k: Decimal(v) for k, v in doc["runway"]["burn_per_day"].items()}
    assert burn["low"] <= burn["value"] <= burn["high"]
    days = doc["runway"]["days"]
    assert days["low"] <= days["value"] and (days["high"] is None or days["value"] <= days["high"])
    assert doc["runway"]["runs_out"]["earliest"] <= (doc["runway"]["runs_out"]["latest"]
                                                      or "9999")


def test_report_text_and_usage_errors(synced):
    done = run_lowdash("report", "--base-url", synced.base_url)
    assert done.returncode == 0, done.stderr
    assert "Runway:" in done.stdout and "Spend by key:" in done.stdout
    assert "Last 7 days vs the 7 before" in done.stdout
    for bad in (["--days", "0"], ["--days", "x"], ["--spike-min", "-1"],
                ["--spike-min", "NaN"], ["--spike-min", "1e999999"]):
        done = run_lowdash("report", *bad)
        assert done.returncode == 2, bad
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_report_without_a_cached_account(data_dir):
    done = run_lowdash("report", "--json")
    assert done.returncode == 2
    assert "run `lowdash sync` first" in done.stderr
