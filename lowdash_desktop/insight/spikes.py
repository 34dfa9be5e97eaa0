"""Spend spikes: hours whose spend, per key or per model, is far above the scope's recent hours.

Each hour of a scope (a key, or a resolved model) is judged against the same scope's previous
14 days of hours (zero-spend hours included; hours before the cached history began are not
data, and an hour with less than 7 days of data before it is not judged). The baseline is
robust: the median hour and the median absolute deviation (scaled by 1.4826 to read as a
standard deviation), so one earlier spike does not hide the next. An hour is a spike when its
spend is

- at least the minimum amount the user set (small hours are never worth an alarm),
- above the median by more than `k` robust deviations, and
- more than `factor` times the baseline's 95th percentile hour: where most hours are empty
  the median and deviation are both zero, and a scope that routinely spends in a few hours a
  day must not be called spiking for doing so (the 95th percentile, not the maximum: up to
  16 earlier spike hours in the 14 days do not raise the bar).

Consecutive spike hours of one scope are reported as one spike, with the spend of its hours and
the spend its baselines expected (the medians).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from .common import DAY_MS, HOUR_MS

SCOPES = {"key": "key_id", "model": "resolved_model"}


@dataclass(frozen=True)
class SpikeRule:
    """What counts as a spike; amounts in nano-units."""

    min_amount: int = 1_000_000_000  # 1.00 in the account's currency
    k: float = 6.0
    factor: float = 3.0
    baseline_days: int = 14
    min_baseline_days: int = 7


@dataclass(frozen=True)
class Spike:
    """One run of consecutive spike hours of one key or model."""

    scope: str  # "key" or "model"
    id: str
    start_ms: int
    end_ms: int  # exclusive: the end of the last spike hour
    spend: int  # nano-units
    expected: int  # nano-units: the sum of the hours' baseline medians
    threshold: int  # nano-units: the highest hour's bar (spend above it was a spike)

    @property
    def key(self) -> str:
        """Stable identity (announced once): scope, id and first hour."""
        return f"{self.scope}:{self.id}:{self.start_ms}"


def hourly_spend(
    conn: sqlite3.Connection, scope: str, start_ms: int, end_ms: int
) -> dict[str, dict[int, int]]:
    """scope id -> {hour index since the epoch: spend nano-units} for [start_ms, end_ms)."""
    column = SCOPES[scope]
    rows = conn.execute(
        f"SELECT {column}, created_at / {HOUR_MS}, sum(cost_nanos) FROM generations "
        f"WHERE created_at >= ? AND created_at < ? AND {column} IS NOT NULL GROUP BY 1, 2",
        (start_ms, end_ms),
    )
    out: dict[str, dict[int, int]] = {}
    for ident, hour, total in rows:
        out.setdefault(ident, {})[hour] = total
    return out


def judge(
    series: np.ndarray, first_judged: int, first_data: int, rule: SpikeRule
) -> list[tuple[int, float, float]]:
    """(index, median, bar) of each spike hour of `series` (spend per hour, nano-units) from
    `first_judged` on; hours before `first_data` are not data."""
    span = rule.baseline_days * 24
    need = rule.min_baseline_days * 24
    found: list[tuple[int, float, float]] = []
    candidates = np.flatnonzero(series >= rule.min_amount)
    for i in candidates[candidates >= first_judged].tolist():
        lo = max(i - span, first_data, 0)
        if i - lo < need:
            continue
        base = series[lo:i]
        median = float(np.median(base))
        mad = float(np.median(np.abs(base - median)))
        bar = max(median + rule.k * 1.4826 * mad, rule.factor * float(np.percentile(base, 95)))
        if series[i] > bar:
            found.append((i, median, bar))
    return found


def find_spikes(
    conn: sqlite3.Connection, now_ms: int, days: int, rule: SpikeRule | None = None,
    scopes: tuple[str, ...] = ("key", "model"),
) -> list[Spike]:
    """Spikes in the hours of the last `days` days up to now (the current hour included),
    newest first."""
    rule = rule or SpikeRule()
    first = conn.execute("SELECT min(created_at) FROM generations").fetchone()[0]
    if first is None:
        return []
    end_hour = now_ms // HOUR_MS  # the current, partial hour is judged too
    judged_from = (now_ms - days * DAY_MS) // HOUR_MS
    origin = judged_from - rule.baseline_days * 24
    first_data = max(0, first // HOUR_MS - origin)
    spikes: list[Spike] = []
    for scope in scopes:
        per_scope = hourly_spend(conn, scope, origin * HOUR_MS, (end_hour + 1) * HOUR_MS)
        for ident, hours in per_scope.items():
            series = np.zeros(end_hour + 1 - origin, dtype=np.float64)
            for hour, total in hours.items():
                series[hour - origin] = total
            found = judge(series, judged_from - origin, first_data, rule)
            spikes.extend(_runs(scope, ident, found, series, origin))
    spikes.sort(key=lambda s: (-s.start_ms, s.scope, s.id))
    return spikes


def _runs(
    scope: str, ident: str, found: list[tuple[int, float, float]], series: np.ndarray,
    origin: int,
) -> list[Spike]:
    """Consecutive spike hours merged into one Spike each."""
    out: list[Spike] = []
    run: list[tuple[int, float, float]] = []
    for item in [*found, None]:
        if item is not None and (not run or item[0] == run[-1][0] + 1):
            run.append(item)
            continue
        if run:
            out.append(Spike(
                scope, ident,
                (origin + run[0][0]) * HOUR_MS, (origin + run[-1][0] + 1) * HOUR_MS,
                int(sum(series[i] for i, _, _ in run)),
                int(round(sum(m for _, m, _ in run))),
                int(round(max(b for _, _, b in run))),
            ))
        run = [item] if item is not None else []
    return out
