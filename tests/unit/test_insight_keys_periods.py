"""Spend by key and period comparison: exact sums of the cache's amounts, movers in order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lowdash_desktop.insight.common import money_text
from lowdash_desktop.insight.keys import spend_by_key
from lowdash_desktop.insight.periods import compare
from lowdash_desktop.insight.report import as_json, insight, span_words, summary_text

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


def test_a_previous_period_the_history_only_partly_covers_has_no_percentage(cache):
    """45 days of flat spend: the 30 days before the last 30 hold 15 days of history. A
    '+100%' there is an artefact of the history's start, not a rise."""
    rows = [row(i, NOW - day * DAY_MS - HOUR_MS, "1.00", key="key_a")
            for i, day in enumerate(range(45))]
    store(cache, rows, keys={"key_a": "Production"})
    ins = insight(cache.conn, NOW, 30)
    doc = as_json(ins)["periods"]
    assert doc["30d"]["previous"]["covered_days"] == pytest.approx(15, abs=1)
    assert doc["30d"]["change"]["percent"] is None
    assert all(m["percent"] is None for m in doc["30d"]["movers"])
    assert doc["7d"]["change"]["percent"] == 0.0  # fully covered, flat: no change
    text = summary_text(ins)
    assert "+100" not in text and "cover only" in text


def test_names_reach_the_terminal_visible_and_inert(cache):
    rows = [row(i, NOW - day * DAY_MS - HOUR_MS, "1.00", key="key_x") for i, day in
            enumerate(range(20))]
    store(cache, rows, keys={"key_x": "line1\nline2\ttab \u202eevil"})
    text = summary_text(insight(cache.conn, NOW, 30))
    assert "\u202e" not in text and "\t" not in text
    assert all("line2" not in line or "line1" in line for line in text.splitlines())


@pytest.mark.parametrize("value, low, high, words", [
    (0.348, 0.2, 0.5, "about 8 hours (5-12)"),
    (0.5, 0.25, None, "about 12 hours (6 or more)"),
    (23.2, 18.0, 31.0, "about 23 days (18-31)"),
])
def test_a_runway_under_two_days_is_said_in_hours(value, low, high, words):
    assert span_words(value, low, high) == words
