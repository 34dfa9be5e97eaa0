"""Runway: the pace of spend (top-ups are not spend), its range, and no date from a short past."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lowdash_desktop.insight.report import insight, runway_json
from lowdash_desktop.insight.runway import MIN_HISTORY_DAYS, project, runway_from_cache

from .insight_rows import DAY_MS, HOUR_MS, row, store

NOW = 1_796_000_000_000 // HOUR_MS * HOUR_MS
NANO = 1_000_000_000

spends = st.lists(st.integers(0, 50 * NANO), min_size=7, max_size=7)


def ordered(span) -> bool:
    return span.low <= span.value and (span.high is None or span.value <= span.high)


@settings(max_examples=300, deadline=None)
@given(daily=spends, month=st.integers(0, 1000 * NANO), history=st.floats(0, 400),
       balance=st.integers(-100 * NANO, 100_000 * NANO), threshold=st.integers(0, 100 * NANO))
def test_bounds_are_ordered_and_a_short_history_never_gives_a_date(
    daily, month, history, balance, threshold
):
    r = project(NOW, balance, history, daily, month, threshold)
    for span in (r.burn, r.days, r.threshold_days):
        if span is not None:
            assert ordered(span), span
            assert span.low >= 0
    if r.runs_out is not None:
        earliest, latest = r.runs_out
        assert NOW <= earliest and (latest is None or earliest <= latest)
    if history < MIN_HISTORY_DAYS:
        assert r.days is None and r.runs_out is None and r.reaches_threshold is None
        assert "days of history" in r.note
    doc = runway_json(r)
    if doc["days"]:
        d = doc["days"]
        assert d["low"] <= d["value"] and (d["high"] is None or d["value"] <= d["high"])
    if doc["burn_per_day"]:
        b = {k: float(v) for k, v in doc["burn_per_day"].items()}
        assert b["low"] <= b["value"] <= b["high"]
    assert r.below_threshold == (balance <= threshold)


def test_a_steady_week_projects_a_narrow_range_around_balance_over_pace():
    r = project(NOW, 70 * NANO, 60.0, [NANO] * 7, 30 * NANO, 10 * NANO)
    assert r.burn.value == NANO and r.burn.low == NANO and r.burn.high == NANO
    assert r.days.value == 70 and r.days.low == 70 and r.days.high == 70
    assert r.threshold_days.value == 60
    assert r.runs_out == (NOW + 70 * DAY_MS, NOW + 70 * DAY_MS)


def test_an_uneven_week_gives_a_range_and_the_30_day_pace_is_inside_it():
    r = project(NOW, 100 * NANO, 60.0, [0, 0, 5 * NANO, 0, 1 * NANO, 0, 1 * NANO], 15 * NANO)
    assert r.burn.low < r.burn.value < r.burn.high
    assert r.burn.low <= r.burn_30d <= r.burn.high
    assert r.days.low < r.days.value
    # the low end of the pace is zero: the latest date stays open rather than invented
    assert r.burn.low == 0 and r.days.high is None and r.runs_out[1] is None


def test_no_spend_and_a_used_up_balance_say_so():
    assert project(NOW, 50 * NANO, 30.0, [0] * 7, 0).note.startswith("No spend")
    used = project(NOW, -NANO, 30.0, [NANO] * 7, 30 * NANO, 10 * NANO)
    assert used.note.startswith("The balance is used up") and used.below_threshold
    assert (used.days.value, used.days.high) == (0, 0)


def test_from_cache_topups_are_not_spend_and_short_history_says_so(cache):
    # 10 days of 1.00 a day: a top-up raises the balance but not the pace
    rows = [row(i, NOW - (i + 1) * DAY_MS + HOUR_MS, "1.00") for i in range(10)]
    store(cache, rows, balance="20.00", threshold="5.00")
    before = runway_from_cache(cache.conn, NOW)
    cache.save_snapshot("credits", {"currency": "EUR", "balance": "120.00",
                                    "spent_this_month": "0", "topup_url": None})
    after = runway_from_cache(cache.conn, NOW)
    assert before.burn == after.burn and before.burn.value == NANO
    assert round(before.days.value) == 20 and round(after.days.value) == 120
    assert round(before.threshold_days.value) == 15
    # the same cache asked about a moment 4 days after its first generation
    short = runway_from_cache(cache.conn, NOW - 6 * DAY_MS)
    assert short.days is None and short.runs_out is None
    assert short.note.startswith("Only 4.0 days of history")


def test_balance_already_below_the_threshold(cache):
    store(cache, [row(i, NOW - (i + 1) * DAY_MS, "2.00") for i in range(20)],
          balance="3.00", threshold="10.00")
    result = insight(cache.conn, NOW)
    r = result.runway
    assert r.below_threshold and r.reaches_threshold is None
    assert "below the low-balance threshold" in r.note
    assert round(r.days.value, 1) == 1.5  # it still says how long the balance itself lasts
    assert runway_json(r)["below_threshold"] is True


def test_empty_cache_without_balance(cache):
    r = runway_from_cache(cache.conn, NOW)
    assert r.balance is None and r.days is None and r.burn is None
    assert r.note.startswith("No balance cached")
