"""The report: every insight figure of one cache in one document (`lowdash report`, metrics).

Money is an exact decimal string (sums are the cache's own sums of the platform's amounts;
derived paces are rounded to nano-units), instants RFC 3339 UTC, dates `YYYY-MM-DD` UTC.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .common import DAY_MS, balance_nanos, key_names, money_text, rfc3339, utc_date
from .keys import KeySpend, spend_by_key
from .periods import Comparison, compare
from .runway import Runway, Span, runway_from_cache
from .spikes import Spike, SpikeRule, find_spikes

PERIOD_DAYS = (7, 30)


@dataclass(frozen=True)
class Insight:
    """Everything the report shows, computed in one read transaction."""

    now_ms: int
    days: int
    currency: str
    runway: Runway
    spikes: list[Spike]
    keys: list[KeySpend]
    periods: dict[int, Comparison]
    names: dict[str, str]
    rule: SpikeRule

    def spike_name(self, spike: Spike) -> str:
        return self.names.get(spike.id, spike.id) if spike.scope == "key" else spike.id


def insight(
    conn: sqlite3.Connection, now_ms: int, days: int = 30, rule: SpikeRule | None = None
) -> Insight:
    """All insight figures of the cache as of `now_ms` (one consistent read)."""
    rule = rule or SpikeRule()
    conn.execute("BEGIN")
    try:
        _balance, currency = balance_nanos(conn)
        if not currency:
            row = conn.execute(
                "SELECT currency FROM generations ORDER BY created_at DESC LIMIT 1"
            ).fetchone()
            currency = row[0] if row else ""
        result = Insight(
            now_ms, days, currency,
            runway_from_cache(conn, now_ms),
            find_spikes(conn, now_ms, days, rule),
            spend_by_key(conn, now_ms - days * DAY_MS, now_ms),
            {d: compare(conn, now_ms, d) for d in PERIOD_DAYS},
            key_names(conn),
            rule,
        )
    finally:
        conn.execute("COMMIT")
    return result


def _money(nanos: float | int | None) -> str | None:
    return None if nanos is None else money_text(round(nanos))


def _money_span(span: Span | None) -> dict | None:
    if span is None:
        return None
    return {"value": _money(span.value), "low": _money(span.low), "high": _money(span.high)}


def _days(span: Span | None) -> dict | None:
    if span is None:
        return None
    return {"value": round(span.value, 1), "low": round(span.low, 1),
            "high": None if span.high is None else round(span.high, 1)}


def _dates(pair: tuple[int, int | None] | None) -> dict | None:
    if pair is None:
        return None
    return {"earliest": utc_date(pair[0]),
            "latest": None if pair[1] is None else utc_date(pair[1])}


def runway_json(r: Runway) -> dict:
    doc = {
        "balance": _money(r.balance),
        "burn_per_day": _money_span(r.burn),
        "days": _days(r.days),
        "runs_out": _dates(r.runs_out),
        "basis_days": round(r.basis_days, 1),
        "note": r.note,
        # added beside the fields
        "history_days": round(r.history_days, 1),
        "pace_30d": None if r.burn_30d is None else {
            "burn_per_day": _money(r.burn_30d),
            "days": None if r.days_30d is None else round(r.days_30d, 1),
        },
        "low_balance_threshold": _money(r.threshold),
        "below_threshold": r.below_threshold,
        "reaches_threshold": None if r.reaches_threshold is None else {
            "days": _days(r.threshold_days), **(_dates(r.reaches_threshold) or {}),
        },
    }
    return doc


def _totals(t) -> dict:
    return {"from": rfc3339(t.start_ms), "to": rfc3339(t.end_ms), "spend": money_text(t.spend),
            "tokens": t.tokens, "generations": t.generations}


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def period_json(c: Comparison, covered: float | None = None) -> dict:
    """One period; `covered` is how many days of the previous period the history covers: a
    percentage against a previous period the history only partly covers would be a false rise,
    so it is null then (and each mover's too)."""
    partial = covered is not None and covered < (c.current.end_ms - c.current.start_ms) / 86.4e6
    return {
        "current": _totals(c.current),
        "previous": {**_totals(c.previous),
                     **({} if covered is None else {"covered_days": round(covered, 1)})},
        "change": {
            "spend": money_text(c.change),
            "percent": None if partial else _percent(c.percent),
            "tokens": c.current.tokens - c.previous.tokens,
            "generations": c.current.generations - c.previous.generations,
        },
        "movers": [
            {"dimension": m.dimension, "id": m.id, "name": m.name,
             "current": money_text(m.current), "previous": money_text(m.previous),
             "change": money_text(m.change), "percent": None if partial else _percent(m.percent)}
            for m in c.movers
        ],
    }


def as_json(ins: Insight) -> dict:
    """The documented JSON document of `lowdash report --json`."""
    return {
        "currency": ins.currency,
        "as_of": rfc3339(ins.now_ms),
        "days": ins.days,
        "runway": runway_json(ins.runway),
        "spikes": [
            {"scope": s.scope, "id": s.id, "name": ins.spike_name(s),
             "start": rfc3339(s.start_ms), "end": rfc3339(s.end_ms),
             "spend": money_text(s.spend), "expected": money_text(s.expected)}
            for s in ins.spikes
        ],
        "spike_min_amount": money_text(ins.rule.min_amount),
        "keys": [
            {"key_id": k.key_id, "name": k.name, "spend": money_text(k.spend),
             "tokens": k.tokens, "generations": k.generations, "share": round(k.share, 6)}
            for k in ins.keys
        ],
        "periods": {f"{d}d": period_json(c, covered_days(ins.runway.history_days, d))
                    for d, c in ins.periods.items()},
    }


# -- the readable form: a fixed format whatever the locale ------------------------------------
def fixed_money(nanos: float | int, currency: str = "") -> str:
    """'1,234.57 EUR'; amounts under 1 keep four decimals ('0.1084 EUR') so they do not read 0."""
    value = nanos / 1e9
    decimals = 2 if abs(value) >= 1 or value == 0 else 4
    text = f"{value:,.{decimals}f}"
    return f"{text} {currency}".rstrip()


def _fixed_days(days: float) -> str:
    return f"{days:,.0f}"


def span_words(value: float, low: float, high: float | None,
               number=lambda v: f"{v:,.0f}") -> str:
    """'about 23 days (18-31)', or in hours below two days ('about 8 hours (5-12)'): a balance
    that lasts hours never reads as '0 days (0-0)', the words of a used-up one."""
    hours = (high if high is not None else value) < 2
    scale, unit = (24.0, "hours") if hours else (1.0, "days")
    ends = f"{number(low * scale)} or more" if high is None else (
        f"{number(low * scale)}-{number(high * scale)}")
    return f"about {number(value * scale)} {unit} ({ends})"


def covered_days(ins_history_days: float, days: int) -> float:
    """How much of the period before the last `days` days the cached history covers."""
    return max(0.0, min(float(days), ins_history_days - days))


def _signed_percent(value: float | None) -> str:
    return "n/a (nothing before)" if value is None else f"{value:+,.1f}%"


def runway_sentences(r: Runway, currency: str) -> list[str]:
    """The runway in words: the pace's days with their range, or why there is none."""
    lines: list[str] = []
    if r.balance is not None:
        lines.append(f"balance {fixed_money(r.balance, currency)}")
    if r.days is not None and r.runs_out is not None:
        high = "open-ended" if r.days.high is None else _fixed_days(r.days.high)
        del high
        lines.append(
            f"lasts {span_words(r.days.value, r.days.low, r.days.high)} at this week's pace; "
            f"runs out between {utc_date(r.runs_out[0])} and "
            + ("an open date" if r.runs_out[1] is None else utc_date(r.runs_out[1]))
        )
    if r.burn is not None:
        lines.append(
            f"spend per day this week {fixed_money(r.burn.value, currency)} "
            f"({fixed_money(r.burn.low)}-{fixed_money(r.burn.high)})"
            + ("" if r.burn_30d is None else
               f"; over 30 days {fixed_money(r.burn_30d, currency)}")
        )
    if r.reaches_threshold is not None and r.threshold is not None:
        latest = r.reaches_threshold[1]
        lines.append(
            f"reaches the low-balance threshold ({fixed_money(r.threshold, currency)}) between "
            f"{utc_date(r.reaches_threshold[0])} and "
            + ("an open date" if latest is None else utc_date(latest))
        )
    if r.note:
        lines.append(r.note)
    return lines


def visible(text: str) -> str:
    """A platform's name as the terminal should show it: control and bidi characters replaced
    (a key name must not move the cursor or reverse the line)."""
    from ..safe_text import visible as _visible

    return _visible(text)


def summary_text(ins: Insight) -> str:
    """The readable form of the report (`lowdash report` without --json)."""
    cur = ins.currency
    out = [f"Lowdash report as of {rfc3339(ins.now_ms)}, last {ins.days} days ({cur or '-'})"]
    out.append("Runway:")
    out.extend(f"  {line}" for line in runway_sentences(ins.runway, cur))
    out.append(f"Spikes (hours above their 14-day baseline and at least "
               f"{fixed_money(ins.rule.min_amount, cur)}): " + ("none" if not ins.spikes else ""))
    for s in ins.spikes[:20]:
        out.append(f"  {s.scope} {visible(ins.spike_name(s))}: {rfc3339(s.start_ms)} to "
                   f"{rfc3339(s.end_ms)}, {fixed_money(s.spend, cur)} (expected "
                   f"{fixed_money(s.expected, cur)})")
    if len(ins.spikes) > 20:
        out.append(f"  ... and {len(ins.spikes) - 20} more (--json lists them all)")
    out.append("Spend by key:" + (" none" if not ins.keys else ""))
    for k in ins.keys:
        out.append(f"  {visible(k.name or k.key_id or '(no key)')}: {fixed_money(k.spend, cur)} "
                   f"({k.share * 100:.1f}%), {k.tokens:,} tokens, {k.generations:,} generations")
    for days, c in ins.periods.items():
        covered = covered_days(ins.runway.history_days, days)
        partial = covered < days
        change = (f"the {days} days before cover only {covered:.0f} days of history"
                  if partial else _signed_percent(c.percent))
        out.append(
            f"Last {days} days vs the {days} before: {fixed_money(c.current.spend, cur)} vs "
            f"{fixed_money(c.previous.spend, cur)} ({change})"
        )
        for m in c.movers[:5]:
            label = visible(m.name or m.id or "(none)")
            out.append(f"  {m.dimension} {label}: {fixed_money(m.previous, cur)} -> "
                       f"{fixed_money(m.current, cur)}"
                       + ("" if partial else f" ({_signed_percent(m.percent)})"))
    return "\n".join(out)
