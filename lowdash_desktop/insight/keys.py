"""Spend by key: spend, tokens and generations of each key over a window, with its share."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .common import key_names


@dataclass(frozen=True)
class KeySpend:
    """One key's figures over the window; `share` is its part of the window's spend (0..1)."""

    key_id: str | None
    name: str | None  # None: not in the cached key list (revoked, or keys never listed)
    spend: int  # nano-units
    tokens: int
    generations: int
    share: float


def spend_by_key(conn: sqlite3.Connection, start_ms: int, end_ms: int) -> list[KeySpend]:
    """Every key that made generations in [start_ms, end_ms), most spend first."""
    names = key_names(conn)
    rows = conn.execute(
        "SELECT key_id, coalesce(sum(cost_nanos), 0), coalesce(sum(total_tokens), 0), count(*) "
        "FROM generations WHERE created_at >= ? AND created_at < ? GROUP BY key_id",
        (start_ms, end_ms),
    ).fetchall()
    total = sum(r[1] for r in rows)
    out = [
        KeySpend(key_id, names.get(key_id) if key_id else None, spend, tokens, n,
                 spend / total if total else 0.0)
        for key_id, spend, tokens, n in rows
    ]
    out.sort(key=lambda k: (-k.spend, -k.generations, k.key_id or ""))
    return out
