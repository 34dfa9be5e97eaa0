"""How figures look on screen: one formatter per kind of quantity, in the user's locale.

Energy and carbon get three significant digits in a readable unit (their units and digits come
from `eco.wording`, shared with the CLI), money its currency's precision (or every digit in the
detail window), counts and tokens whole numbers, times the local zone. Separators and dates
follow the OS locale (QLocale) on screen; the "C" locale of a bare environment reads as US
English. CSV, JSON and the CLI keep their documented fixed formats and do not use this module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from PySide6.QtCore import QDateTime, QLocale

from ..eco import wording
from ..rules.currency import minor_digits
from ..store.rows import from_ms


def locale() -> QLocale:
    """The locale figures are written in: the default QLocale ("C" reads as US English)."""
    loc = QLocale()
    if loc.language() == QLocale.Language.C:
        return QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    return loc


def number(value: float, decimals: int = 0) -> str:
    """A number with `decimals` decimals and the locale's separators ('1.234,5' in German)."""
    return locale().toString(float(value), "f", max(0, int(decimals)))


def count(value: int) -> str:
    """A whole count with the locale's group separators: '3,139', '3.139', '3 139'."""
    return _group(str(abs(int(value))), locale(), negative=int(value) < 0)


def _group(digits: str, loc: QLocale, negative: bool = False, fraction: str = "") -> str:
    """Digits grouped by threes with the locale's separator, and the fraction after its point."""
    sep = loc.groupSeparator()
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    text = sep.join(groups)
    if fraction:
        text += loc.decimalPoint() + fraction
    return (loc.negativeSign() if negative else "") + text


def local_zone_name(moment: datetime | None = None) -> str:
    """The local zone's abbreviation, e.g. CET or UTC."""
    moment = (moment or datetime.now(UTC)).astimezone()
    return moment.tzname() or "local"


def local_time(ms: int, with_zone: bool = False) -> str:
    """The moment in the local zone, written the locale's way with seconds (optionally with
    the zone); '2026-11-24 14:05:07' where the locale is "C"."""
    moment = from_ms(ms).astimezone()
    loc = QLocale()
    if loc.language() == QLocale.Language.C:
        text = moment.strftime("%Y-%m-%d %H:%M:%S")
    else:
        time_format = loc.timeFormat(QLocale.FormatType.ShortFormat)
        if ":ss" not in time_format and ".ss" not in time_format:
            time_format = time_format.replace("mm", "mm:ss", 1)
        stamp = QDateTime.fromMSecsSinceEpoch(int(ms))
        text = loc.toString(
            stamp, loc.dateFormat(QLocale.FormatType.ShortFormat) + " " + time_format
        )
    return f"{text} {moment.tzname()}" if with_zone else text


def local_date(day) -> str:
    """A calendar day the locale's short way ('11/24/26', '24.11.26')."""
    from PySide6.QtCore import QDate

    return locale().toString(QDate(day.year, day.month, day.day),
                             QLocale.FormatType.ShortFormat)


def day_month(day) -> str:
    """A day without its year, for chart ticks: '11/24', '24.11'."""
    from PySide6.QtCore import QDate

    loc = locale()
    pattern = loc.dateFormat(QLocale.FormatType.ShortFormat)
    for year in ("yyyy", "yy", "y"):
        pattern = pattern.replace(year, "")
    pattern = pattern.strip("/.-, ").replace("//", "/").replace("..", ".").replace("--", "-")
    return loc.toString(QDate(day.year, day.month, day.day), pattern or "MM-dd")


def money(amount: Decimal | str, currency: str = "", places: int | None = None,
          full: bool = False) -> str:
    """Money for reading: the locale's separators; `places` decimals, else the currency's
    precision (two for most), or three significant digits for small amounts that would read
    as zero; `full`: every digit the platform sent (the detail window), never rounded."""
    value = Decimal(amount)
    if not value.is_finite():
        return f"{wording.UNKNOWN} {currency}".strip()
    if full:
        places = max(-value.as_tuple().exponent, 0) if value != 0 else 0
        places = max(places, minor_digits(currency))
    elif places is None:
        places = minor_digits(currency)
        if value != 0 and value.quantize(Decimal(1).scaleb(-places)) == 0:
            # a small amount that would read as zero: three significant digits
            places = max(places, wording.decimals_for(float(value)))
    quant = Decimal(1).scaleb(-places)
    text = f"{abs(value.quantize(quant)):.{places}f}"
    whole, _, fraction = text.partition(".")
    written = _group(whole, locale(), negative=value.quantize(quant) < 0, fraction=fraction)
    return f"{written} {currency}".strip()


