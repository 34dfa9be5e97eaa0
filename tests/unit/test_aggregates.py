"""Dock aggregates in SQL against sums computed in Python over the same synthetic rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from lowdash_desktop.api.models import Generation
from lowdash_desktop.store import aggregates
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.queries import HistoryFilter
from lowdash_desktop.store.rows import generation_row, to_ms

NOW = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
MODELS = ["a/one", "b/two", "c/three", "d/four", "e/five", "f/six", "g/seven"]


def record(i: int) -> dict:
    return {
        "id": f"gen_{i:05d}", "revision": 1,
        "created_at": (NOW - timedelta(minutes=53 * i)).isoformat(),
        "model": "lowrouter/auto", "resolved_model": MODELS[(i * i) % len(MODELS)],
        "provider": ["ovh", "scaleway"][i % 2], "region": "fr-par", "key_id": "key_a",
        "tokens": {"prompt": i % 97, "completion": i % 13, "total": i % 97 + i % 13},
        "cost": {"amount": f"0.{(i * 7919) % 100000:06d}", "currency": "EUR"},
    }


@pytest.fixture
def cache(tmp_path):
    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    records = [record(i) for i in range(3000)]
    cache.apply_page([generation_row(Generation.model_validate(r)) for r in records], [], "c")
    cache.records = records
    yield cache
    cache.close()


def nanos(amount: str) -> int:
    whole, frac = amount.split(".")
    return int(whole) * 10**9 + int(frac.ljust(9, "0"))


def test_usage_today_utc_matches_python(cache):
    figures = aggregates.dashboard(
        cache.conn, aggregates.DashboardQuery(now_ms=to_ms(NOW), utc=True)
    )
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in cache.records:
        if datetime.fromisoformat(r["created_at"]).date() == NOW.date():
            e = expected[r["resolved_model"]]
            e[0] += 1
            e[1] += r["tokens"]["total"]
            e[2] += nanos(r["cost"]["amount"])
    assert figures.today == date(2026, 11, 25)
    assert {m.model: [m.requests, m.tokens, m.cost_nanos] for m in figures.usage_today} == expected
    assert [m.tokens for m in figures.usage_today] == sorted(
        (m.tokens for m in figures.usage_today), reverse=True
    )
    assert figures.currency == "EUR"


def test_daily_spend_folds_days_and_other(cache):
    first, last = date(2026, 11, 1), date(2026, 11, 25)
    spend = aggregates.daily_spend(cache.conn, first, last, True, HistoryFilter(), top_n=3)
    assert len(spend.days) == 25 and spend.days[0] == first
    assert list(spend.series)[-1] == aggregates.OTHER and len(spend.series) == 4
    per_day: dict[date, int] = defaultdict(int)
    for r in cache.records:
        day = datetime.fromisoformat(r["created_at"]).date()
        if first <= day <= last:
            per_day[day] += nanos(r["cost"]["amount"])
    assert [spend.day_total_nanos(i) for i in range(25)] == [per_day[d] for d in spend.days]


def test_scope_filters_and_local_day_bounds(cache):
    flt = HistoryFilter(provider="ovh", model="b/two")
    rows = aggregates.by_model(cache.conn, flt.with_(start_ms=0, end_ms=to_ms(NOW) + 1))
    expected = sum(1 for r in cache.records
                   if r["provider"] == "ovh" and r["resolved_model"] == "b/two")
    assert [(m.model, m.requests) for m in rows] == [("b/two", expected)]
    bounds = aggregates.day_bounds(date(2026, 3, 28), date(2026, 3, 30), utc=False)
    local = [datetime.fromtimestamp(b / 1000).astimezone() for b in bounds]
    assert all(m.hour == 0 and m.minute == 0 for m in local)
    assert aggregates.filter_choices(cache.conn)["provider"] == ["ovh", "scaleway"]


@pytest.mark.parametrize("spend_days", [7, 30, 90])
@pytest.mark.parametrize("utc", [True, False])
def test_top_models_match_a_query_of_their_own_whatever_the_spend_range(cache, spend_days, utc):
    # the top-models figure is folded from the spend rows when they cover its 30 days
    query = aggregates.DashboardQuery(now_ms=to_ms(NOW), utc=utc, spend_days=spend_days)
    figures = aggregates.dashboard(cache.conn, query)
    today = aggregates.day_of(query.now_ms, utc)
    start = aggregates.day_start_ms(today - timedelta(days=29), utc)
    end = aggregates.day_start_ms(today + timedelta(days=1), utc)
    alone = aggregates.by_model(cache.conn, HistoryFilter(start_ms=start, end_ms=end))
    assert figures.top_models == alone
    assert sum(m.requests for m in alone) > 100
    expected = sum(
        1 for r in cache.records if start <= to_ms(datetime.fromisoformat(r["created_at"])) < end
    )
    assert sum(m.requests for m in figures.top_models) == expected


def test_top_models_under_a_provider_scope_match_python(cache):
    query = aggregates.DashboardQuery(
        now_ms=to_ms(NOW), utc=True, scope=HistoryFilter(provider="ovh")
    )
    figures = aggregates.dashboard(cache.conn, query)
    start = to_ms(datetime(2026, 10, 27, tzinfo=UTC))
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in cache.records:
        at = to_ms(datetime.fromisoformat(r["created_at"]))
        if r["provider"] == "ovh" and at >= start:
            e = expected[r["resolved_model"]]
            e[0] += 1
            e[1] += r["tokens"]["total"]
            e[2] += nanos(r["cost"]["amount"])
    assert {m.model: [m.requests, m.tokens, m.cost_nanos] for m in figures.top_models} == expected
    assert [(-m.tokens, m.model) for m in figures.top_models] == sorted(
        (-m.tokens, m.model) for m in figures.top_models
    )


def test_traced_prices_come_from_the_latest_fetched_traces_only(cache):
    """The routing form's cheapest price: every priced option of the traces fetched last."""
    assert aggregates.traced_prices(cache.conn) == []
    cache.save_routing(
        "gen_00001",
        {
            "considered": [
                {"provider": "ovh", "price_per_mtok": "0.40"},
                {"provider": "scaleway"},  # no price: not a candidate
            ]
        },
    )
    cache.save_routing(
        "gen_00002", {"considered": [{"provider": "scaleway", "price_per_mtok": "0.25"}]}
    )
    cache.conn.execute("UPDATE generations SET routing='not json' WHERE id='gen_00003'")
    model_1 = MODELS[1 % len(MODELS)]
    model_2 = MODELS[4 % len(MODELS)]
    assert sorted(aggregates.traced_prices(cache.conn)) == sorted(
        [(model_1, "ovh", "0.40"), (model_2, "scaleway", "0.25")]
    )
    cache.conn.execute("UPDATE generations SET routing_fetched_at=1 WHERE id='gen_00001'")
    assert aggregates.traced_prices(cache.conn, limit=1) == [(model_2, "scaleway", "0.25")]
