"""When a warning is due: the conditions, at their edges, without Qt."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from lowdash_desktop.api.models import Credits, Key, Settings
from lowdash_desktop.rules.alerts import (
    ANNOUNCE_MS,
    DAY_MS,
    KeyNearLimit,
    LowBalance,
    keys_near_limit,
    low_balance,
    runway_short,
    spike_marks_to_keep,
    spikes_to_announce,
)


def credits(balance: str, currency: str = "EUR") -> Credits:
    return Credits(currency=currency, balance=Decimal(balance), spent_this_month=Decimal("0"))


def settings(threshold: str | None = None, percent: float | None = None) -> Settings:
    return Settings.model_validate(
        {
            "notifications": {
                "low_balance_threshold": threshold,
                "key_limit_warning_percent": percent,
            }
        }
    )


def key(kid: str, limit: str | None, remaining: str | None, disabled: bool = False) -> Key:
    return Key(
        id=kid,
        name=kid,
        prefix=f"lr-{kid}",
        disabled=disabled,
        credit_limit=None if limit is None else Decimal(limit),
        limit_remaining=None if remaining is None else Decimal(remaining),
    )


# -- low balance -----------------------------------------------------------------------------
def test_low_balance_under_the_threshold():
    found = low_balance(credits("9.99", "JPY"), settings("10"))
    assert found == LowBalance(Decimal("9.99"), Decimal("10"), "JPY")
    assert found.id == "low_balance"


@pytest.mark.parametrize(
    ("balance", "threshold"),
    [("10", "10"), ("10.01", "10"), ("0", "0"), ("5", None)],
)
def test_no_low_balance_at_or_over_the_threshold_or_without_one(balance, threshold):
    assert low_balance(credits(balance), settings(threshold)) is None


def test_a_negative_balance_is_under_a_zero_threshold():
    assert low_balance(credits("-0.01"), settings("0")) is not None


def test_no_low_balance_without_figures():
    assert low_balance(None, settings("10")) is None
    assert low_balance(credits("1"), None) is None


# -- keys near their limit -------------------------------------------------------------------
def test_keys_at_or_past_the_percentage_in_order():
    keys = [
        key("under", "100", "20.01"),  # 79.99 %
        key("at", "100", "20"),  # 80 %: warned
        key("past", "10", "-5"),  # 150 %
        key("off", "100", "0", disabled=True),  # a disabled key spends nothing
        key("zero", "0", "0"),  # a zero limit has no percentage
        key("none", None, None),
    ]
    found = keys_near_limit(settings(percent=80), keys)
    assert [(n.key.id, n.used_percent) for n in found] == [("at", 80.0), ("past", 150.0)]
    assert found[0].id == "key_limit:at" and found[0].warning_percent == 80
    assert isinstance(found[0], KeyNearLimit)


def test_no_key_warning_without_a_percentage_or_settings():
    keys = [key("full", "10", "0")]
    assert keys_near_limit(settings(percent=None), keys) == []
    assert keys_near_limit(None, keys) == []


def test_a_zero_percentage_warns_every_key_with_a_limit():
    keys = [key("fresh", "10", "10"), key("none", None, None)]
    assert [n.key.id for n in keys_near_limit(settings(percent=0), keys)] == ["fresh"]


# -- runway ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("days", "threshold", "short"),
    [(13.9, 14, True), (14, 14, False), (0.2, 14, True), (None, 14, False), (3, 0, False)],
)
def test_runway_short(days, threshold, short):
    assert runway_short(days, threshold) is short


# -- spend spikes ----------------------------------------------------------------------------
@dataclass
class Spike:
    scope: str
    id: str
    start_ms: int
    end_ms: int


NOW = 1_800_000_000_000
HOUR = 3_600_000


def test_recent_spikes_not_announced_yet_are_announced():
    recent = Spike("key", "k1", NOW - 3 * HOUR, NOW - 2 * HOUR)
    old = Spike("key", "k2", NOW - ANNOUNCE_MS - 2 * HOUR, NOW - ANNOUNCE_MS)  # listed only
    assert spikes_to_announce([recent, old], NOW, []) == [recent]


def test_a_spike_that_grew_is_the_one_announced():
    announced = [("key", "k1", NOW - 3 * HOUR, NOW - 2 * HOUR)]
    grown = Spike("key", "k1", NOW - 3 * HOUR, NOW - HOUR)
    later = Spike("key", "k1", NOW - 2 * HOUR, NOW - HOUR)  # starts as the first one ended
    other_scope = Spike("model", "k1", NOW - 3 * HOUR, NOW - HOUR)
    assert spikes_to_announce([grown, later, other_scope], NOW, announced) == [later, other_scope]


def test_marks_kept_inside_the_window_and_every_spike_listed():
    listed = [Spike("key", "k1", NOW - 5 * HOUR, NOW - 4 * HOUR)]
    inside = ("model", "m", NOW - 30 * DAY_MS, NOW - 30 * DAY_MS + HOUR)
    outside = ("model", "m", NOW - 32 * DAY_MS, NOW - 31 * DAY_MS - 1)
    keep = spike_marks_to_keep(listed, [inside, outside], NOW, days=30)
    assert keep == {inside, ("key", "k1", NOW - 5 * HOUR, NOW - 4 * HOUR)}
