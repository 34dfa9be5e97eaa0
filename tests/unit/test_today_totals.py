"""Today's totals for the tray: summed per currency from a local midnight, in SQL."""

from __future__ import annotations

from decimal import Decimal

from lowdash_desktop.store.aggregates import today_totals
from lowdash_desktop.store.cache import Cache

MIDNIGHT = 1_800_000_000_000


def fill(cache: Cache, rows) -> None:
    with cache.transaction() as conn:
        conn.executemany(
            "INSERT INTO generations (id, revision, created_at, model, cost, cost_nanos, "
            "currency, total_tokens) VALUES (?, 1, ?, 'm', ?, ?, ?, ?)",
            [
                (gid, at, str(Decimal(nanos) / 10**9), nanos, cur, tok)
                for gid, at, nanos, cur, tok in rows
            ],
        )


def test_sums_from_midnight_per_currency(tmp_path):
    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    fill(
        cache,
        [
            ("before", MIDNIGHT - 1, 5_000_000_000, "EUR", 9_000),  # yesterday's last millisecond
            ("at", MIDNIGHT, 250_000_000, "EUR", 1_000),  # midnight itself is today
            ("noon", MIDNIGHT + 43_200_000, 1_125_000_001, "EUR", 2_500),
            ("tiny", MIDNIGHT + 50_000_000, 2, "EUR", 34),
            ("yen", MIDNIGHT + 1, 120_000_000_000, "JPY", 10),
        ],
    )
    totals = today_totals(cache.conn, MIDNIGHT)
    assert list(totals) == ["EUR", "JPY"]  # one entry per currency, in order
    assert totals["EUR"] == (Decimal("1.375000003"), 3_534, 3)  # every nano kept
    assert totals["JPY"] == (Decimal("120"), 10, 1)
    cache.close()


def test_nothing_today_is_no_entry(tmp_path):
    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    assert today_totals(cache.conn, MIDNIGHT) == {}
    fill(cache, [("old", MIDNIGHT - 86_400_000, 1, "EUR", 1)])
    assert today_totals(cache.conn, MIDNIGHT) == {}
    cache.close()
