"""When a warning is due: low balance, a key near its limit, a short runway, a spend spike.

The watchers in `ui/` (and the session) fetch the figures, word the notification and
remember what was announced; what counts as a condition is decided here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from .key_limits import limit_used_percent

if TYPE_CHECKING:  # pydantic loads after the first paint; these are only types
    from ..api.models import Credits, Key, Settings

# spikes that ended longer ago than this are listed in the Alerts view, never announced
ANNOUNCE_MS = 24 * 3_600_000
DAY_MS = 86_400_000


@dataclass(frozen=True)
class LowBalance:
    """The balance is under the threshold set in the account's settings."""

    balance: Decimal
    threshold: Decimal
    currency: str

    id = "low_balance"  # stable while the condition lasts: announced once


@dataclass(frozen=True)
class KeyNearLimit:
    """A key (not disabled) has used at least the warning percentage of its credit limit."""

    key: Key
    used_percent: float
    warning_percent: float

    @property
    def id(self) -> str:
        return f"key_limit:{self.key.id}"


def low_balance(credits: Credits | None, settings: Settings | None) -> LowBalance | None:
    """The low-balance condition, or None (no figures, no threshold, or not under it)."""
    if credits is None or settings is None:
        return None
    threshold = settings.notifications.low_balance_threshold
    if threshold is None or not credits.balance < threshold:
        return None
    return LowBalance(credits.balance, threshold, credits.currency)


def keys_near_limit(settings: Settings | None, keys: Iterable[Key]) -> list[KeyNearLimit]:
    """The keys at or past the warning percentage, in the order given (none without one)."""
    if settings is None:
        return []
    percent = settings.notifications.key_limit_warning_percent
    if percent is None:
        return []
    found = []
    for key in keys:
        used = limit_used_percent(key)
        if key.disabled or used is None or used < percent:
            continue
        found.append(KeyNearLimit(key, used, percent))
    return found


def runway_short(days: float | None, threshold_days: float) -> bool:
    """The runway warning: the balance lasts fewer than `threshold_days` at this week's pace
    (`days` None: the history is too short to project; a threshold of 0 turns it off)."""
    return days is not None and threshold_days > 0 and days < threshold_days


class Spike(Protocol):
    """What the announcement rule needs of a spend spike (`insight.spikes.Spike`)."""

    scope: str  # 'key' or 'model'
    id: str
    start_ms: int
    end_ms: int


SpikeMark = tuple[str, str, int, int]  # (scope, id, start_ms, end_ms) of a spike announced


def spikes_to_announce(
    spikes: Iterable[Spike], now_ms: int, announced: Iterable[SpikeMark]
) -> list[Spike]:
    """The spikes that ended in the last 24 hours and were not announced yet. A spike that
    grew over later hours (same scope and id, overlapping hours) is the one announced."""
    marks = list(announced)

    def known(spike: Spike) -> bool:
        return any(
            s == spike.scope and i == spike.id and a < spike.end_ms and spike.start_ms < b
            for s, i, a, b in marks
        )

    return [s for s in spikes if s.end_ms > now_ms - ANNOUNCE_MS and not known(s)]


def spike_marks_to_keep(
    spikes: Sequence[Spike], announced: Iterable[SpikeMark], now_ms: int, days: int
) -> set[SpikeMark]:
    """What to remember as announced: the marks still inside the window of `days`, and every
    spike listed now (an old spike seen at the first start is listed, never announced later)."""
    horizon = now_ms - (days + 1) * DAY_MS
    keep = {mark for mark in announced if mark[3] > horizon}
    keep |= {(s.scope, s.id, s.start_ms, s.end_ms) for s in spikes}
    return keep
