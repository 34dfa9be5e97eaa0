"""Dock figures as SQL aggregates over the cache: usage by model, top models, daily spend."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from . import rollup
from .queries import HistoryFilter
from .rows import NANOS, from_ms, nanos_to_money, to_ms
from .schema import number_column

OTHER = "Other"


def day_start_ms(day: date, utc: bool) -> int:
    """Midnight at the start of `day` (UTC or the local zone) in epoch ms."""
    if utc:
        return to_ms(datetime(day.year, day.month, day.day, tzinfo=UTC))
    return to_ms(datetime(day.year, day.month, day.day).astimezone())


def day_of(ms: int, utc: bool) -> date:
    """The UTC or local calendar day containing the instant `ms`."""
    moment = from_ms(ms)
    return moment.date() if utc else moment.astimezone().date()


def day_bounds(first: date, last: date, utc: bool) -> list[int]:
    """Start of each day from `first` to `last` inclusive, plus the end of `last`."""
    count = (last - first).days + 1
    return [day_start_ms(first + timedelta(days=i), utc) for i in range(count + 1)]


@dataclass(frozen=True)
class ModelFigures:
    """Requests, tokens and cost of one model over a window."""

    model: str
    requests: int
    tokens: int
    cost_nanos: int

    @property
    def cost(self) -> Decimal:
        return nanos_to_money(self.cost_nanos)


@dataclass(frozen=True)
class DailySpend:
    """Cost per day and per series (top models, then OTHER) over consecutive days."""

    days: list[date]
    series: dict[str, list[int]]  # name -> cost nanos per day, in display order
    tokens: list[int]
    requests: list[int]

    def day_total_nanos(self, index: int) -> int:
        return sum(values[index] for values in self.series.values())


@dataclass(frozen=True)
class DashboardQuery:
    """Everything the dock figures depend on."""

    now_ms: int
    utc: bool = False
    scope: HistoryFilter = field(default_factory=HistoryFilter)  # model/provider/region/key
    spend_days: int = 30
    top_n: int = 5
    top_models_days: int = 30


@dataclass(frozen=True)
class DashboardFigures:
    """The figures of every dashboard dock for one DashboardQuery."""

    query: DashboardQuery
    today: date
    currency: str
    usage_today: list[ModelFigures]
    top_models: list[ModelFigures]
    spend: DailySpend

    @property
    def today_tokens(self) -> int:
        return sum(m.tokens for m in self.usage_today)

    @property
    def today_cost(self) -> Decimal:
        return nanos_to_money(sum(m.cost_nanos for m in self.usage_today))


def _scoped(scope: HistoryFilter, start_ms: int, end_ms: int, with_model: bool) -> HistoryFilter:
    return scope.with_(
        start_ms=start_ms, end_ms=end_ms, text=None, model=scope.model if with_model else None
    )


def by_model(conn: sqlite3.Connection, flt: HistoryFilter) -> list[ModelFigures]:
    """Requests, tokens and cost per resolved model, most tokens first."""
    where, params = flt.where()
    rows = conn.execute(
        "SELECT resolved_model, count(*), coalesce(sum(total_tokens), 0), "
        f"coalesce(sum(cost_nanos), 0) FROM generations{where} "
        "GROUP BY resolved_model ORDER BY 3 DESC, 1",
        params,
    )
    return [ModelFigures(m or "—", n, t, c) for m, n, t, c in rows]


def latest_currency(conn: sqlite3.Connection) -> str:
    """The currency of the newest cached generation ('' for an empty cache)."""
    row = conn.execute(
        "SELECT currency FROM generations ORDER BY created_at DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else ""


def _spend_rows(
    conn: sqlite3.Connection, bounds: list[int], flt: HistoryFilter
) -> list[tuple[int, str | None, int, int, int]]:
    """(day index, model, requests, tokens, cost nanos) for the days between `bounds`, added
    up by SQLite (from the spend roll-up when the filter allows it)."""
    if not (flt.provider or flt.region or flt.key_id):  # the roll-up's dimensions
        rows = rollup.spend_rows(conn, bounds, flt.model)
        if rows is not None:
            return rows
    where, params = flt.with_(start_ms=bounds[0], end_ms=bounds[-1], text=None).where()
    return conn.execute(
        f"SELECT {rollup.day_index_sql('created_at', bounds)}, resolved_model, count(*), "
        f"coalesce(sum(total_tokens), 0), coalesce(sum(cost_nanos), 0) "
        f"FROM generations{where} GROUP BY 1, 2",
        params,
    ).fetchall()


def _fold_daily(rows: list, first: date, bounds: list[int], top_n: int) -> DailySpend:
    days = [first + timedelta(days=i) for i in range(len(bounds) - 1)]
    per_model: dict[str, list[int]] = {}
    tokens = [0] * len(days)
    requests = [0] * len(days)
    for index, model, n, tok, cost in rows:
        if not 0 <= index < len(days):
            continue
        per_model.setdefault(model or "—", [0] * len(days))[index] += cost
        tokens[index] += tok
        requests[index] += n
    ranked = sorted(per_model, key=lambda m: (-sum(per_model[m]), m))
    series = {m: per_model[m] for m in ranked[:top_n]}
    if len(ranked) > top_n:
        other = [0] * len(days)
        for model in ranked[top_n:]:
            other = [a + b for a, b in zip(other, per_model[model], strict=True)]
        series[OTHER] = other
    return DailySpend(days, series, tokens, requests)


def _fold_models(rows: list, since_index: int) -> list[ModelFigures]:
    """by_model() over the days from the one at `since_index` on."""
    totals: dict[str | None, list[int]] = {}
    for index, model, n, tok, cost in rows:
        if index >= since_index:
            acc = totals.setdefault(model, [0, 0, 0])
            acc[0] += n
            acc[1] += tok
            acc[2] += cost
    # the order of by_model's SQL: most tokens first, then the model (NULL first)
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1][1], kv[0] is not None, kv[0] or ""))
    return [ModelFigures(m or "—", n, t, c) for m, (n, t, c) in ordered]


def daily_spend(
    conn: sqlite3.Connection, first: date, last: date, utc: bool, flt: HistoryFilter,
    top_n: int = 5,
) -> DailySpend:
    """Cost per day for the top `top_n` models by cost, the rest summed as OTHER."""
    bounds = day_bounds(first, last, utc)
    return _fold_daily(_spend_rows(conn, bounds, flt), first, bounds, top_n)


def dashboard(conn: sqlite3.Connection, query: DashboardQuery) -> DashboardFigures:
    """All dock figures: today's usage, top models, daily spend (one read transaction)."""
    today = day_of(query.now_ms, query.utc)
    tomorrow_ms = day_start_ms(today + timedelta(days=1), query.utc)
    conn.execute("BEGIN")
    try:
        usage = by_model(
            conn, _scoped(query.scope, day_start_ms(today, query.utc), tomorrow_ms, False)
        )
        top_start = day_start_ms(today - timedelta(days=query.top_models_days - 1), query.utc)
        spend_first = today - timedelta(days=query.spend_days - 1)
        bounds = day_bounds(spend_first, today, query.utc)
        rows = _spend_rows(conn, bounds, query.scope)
        spend = _fold_daily(rows, spend_first, bounds, query.top_n)
        if query.scope.model is None and top_start in bounds:
            # the spend rows already cover the top-models window: one scan serves both
            top = _fold_models(rows, bounds.index(top_start))
        else:
            top = by_model(conn, _scoped(query.scope, top_start, tomorrow_ms, False))
        currency = latest_currency(conn)
    finally:
        conn.execute("COMMIT")
    return DashboardFigures(query, today, currency, usage, top, spend)


