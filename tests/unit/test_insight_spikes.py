"""Spikes: injected ones are all found, quiet traffic raises no alarm, the minimum holds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lowdash_desktop.insight.spikes import SpikeRule, find_spikes, judge

from .insight_rows import DAY_MS, HOUR_MS, row, store

NOW = 1_796_000_000_000 // HOUR_MS * HOUR_MS + 20 * 60_000  # 20 minutes into an hour
NANO = 1_000_000_000


def traffic(seed: int, days: int, per_hour: float, mean_cost: float) -> np.ndarray:
    """Hourly spend (nano-units) of steady traffic: Poisson requests, lognormal costs."""
    rng = np.random.default_rng(seed)
    hours = days * 24
    counts = rng.poisson(per_hour, hours)
    costs = rng.lognormal(np.log(mean_cost), 0.6, counts.sum()) * NANO
    hour_of = np.repeat(np.arange(hours), counts)
    return np.round(np.bincount(hour_of, weights=costs, minlength=hours))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), per_hour=st.floats(2, 60),
       positions=st.sets(st.integers(0, 30 * 24 - 1), min_size=1, max_size=6),
       size=st.floats(4, 50))
def test_injected_spikes_are_all_found_and_nothing_else(seed, per_hour, positions, size):
    series = traffic(seed, 44, per_hour, 0.02)
    offset = 14 * 24
    rule = SpikeRule(min_amount=NANO // 2)
    quiet = {i for i, _m, _b in judge(series, offset, 0, rule)}
    typical = float(np.percentile(series, 99))
    for p in positions:  # an hour `size` times the traffic's 99th percentile, and >= the minimum
        series[offset + p] += max(size * typical, rule.min_amount)
    found = {i - offset for i, _m, _b in judge(series, offset, 0, rule)}
    assert set(positions) <= found
    assert found - set(positions) <= {q - offset for q in quiet}  # no new alarm


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), per_hour=st.floats(0.5, 60),
       mean_cost=st.floats(0.0005, 0.02))
def test_thirty_days_of_steady_traffic_raise_no_alarm(seed, per_hour, mean_cost):
    # the minimum (0.50) is 25 times the average request or more: one request alone reaching
    # it would be a real outlier (and in traffic sparse enough, it is what the alarm is for)
    series = traffic(seed, 44, per_hour, mean_cost)
    assert judge(series, 14 * 24, 0, SpikeRule(min_amount=NANO // 2)) == []


def test_an_hour_below_the_minimum_is_never_a_spike():
    series = np.zeros(44 * 24)
    series[-1] = NANO // 2 - 1  # from nothing, but under the minimum
    assert judge(series, 14 * 24, 0, SpikeRule(min_amount=NANO // 2)) == []
    series[-1] = NANO // 2
    assert [i for i, _m, _b in judge(series, 14 * 24, 0, SpikeRule(min_amount=NANO // 2))] == [
        44 * 24 - 1]


def test_no_judgement_without_seven_days_before_the_hour():
    series = np.zeros(44 * 24)
    series[20 * 24] = 100 * NANO
    assert judge(series, 14 * 24, 14 * 24, SpikeRule()) == []  # data starts 6 days before
    assert len(judge(series, 14 * 24, 13 * 24, SpikeRule())) == 1  # 7 days before


def test_from_cache_per_key_and_model_with_runs_merged(cache):
    rows, i = [], 0
    for h in range(30 * 24):  # steady: every hour 0.01 on key_a/m/one, 0.01 on key_b/m/two
        at = NOW - (h + 1) * HOUR_MS
        rows += [row(i, at, "0.010"), row(i + 1, at, "0.010", key="key_b", model="m/two")]
        i += 2
    spike_start = NOW // HOUR_MS * HOUR_MS - 5 * HOUR_MS
    for h in range(2):  # key_b runs away on m/two for two hours: 3.00 an hour
        for j in range(30):
            rows.append(row(i, spike_start + h * HOUR_MS + j * 1000, "0.10", key="key_b",
                            model="m/two"))
            i += 1
    store(cache, rows, keys={"key_b": "Batch"})
    spikes = find_spikes(cache.conn, NOW, 7)
    assert [(s.scope, s.id) for s in spikes] == [("key", "key_b"), ("model", "m/two")]
    for s in spikes:
        assert (s.start_ms, s.end_ms) == (spike_start, spike_start + 2 * HOUR_MS)
        assert s.spend == 2 * (3 * NANO + NANO // 100)
        assert s.expected == 2 * NANO // 100
    # a minimum above the spike's hours silences it; the window can leave it out
    assert find_spikes(cache.conn, NOW, 7, SpikeRule(min_amount=4 * NANO)) == []
    assert find_spikes(cache.conn, NOW - DAY_MS, 1) == []
