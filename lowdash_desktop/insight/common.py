"""Shared pieces of the insight figures: exact money text, times, key names, snapshots."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
MAX_AMOUNT = Decimal(10) ** 15  # larger amounts are not money the cache can hold


def money_text(nanos: int) -> str:
    """An exact decimal string from nano-units: at least 2 places, at most 9 ('0.187241111')."""
    nanos = int(nanos)
    sign = "-" if nanos < 0 else ""
    whole, frac = divmod(abs(nanos), 1_000_000_000)
    digits = f"{frac:09d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"


def to_nanos(amount: Decimal | str | None) -> int | None:
    """Nano-units of a decimal amount (None for None or text that is not a finite number)."""
    if amount is None:
        return None
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or abs(value) > MAX_AMOUNT:
        return None
    return int((value * 1_000_000_000).to_integral_value())


def rfc3339(ms: int) -> str:
    """`2026-11-24T13:00:00Z` (whole seconds) from epoch milliseconds."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_date(ms: int) -> str:
    """The UTC calendar day of an instant, `2026-11-24`."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%d")


def snapshot(conn: sqlite3.Connection, name: str) -> object | None:
    """The cached answer of a reference endpoint (credits, keys, settings, ...), or None."""
    row = conn.execute("SELECT body FROM snapshots WHERE name=?", (name,)).fetchone()
    if row is None:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def key_names(conn: sqlite3.Connection) -> dict[str, str]:
    """key id -> name from the cached key list (revoked keys are not in it)."""
    keys = snapshot(conn, "keys")
    if not isinstance(keys, list):
        return {}
    return {k["id"]: k.get("name") or k["id"] for k in keys if isinstance(k, dict) and "id" in k}


def low_balance_threshold(conn: sqlite3.Connection) -> int | None:
    """The account's low-balance threshold in nano-units, from the cached settings."""
    settings = snapshot(conn, "settings")
    if not isinstance(settings, dict):
        return None
    notes = settings.get("notifications") or {}
    return to_nanos(notes.get("low_balance_threshold")) if isinstance(notes, dict) else None


def balance_nanos(conn: sqlite3.Connection) -> tuple[int | None, str]:
    """The cached balance in nano-units and its currency (None without a credits snapshot)."""
    credits = snapshot(conn, "credits")
    if not isinstance(credits, dict):
        return None, ""
    return to_nanos(credits.get("balance")), str(credits.get("currency") or "")


def first_generation_ms(conn: sqlite3.Connection) -> int | None:
    """When the cached history starts (the oldest generation), or None for an empty cache."""
    return conn.execute("SELECT min(created_at) FROM generations").fetchone()[0]