def filter_choices(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Distinct models, providers, regions and keys in the cache, for the filter combos."""
    columns = {"model": "resolved_model", "provider": "provider", "region": "region",
               "key_id": "key_id"}
    # Each name tried once through the index on its number (a few hundred look-ups), instead
    # of every generation's name looked up and sorted (10 M at 10 M generations).
    return {
        field: [r[0] for r in conn.execute(
            "SELECT name FROM names AS n WHERE EXISTS "
            f"(SELECT 1 FROM gen WHERE {number_column(column)} = n.nid) ORDER BY name"
        )]
        for field, column in columns.items()
    }


def today_totals(conn: sqlite3.Connection, since_ms: int) -> dict[str, tuple[Decimal, int, int]]:
    """{currency: (cost, tokens, generations)} of the generations created since `since_ms`
    (the tray's "today" from local midnight), one entry per currency, none without rows."""
    rows = conn.execute(
        "SELECT currency, COALESCE(SUM(cost_nanos), 0), COALESCE(SUM(total_tokens), 0), "
        "COUNT(*) FROM generations WHERE created_at >= ? GROUP BY currency ORDER BY currency",
        (since_ms,),
    )
    return {cur: (Decimal(nanos) / NANOS, int(tok), int(n)) for cur, nanos, tok, n in rows}


def traced_prices(conn: sqlite3.Connection, limit: int = 500) -> list[tuple[Any, str | None, Any]]:
    """(resolved model, provider, price per million tokens) of every option the `limit`
    routing traces fetched last considered with a price; the routing form's cheapest price."""
    try:
        rows = conn.execute(
            "SELECT resolved_model, routing FROM generations WHERE routing IS NOT NULL "
            "ORDER BY routing_fetched_at DESC LIMIT ?",
            (limit,),
        ).fetchall()
    except sqlite3.Error:  # an older cache without the columns: no traced prices
        return []
    prices = []
    for model, text in rows:
        try:
            trace = json.loads(text)
        except ValueError:
            continue
        considered = trace.get("considered") if isinstance(trace, dict) else None
        for option in considered if isinstance(considered, list) else []:
            if isinstance(option, dict) and option.get("price_per_mtok") is not None:
                prices.append((model, option.get("provider"), option["price_per_mtok"]))
    return prices
