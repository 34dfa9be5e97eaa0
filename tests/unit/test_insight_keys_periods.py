"""Spend by key and period comparison: exact sums of the cache's amounts, movers in order."""

from __future__ import annotations

from decimal import Decimal

from lowdash_desktop.insight.common import money_text
from lowdash_desktop.insight.keys import spend_by_key
from lowdash_desktop.insight.periods import compare
from lowdash_desktop.insight.report import as_json, insight

from .insight_rows import DAY_MS, HOUR_MS, row, store

NOW = 1_796_000_000_000 // HOUR_MS * HOUR_MS


def seeded(cache):
    rows, i = [], 0
    for day in range(60):
        at = NOW - day * DAY_MS - HOUR_MS
        # key_a steady; key_b doubles in the last 7 days; key_c only before the last 7 days
        rows.append(row(i, at, "0.123456789", key="key_a", model="m/one", provider="p1"))
        rows.append(row(i + 1, at, "0.200000001" if day < 7 else "0.100000001", key="key_b",
                        model="m/two", provider="p2", tokens=7))
        if day >= 7:
            rows.append(row(i + 2, at, "0.05", key="key_c", model="m/one", provider="p1"))
        i += 3
    store(cache, rows, keys={"key_a": "Production", "key_b": "Batch"})
    return rows


def sql_sum(cache, where: str, params=()) -> Decimal:
    texts = cache.conn.execute(f"SELECT cost FROM generations WHERE {where}", params)
    return sum((Decimal(t) for (t,) in texts), Decimal(0))


def test_spend_by_key_exact_with_names_and_shares(cache):
    seeded(cache)
    keys = spend_by_key(cache.conn, NOW - 30 * DAY_MS, NOW)
    assert [k.key_id for k in keys] == ["key_a", "key_b", "key_c"]  # 3.7037 > 3.7000 > 1.15
    assert [k.name for k in keys] == ["Production", "Batch", None]  # key_c is not listed
    for k in keys:
        exact = sql_sum(cache, "key_id=? AND created_at >= ? AND created_at < ?",
                        (k.key_id, NOW - 30 * DAY_MS, NOW))
        assert Decimal(money_text(k.spend)) == exact
    assert abs(sum(k.share for k in keys) - 1) < 1e-12
    assert keys[0].generations == 30 and keys[1].tokens == 30 * 7


def test_periods_totals_change_and_largest_movers_first(cache):
    seeded(cache)
    week = compare(cache.conn, NOW, 7)
    assert week.current.generations == 14 and week.previous.generations == 21
    cur = sql_sum(cache, "created_at >= ? AND created_at < ?", (NOW - 7 * DAY_MS, NOW))
    prev = sql_sum(cache, "created_at >= ? AND created_at < ?",
                   (NOW - 14 * DAY_MS, NOW - 7 * DAY_MS))
    assert Decimal(money_text(week.current.spend)) == cur
    assert Decimal(money_text(week.previous.spend)) == prev
    assert Decimal(money_text(week.change)) == cur - prev
    changes = [abs(m.change) for m in week.movers]
    assert changes == sorted(changes, reverse=True)
    by = {(m.dimension, m.id): m for m in week.movers}
    assert round(by[("key", "key_b")].percent) == 100  # doubled
    assert by[("key", "key_c")].current == 0 and by[("key", "key_c")].change < 0
    assert ("key", "key_a") not in by  # unchanged: not a mover
    assert by[("key", "key_b")].name == "Batch"
    month = compare(cache.conn, NOW, 30)
    assert month.previous.generations == 90 and month.current.generations == 83


def test_report_json_shape_and_cents(cache):
    seeded(cache)
    doc = as_json(insight(cache.conn, NOW, 30))
    assert {"currency", "runway", "spikes", "keys", "periods"} <= set(doc)
    assert doc["currency"] == "EUR" and doc["as_of"].endswith("Z")
    assert set(doc["runway"]) >= {"balance", "burn_per_day", "days", "runs_out", "basis_days",
                                  "note"}
    assert set(doc["keys"][0]) == {"key_id", "name", "spend", "tokens", "generations", "share"}
    assert set(doc["periods"]) == {"7d", "30d"}
    for period in doc["periods"].values():
        assert set(period) >= {"current", "previous", "change", "movers"}
        assert set(period["current"]) == {"from", "to", "spend", "tokens", "generations"}
    total = sum(Decimal(k["spend"]) for k in doc["keys"])
    assert total == Decimal(doc["periods"]["30d"]["current"]["spend"])
    assert doc["spikes"] == []
