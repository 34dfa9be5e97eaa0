"""Synthetic generations written straight into a cache, for the insight tests."""

from __future__ import annotations

import json
from decimal import Decimal

from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.rows import GENERATION_COLUMNS, money_to_nanos

HOUR_MS = 3_600_000
DAY_MS = 86_400_000


def row(i: int, at_ms: int, cost: str, key: str = "key_a", model: str = "m/one",
        provider: str = "p1", tokens: int = 100) -> tuple:
    values = dict.fromkeys(GENERATION_COLUMNS)
    values.update(
        id=f"gen_{i:09d}", seq=i, revision=1, created_at=at_ms, key_id=key, model=model,
        resolved_model=model, provider=provider, region="fr-par", prompt_tokens=tokens,
        completion_tokens=0, reasoning_tokens=0, cached_tokens=0, total_tokens=tokens,
        cost=cost, cost_nanos=money_to_nanos(Decimal(cost)), currency="EUR",
    )
    return tuple(values[c] for c in GENERATION_COLUMNS)


def store(cache: Cache, rows: list[tuple], balance: str | None = "100.00",
          threshold: str | None = "10.00", keys: dict[str, str] | None = None) -> None:
    for start in range(0, len(rows), 5000):
        cache.apply_page(rows[start:start + 5000], [], None)
    if balance is not None:
        cache.save_snapshot("credits", {"currency": "EUR", "balance": balance,
                                        "spent_this_month": "0", "topup_url": None})
    cache.save_snapshot("settings", {"eco_baseline_model": None, "notifications": {
        "low_balance_threshold": threshold, "key_limit_warning_percent": 80,
        "weekly_report_email": False}})
    cache.save_snapshot("keys", [{"id": k, "name": n} for k, n in (keys or {}).items()])


def snapshot_json(cache: Cache, name: str):
    row_ = cache.conn.execute("SELECT body FROM snapshots WHERE name=?", (name,)).fetchone()
    return json.loads(row_[0])
