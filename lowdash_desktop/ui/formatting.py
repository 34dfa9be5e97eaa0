"""How figures look on screen: money with currency, local time with its zone, units scaled."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from ..store.rows import from_ms


def local_zone_name(moment: datetime | None = None) -> str:
    """The local zone's abbreviation, e.g. CET or UTC."""
    moment = (moment or datetime.now(UTC)).astimezone()
    return moment.tzname() or "local"


def local_time(ms: int, with_zone: bool = False) -> str:
    """'2026-11-24 14:05:07' in the local zone (optionally with the zone)."""
    moment = from_ms(ms).astimezone()
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text} {moment.tzname()}" if with_zone else text


def money(amount: Decimal | str, currency: str = "", places: int | None = None) -> str:
    """Money for reading: thousands separators, enough decimals to show small amounts."""
    value = Decimal(amount)
    if places is None:
        places = 2 if abs(value) >= 1 or value == 0 else 6
    quant = Decimal(1).scaleb(-places)
    text = f"{value.quantize(quant):,.{places}f}"
    return f"{text} {currency}".strip()


def tokens(count: int) -> str:
    """1,234,567 tokens, or 1.23M for big numbers in tight spaces."""
    return f"{count:,}"


def compact(count: float) -> str:
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= limit:
            return f"{count / limit:.2f}{suffix}"
    return f"{count:.0f}"


def energy(wh: float) -> str:
    """Wh, or kWh / MWh when large."""
    if abs(wh) >= 1e6:
        return f"{wh / 1e6:,.2f} MWh"
    if abs(wh) >= 1e3:
        return f"{wh / 1e3:,.2f} kWh"
    return f"{wh:,.2f} Wh" if abs(wh) >= 1 else f"{wh:.3f} Wh"


def carbon(grams: float) -> str:
    """g or kg / t CO2e."""
    if abs(grams) >= 1e6:
        return f"{grams / 1e6:,.2f} t CO₂e"
    if abs(grams) >= 1e3:
        return f"{grams / 1e3:,.2f} kg CO₂e"
    return f"{grams:,.2f} g CO₂e" if abs(grams) >= 1 else f"{grams:.3f} g CO₂e"


def ago(ms: int | None, now_ms: int | None = None) -> str:
    """'never', 'just now', '5 min ago', or the local time for older moments."""
    if ms is None:
        return "never"
    now = now_ms if now_ms is not None else int(datetime.now(UTC).timestamp() * 1000)
    delta = max(0, now - ms) // 1000
    if delta < 45:
        return "just now"
    if delta < 3600:
        return f"{delta // 60} min ago"
    return local_time(ms, with_zone=True)