def tokens(value: int) -> str:
    """1,234,567 tokens (the locale's separators)."""
    return count(value)


def compact(value: float) -> str:
    """1.23M, 45.60k: for tight spaces."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:  # three significant digits: 140k, 45.6k, 1.23M
            return f"{number(value / limit, wording.decimals_for(value / limit))}{suffix}"
    return number(value, 0)


def energy(wh: float | None) -> str:
    """'0.00712 Wh', '448 Wh', '1.23 kWh': three significant digits, 'unknown' if not finite."""
    return wording.quantity(wh, wording.ENERGY_UNITS, number)


def carbon(grams: float | None) -> str:
    """'23.8 g CO₂e', '4.16 kg CO₂e': three significant digits."""
    return wording.quantity(grams, wording.CARBON_UNITS, number)


def energy_range(value: float | None, low: float | None, high: float | None) -> str:
    """'448 Wh (412 – 489 Wh)'; one number when the estimate is exact."""
    return wording.ranged(value, low, high, wording.ENERGY_UNITS, number)


def carbon_range(value: float | None, low: float | None, high: float | None) -> str:
    """'23.8 g CO₂e (21.0 – 26.1 g CO₂e)'; one number when the estimate is exact."""
    return wording.ranged(value, low, high, wording.CARBON_UNITS, number)


def significant(value: float) -> str:
    """An eco figure's number without its unit: three significant digits, as the quantities."""
    return number(value, wording.decimals_for(value))


def intensity(g_per_kwh: float) -> str:
    """A grid intensity's number (g CO₂e/kWh): three significant digits."""
    return significant(g_per_kwh)


def percent(value: float) -> str:
    """'23%', '4.2%' of a change (its size; the sentence says which way)."""
    return wording.percent(value, number)


def eco_writer() -> wording.Writer:
    """The eco verdict's formatters, in the user's locale."""
    return wording.Writer(energy=energy, carbon=carbon, percent=percent)


def sentence(text: str) -> str:
    """A message ending in words from elsewhere (an error, a path) ends with a full stop."""
    text = text.rstrip()
    return text if not text or text.endswith((".", "!", "?", "…")) else text + "."


def sync_summary(result, new_generations: int | None = None) -> str:
    """What a sync brought, counting what each number counts: '3,139 feed entries in 7 pages:
    3,000 new generations, 139 updates' (the feed carries each revision of a generation, so
    it holds more entries than the cache holds generations)."""
    pages = f"{count(result.pages)} {'page' if result.pages == 1 else 'pages'}"
    text = f"{count(result.received)} feed entries in {pages}"
    if not result.changed or new_generations is None:
        text += f", {count(result.changed)} new or updated"
    else:
        new = max(0, min(new_generations, result.changed))
        # an update is a later revision of a generation (received now or before)
        text += f": {count(new)} new generations, {count(result.changed - new)} updates"
        if result.received > result.changed:
            text += f", {count(result.received - result.changed)} already up to date"
    if result.quarantined:
        text += f", {count(result.quarantined)} malformed set aside"
    if result.notes:
        text += "; " + "; ".join(result.notes)
    return text


def ago(ms: int | None, now_ms: int | None = None) -> str:
    """'never', 'just now', '5 min ago', or the local time for older moments."""
    if ms is None:
        return "never"
    now = now_ms if now_ms is not None else int(datetime.now(UTC).timestamp() * 1000)
    delta = max(0, now - ms) // 1000
    if delta < 60:  # never "0 min ago" beside "just now"
        return "just now"
    if delta < 3600:
        return f"{delta // 60} min ago"
    return local_time(ms, with_zone=True)
