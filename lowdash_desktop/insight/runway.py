"""Runway: how long the balance lasts at the recent pace of spend, as a range.

The pace is spend (the generations' costs), so a top-up never counts as spend: it only
raises the balance the pace is divided into. The pace is this week's: the spend of the last
seven 24-hour windows ending now, per day. Its range runs from the lower to the higher of the
30-day pace and this week's pace give or take two standard errors of its daily spends, so a
steady week reads as a narrow range and an uneven one as a wide one. The days left and the
dates follow from that range; a pace of zero at the low end leaves the latest date open.
With less than 7 days of history nothing is projected: the note says so.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from .common import DAY_MS, balance_nanos, first_generation_ms, low_balance_threshold

WEEK_DAYS = 7
MONTH_DAYS = 30
MIN_HISTORY_DAYS = 7
HORIZON_DAYS = 36_500  # dates further than a century out are not given


@dataclass(frozen=True)
class Span:
    """A value with its range, low <= value <= high; `high` None means open-ended."""

    value: float
    low: float
    high: float | None


@dataclass(frozen=True)
class Runway:
    """The projection of one balance at the recent pace (amounts in nano-units per day)."""

    now_ms: int
    balance: int | None
    history_days: float
    basis_days: float
    burn: Span | None  # nano-units per day
    burn_30d: float | None
    days: Span | None
    days_30d: float | None
    runs_out: tuple[int, int | None] | None  # earliest, latest (epoch ms; latest None: open)
    threshold: int | None
    below_threshold: bool
    threshold_days: Span | None
    reaches_threshold: tuple[int, int | None] | None
    note: str | None

    @property
    def projected(self) -> bool:
        return self.days is not None


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var)


def burn_range(daily: Sequence[int], pace_30d: float | None) -> Span:
    """This week's pace and its range (see the module's docstring), in units per day."""
    mean, sd = _mean_sd([float(v) for v in daily])
    se = sd / math.sqrt(len(daily))
    low, high = mean - 2 * se, mean + 2 * se
    if len(daily) < 2:  # one day says nothing of the spread: from nothing to twice it
        low, high = 0.0, 2 * mean
    if pace_30d is not None:
        low, high = min(low, pace_30d), max(high, pace_30d)
    return Span(mean, max(0.0, min(low, mean)), max(high, mean))


def _lasting(amount: float, burn: Span) -> Span:
    """Days `amount` lasts at the pace's value and range (more pace, fewer days)."""
    value = amount / burn.value
    low = amount / burn.high if burn.high else value
    high = amount / burn.low if burn.low > 0 else None
    return Span(value, min(low, value), None if high is None else max(high, value))


def _dates(now_ms: int, days: Span) -> tuple[int, int | None] | None:
    """The dates of a span of days from now; past the horizon a date is not a date (None)."""
    if days.low > HORIZON_DAYS:
        return None
    earliest = now_ms + int(days.low * DAY_MS)
    far = days.high is None or days.high > HORIZON_DAYS
    return earliest, None if far else now_ms + int(days.high * DAY_MS)


def project(
    now_ms: int,
    balance: int | None,
    history_days: float,
    daily: Sequence[int],
    spend_30d: int,
    threshold: int | None = None,
) -> Runway:
    """The runway of `balance` given the last 7 daily spends (oldest first) and 30 days' spend.

    `history_days` is how far back the cached history goes; below 7 days nothing is projected.
    """
    history_days = max(0.0, history_days)
    short = history_days < MIN_HISTORY_DAYS
    basis = min(float(WEEK_DAYS), history_days)
    burn: Span | None = None
    pace_30d: float | None = None
    if short:
        burn = _short_burn(daily, basis)
    else:
        pace_30d = spend_30d / min(float(MONTH_DAYS), history_days)
        burn = burn_range(daily, pace_30d)
    note = None
    days = runs_out = threshold_days = reaches = None
    days_30d = None
    if balance is None:
        note = "No balance cached yet: sync to project the runway."
    elif short:
        note = (f"Only {history_days:.1f} days of history: a projection needs at least "
                f"{MIN_HISTORY_DAYS}.")
    elif balance <= 0:
        note = "The balance is used up."
        days = Span(0.0, 0.0, 0.0)
    elif burn is None or burn.value <= 0:
        note = "No spend in the last 7 days: nothing to project."
    else:
        days = _lasting(balance, burn)
        runs_out = _dates(now_ms, days)
        if runs_out is None:
            note = "The balance lasts more than a century at this pace."
        days_30d = balance / pace_30d if pace_30d else None
    below = threshold is not None and balance is not None and balance <= threshold
    if below:
        note = (note + " " if note else "") + "The balance is at or below the low-balance " \
            "threshold."
    elif threshold is not None and days is not None and burn is not None and days.value > 0:
        threshold_days = _lasting(balance - threshold, burn)
        reaches = _dates(now_ms, threshold_days)
    return Runway(now_ms, balance, history_days, basis, burn, pace_30d, days, days_30d,
                  runs_out, threshold, below, threshold_days, reaches, note)


def _short_burn(daily: Sequence[int], basis: float) -> Span | None:
    """The pace of a history shorter than a week: its spend per day of history, give or take
    two standard errors of its 24-hour windows (from nothing to twice it with one window)."""
    if basis <= 0:
        return None
    recent = list(daily)[-max(1, math.ceil(basis)):]
    value = sum(recent) / max(basis, 1.0)  # less than a day of history: its spend, per day
    if len(recent) < 2:
        return Span(value, 0.0, 2 * value)
    _mean, sd = _mean_sd([float(v) for v in recent])
    se = sd / math.sqrt(len(recent))
    return Span(value, max(0.0, value - 2 * se), value + 2 * se)


def daily_spends(conn: sqlite3.Connection, now_ms: int, days: int = WEEK_DAYS) -> list[int]:
    """Spend (nano-units) in each of the `days` 24-hour windows ending at `now_ms`, oldest first."""
    start = now_ms - days * DAY_MS
    rows = conn.execute(
        "SELECT (created_at - ?) / ?, coalesce(sum(cost_nanos), 0) FROM generations "
        "WHERE created_at >= ? AND created_at < ? GROUP BY 1",
        (start, DAY_MS, start, now_ms),
    )
    out = [0] * days
    for index, total in rows:
        if 0 <= index < days:
            out[index] = total
    return out


def spend_between(conn: sqlite3.Connection, start_ms: int, end_ms: int) -> int:
    """Total spend (nano-units) of the generations created in [start_ms, end_ms)."""
    return conn.execute(
        "SELECT coalesce(sum(cost_nanos), 0) FROM generations "
        "WHERE created_at >= ? AND created_at < ?", (start_ms, end_ms),
    ).fetchone()[0]


def runway_from_cache(conn: sqlite3.Connection, now_ms: int) -> Runway:
    """The runway of the cached balance at the cached history's pace."""
    balance, _currency = balance_nanos(conn)
    first = first_generation_ms(conn)
    history = 0.0 if first is None else (now_ms - first) / DAY_MS
    return project(
        now_ms, balance, history, daily_spends(conn, now_ms),
        spend_between(conn, now_ms - MONTH_DAYS * DAY_MS, now_ms), low_balance_threshold(conn),
    )


def below_days(r: Runway, threshold_days: float) -> bool:
    """The runway alert: the balance lasts less than `threshold_days` at this week's pace
    (never from a history too short to project)."""
    from ..rules.alerts import runway_short

    return runway_short(r.days.value if r.days is not None else None, threshold_days)
