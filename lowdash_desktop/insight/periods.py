"""Periods: the last 7 (or 30) days against the 7 (or 30) before, with the largest movers.

Windows are 24-hour days ending at the moment asked about, so both periods hold the same
number of hours whatever the time zone. A mover is a model, provider or key whose spend
changed; the largest changes (either way) come first.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .common import DAY_MS, key_names

DIMENSIONS = {"model": "resolved_model", "provider": "provider", "key": "key_id"}


@dataclass(frozen=True)
class Totals:
    """Spend (nano-units), tokens and generations of one period [start_ms, end_ms)."""

    start_ms: int
    end_ms: int
    spend: int
    tokens: int
    generations: int


@dataclass(frozen=True)
class Mover:
    """One model, provider or key: its spend in each period and the change."""

    dimension: str
    id: str | None
    name: str | None
    current: int
    previous: int

    @property
    def change(self) -> int:
        return self.current - self.previous

    @property
    def percent(self) -> float | None:
        """The change against the previous period in percent; None when that was zero."""
        return None if not self.previous else 100.0 * self.change / self.previous


@dataclass(frozen=True)
class Comparison:
    """One period against the one before it."""

    days: int
    current: Totals
    previous: Totals
    movers: list[Mover]

    @property
    def change(self) -> int:
        return self.current.spend - self.previous.spend

    @property
    def percent(self) -> float | None:
        prev = self.previous.spend
        return None if not prev else 100.0 * self.change / prev


def compare(conn: sqlite3.Connection, now_ms: int, days: int) -> Comparison:
    """The `days` days ending at `now_ms` against the `days` days before them."""
    mid = now_ms - days * DAY_MS
    start = mid - days * DAY_MS
    names = key_names(conn)
    sums = {0: [0, 0, 0], 1: [0, 0, 0]}
    movers: list[Mover] = []
    for dimension, column in DIMENSIONS.items():
        rows = conn.execute(
            f"SELECT {column}, created_at >= ?, coalesce(sum(cost_nanos), 0), "
            "coalesce(sum(total_tokens), 0), count(*) FROM generations "
            "WHERE created_at >= ? AND created_at < ? GROUP BY 1, 2",
            (mid, start, now_ms),
        ).fetchall()
        spend: dict[str | None, list[int]] = {}
        for ident, current, cost, tokens, n in rows:
            spend.setdefault(ident, [0, 0])[current] += cost
            if dimension == "model":  # every row is in exactly one model: the totals
                acc = sums[current]
                acc[0] += cost
                acc[1] += tokens
                acc[2] += n
        for ident, (previous, current) in spend.items():
            if current != previous:
                name = names.get(ident) if dimension == "key" and ident else ident
                movers.append(Mover(dimension, ident, name, current, previous))
    movers.sort(key=lambda m: (-abs(m.change), m.dimension, m.id or ""))
    return Comparison(
        days,
        Totals(mid, now_ms, *sums[1]),
        Totals(start, mid, *sums[0]),
        movers,
    )
