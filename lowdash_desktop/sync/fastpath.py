"""Faster ways to the same cache rows: a feed page decoded straight from its bytes, or feed
records validated into plain dicts.

`api.models.Generation` is the contract. Validating a record into it builds six frozen model
instances (the generation, its tokens, cost, eco and two ranges), which was most of the
sync's Python time (~75 us of ~110 us a record on the benchmark machine). The TypedDicts here
state the same rules (the same annotated types, bounds, defaults and configuration, the same
range check) and give dicts, about twice as fast.

Faster still, `decode_page` reads a whole page's bytes with msgspec into the structs below
(the same rules again) and makes the rows from them: no `json.loads` objects, no pydantic,
about a fifth of the time `json.loads` and the TypedDicts took together (docs/performance.md). It
decides a page only when it can decide every record of it: any record it cannot type, or
whose values it cannot map exactly (a `routing` object, a time or an amount outside the
shapes below, a number past 64 bits), and the page goes the usual way (`json.loads`, these
TypedDicts, `Generation` for what they refuse), which sets a bad record aside with its reason.

They are only shortcuts: a record they refuse, or one carrying anything they do not model,
goes through `Generation` as before, which decides and gives the reason.
`tests/unit/test_fastpath.py` checks, over generated hostile records, that neither ever
accepts a record `Generation` refuses and that the rows they make are the rows
`generation_row` makes.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, NotRequired

import msgspec
from msgspec import Meta, Struct
from pydantic import AfterValidator, ConfigDict, Field, NonNegativeInt, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from ..api.models import MAX_FIGURE, MAX_NAME, Money, Name, UtcDateTime, _to_decimal
from ..store.rows import money_to_nanos, to_ms

# ApiModel's configuration, without what only models have (frozen, populate_by_name)
_CONFIG = ConfigDict(extra="ignore", allow_inf_nan=False, str_max_length=20_000)

Figure = Annotated[float, Field(ge=0, le=MAX_FIGURE)]


class _Tokens(TypedDict, total=False):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]
    prompt: NonNegativeInt
    completion: NonNegativeInt
    reasoning: NonNegativeInt
    cached: NonNegativeInt
    total: NonNegativeInt


class _Cost(TypedDict):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]
    amount: Money
    currency: Name


class _Range(TypedDict):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]
    value: Figure
    low: NotRequired[Figure | None]
    high: NotRequired[Figure | None]


def _ordered(r: _Range) -> _Range:
    """Range._ordered: a range whose ends do not hold its value is kept without them."""
    value = r["value"]
    low = r.get("low")
    high = r.get("high")
    if not (value if low is None else low) <= value <= (value if high is None else high):
        r["low"] = r["high"] = None
    return r


class _Eco(TypedDict):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]
    energy_wh: Annotated[_Range, AfterValidator(_ordered)]
    carbon_g: Annotated[_Range, AfterValidator(_ordered)]
    grid_intensity_g_per_kwh: NotRequired[Annotated[float | None, Field(ge=0, le=1e5)]]
    methodology_version: NotRequired[Name]
    confidence: NotRequired[Name]
    caveats: NotRequired[list[str]]


class _Generation(TypedDict):
    __pydantic_config__ = _CONFIG  # type: ignore[misc]
    id: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
    seq: NotRequired[int | None]
    revision: NotRequired[Annotated[int, Field(ge=1)]]
    created_at: UtcDateTime
    key_id: NotRequired[Name | None]
    model: Name
    resolved_model: NotRequired[Name | None]
    provider: NotRequired[Name | None]
    region: NotRequired[Name | None]
    latency_ms: NotRequired[NonNegativeInt | None]
    finish_reason: NotRequired[Name | None]
    streamed: NotRequired[bool | None]
    tokens: NotRequired[_Tokens]
    cost: _Cost
    eco: NotRequired[_Eco | None]


_validators: list[Any] = []  # built at the first record (~14 ms), not when the engine loads


def _validate(raw: Any) -> Any:
    if not _validators:
        _validators.append(TypeAdapter(_Generation).validate_python)
    return _validators[0](raw)

_CAVEATS: dict[tuple[str, ...], str] = {}  # the JSON of caveat lists seen (a few per platform)


def _caveats_json(caveats: list[str]) -> str:
    key = tuple(caveats)
    text = _CAVEATS.get(key)
    if text is None:
        text = json.dumps(caveats)
        if len(_CAVEATS) < 4096:
            _CAVEATS[key] = text
    return text


def fast_row(raw: Any) -> tuple | None:
    """The cache row of a feed record (GENERATION_COLUMNS order), or None when this shortcut
    cannot decide it: the caller then validates it with `Generation` (which gives reasons)."""
    if not isinstance(raw, dict) or "routing" in raw:
        return None
    try:
        g = _validate(raw)
    except Exception:  # noqa: BLE001 - any doubt: the contract's model decides
        return None
    tok = g.get("tokens") or {}
    cost = g["cost"]
    eco = g.get("eco")
    amount = cost["amount"]
    model = g["model"]
    streamed = g.get("streamed")
    if eco is not None:
        energy, carbon = eco["energy_wh"], eco["carbon_g"]
        eco_values = (
            energy["value"], energy.get("low"), energy.get("high"),
            carbon["value"], carbon.get("low"), carbon.get("high"),
            eco.get("grid_intensity_g_per_kwh"), eco.get("methodology_version", ""),
            eco.get("confidence", "estimated"), _caveats_json(eco.get("caveats", [])),
        )
    else:
        eco_values = (None,) * 10
    return (
        g["id"], g.get("seq"), g.get("revision", 1), to_ms(g["created_at"]), g.get("key_id"),
        model, g.get("resolved_model") or model, g.get("provider"), g.get("region"),
        g.get("latency_ms"), g.get("finish_reason"),
        None if streamed is None else int(streamed),
        tok.get("prompt", 0), tok.get("completion", 0), tok.get("reasoning", 0),
        tok.get("cached", 0), tok.get("total", 0),
        format(amount, "f"), money_to_nanos(amount), cost["currency"],
        *eco_values,
    )


# -- the page decoded from its bytes (msgspec) ------------------------------------------------
# The same bounds as `api.models`, and SQLite's 64 bits for every integer stored: a number
# past them makes the page go the usual way, where the row check sets the record aside.
_I64 = 2**63 - 1
_SName = Annotated[str, Meta(max_length=MAX_NAME)]
_SFigure = Annotated[float, Meta(ge=0, le=MAX_FIGURE)]
_SCount = Annotated[int, Meta(ge=0, le=_I64)]


class _STokens(Struct, gc=False):
    prompt: _SCount = 0
    completion: _SCount = 0
    reasoning: _SCount = 0
    cached: _SCount = 0
    total: _SCount = 0


class _SCost(Struct, gc=False):
    amount: str | int  # `Money`: a decimal string or an integer (checked by `_money`)
    currency: _SName


class _SRange(Struct, gc=False):
    value: _SFigure
    low: _SFigure | None = None
    high: _SFigure | None = None


class _SEco(Struct, gc=False):
    energy_wh: _SRange
    carbon_g: _SRange
    grid_intensity_g_per_kwh: Annotated[float, Meta(ge=0, le=1e5)] | None = None
    methodology_version: _SName = ""
    confidence: _SName = "estimated"
    caveats: list[Annotated[str, Meta(max_length=20_000)]] = []


class _SGeneration(Struct, gc=False):
    id: Annotated[str, Meta(min_length=1, max_length=MAX_NAME)]
    created_at: str  # read by `_ms`; pydantic also reads numbers and other shapes: not here
    model: _SName
    cost: _SCost
    seq: Annotated[int, Meta(ge=-_I64 - 1, le=_I64)] | None = None
    revision: Annotated[int, Meta(ge=1, le=_I64)] = 1
    key_id: _SName | None = None
    resolved_model: _SName | None = None
    provider: _SName | None = None
    region: _SName | None = None
    latency_ms: _SCount | None = None
    finish_reason: _SName | None = None
    streamed: bool | None = None
    tokens: _STokens = msgspec.field(default_factory=_STokens)
    eco: _SEco | None = None
    routing: Any = None  # anything but null: `Generation` judges the record


class _SPage(Struct, gc=False):
    data: list[_SGeneration]
    next_cursor: str | None = None
    has_more: bool = False


class FastPage:
    """A feed page decided from its bytes: its records already made into cache rows."""

    __slots__ = ("data", "has_more", "next_cursor", "rows")

    def __init__(self, data: list, rows: list[tuple], next_cursor: str | None,
                 has_more: bool) -> None:
        self.data = data
        self.rows = rows
        self.next_cursor = next_cursor
        self.has_more = has_more


# RFC 3339 with at most microseconds and an offset of at most 14 hours, the shape platforms
# send; pydantic reads every string of this shape, and reads it to this instant
# (tests/unit/test_fastpath.py)
_UTC_TEXT = re.compile(
    r"(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.(\d{1,6}))?"
    r"(?:Z|([+-])(0\d|1[0-4]):([0-5]\d))",
    re.ASCII,
)
# the instants a datetime holds in UTC: 0001-01-01 to 9999-12-31 (pydantic refuses the rest)
_MIN_MS = (1 - date(1970, 1, 1).toordinal()) * 86_400_000
_MAX_MS = (date(9999, 12, 31).toordinal() + 1 - date(1970, 1, 1).toordinal()) * 86_400_000
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_DAY_MS: dict[str, int] = {}  # day text -> its first millisecond (a few hundred per feed)
# a plain non-negative amount with at most nine decimals: its nanos read off the digits, and
# `format(Decimal(text), "f")` is the text itself (no leading zeros, no exponent)
_PLAIN_AMOUNT = re.compile(r"(0|[1-9]\d{0,16})\.(\d{1,9})", re.ASCII)


# The usual shape, `2026-11-24T13:05:07.123Z`, read with its hour looked up (a few thousand
# hours per feed) and only minutes, seconds and milliseconds parsed: half the time of the
# general reading below, which it always agrees with (tests/unit/test_fastpath.py).
_HOUR_MS: dict[str, int] = {}
_USUAL_TAIL = re.compile(r":([0-5]\d):([0-5]\d)\.(\d{3})Z", re.ASCII)


def _ms(text: str) -> int | None:
    """Epoch ms of a UTC time as `to_ms` gives it (rounded down), or None for another shape."""
    if len(text) == 24:
        base = _HOUR_MS.get(text[:13])
        if base is not None:
            tail = _USUAL_TAIL.fullmatch(text, 13)
            if tail is not None:
                minutes, seconds, millis = tail.groups()
                return base + (int(minutes) * 60 + int(seconds)) * 1000 + int(millis)
    ms = _read_ms(text)
    if ms is not None and len(text) == 24 and len(_HOUR_MS) < 65_536:
        hour = text[:13]
        if _UTC_TEXT.fullmatch(hour + ":00:00Z"):
            _HOUR_MS[hour] = _read_ms(hour + ":00:00Z")  # type: ignore[assignment]
    return ms


def _read_ms(text: str) -> int | None:
    match = _UTC_TEXT.fullmatch(text)
    if match is None:
        return None
    day, hours, minutes, seconds, fraction, sign, off_hours, off_minutes = match.groups()
    base = _DAY_MS.get(day)
    if base is None:
        try:
            base = (date.fromisoformat(day).toordinal() - _EPOCH_DAY) * 86_400_000
        except ValueError:  # 2026-02-30: pydantic refuses it too; the usual way says why
            return None
        if len(_DAY_MS) < 65_536:
            _DAY_MS[day] = base
    ms = base + ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000
    if fraction:
        ms += int(fraction[:3].ljust(3, "0"))
    if sign:
        offset = (int(off_hours) * 60 + int(off_minutes)) * 60_000
        ms = ms - offset if sign == "+" else ms + offset
        if not _MIN_MS <= ms < _MAX_MS:  # past year 9999 (or before year 1) in UTC
            return None
    return ms


def _money(amount: str | int) -> tuple[str, int] | None:
    """(the cost column's text, cost_nanos) as `generation_row` makes them, or None when the
    amount is not one `Money` takes or its nanos do not fit 64 bits."""
    if amount.__class__ is str:
        match = _PLAIN_AMOUNT.fullmatch(amount)  # type: ignore[arg-type]
        if match is not None:
            whole, fraction = match.groups()
            nanos = int(whole) * 1_000_000_000 + int(fraction.ljust(9, "0"))
            if nanos:  # zero is written "0" whatever its decimals
                return amount, nanos  # type: ignore[return-value]
    try:
        value = _to_decimal(amount)  # Money's own reading, with its bounds
        nanos = money_to_nanos(value)
    except (ValueError, ArithmeticError):
        return None
    return (format(value, "f"), nanos) if -_I64 - 1 <= nanos <= _I64 else None


def _struct_row(g: _SGeneration) -> tuple | None:
    """The cache row of one decoded record, or None when it cannot be made exactly here."""
    ms = _ms(g.created_at)
    cost = g.cost
    money = _money(cost.amount)
    if ms is None or money is None or g.routing is not None:
        return None
    tok = g.tokens
    eco = g.eco
    model = g.model
    streamed = g.streamed
    if eco is not None:
        energy, carbon = eco.energy_wh, eco.carbon_g
        e, e_low, e_high = energy.value, energy.low, energy.high
        if not (e if e_low is None else e_low) <= e <= (e if e_high is None else e_high):
            e_low = e_high = None  # Range._ordered
        c, c_low, c_high = carbon.value, carbon.low, carbon.high
        if not (c if c_low is None else c_low) <= c <= (c if c_high is None else c_high):
            c_low = c_high = None
        eco_values = (
            e, e_low, e_high, c, c_low, c_high, eco.grid_intensity_g_per_kwh,
            eco.methodology_version, eco.confidence, _caveats_json(eco.caveats),
        )
    else:
        eco_values = (None,) * 10
    return (
        g.id, g.seq, g.revision, ms, g.key_id, model, g.resolved_model or model, g.provider,
        g.region, g.latency_ms, g.finish_reason, None if streamed is None else int(streamed),
        tok.prompt, tok.completion, tok.reasoning, tok.cached, tok.total,
        money[0], money[1], cost.currency, *eco_values,
    )


_decoders: list[Any] = []  # built at the first page, not when the engine loads


def decode_page(body: bytes) -> FastPage | None:
    """The page of `body` with every record made into its cache row, or None when this
    cannot decide the whole page exactly (then: `json.loads` and `split_page`). Records that
    are valid but cannot be stored (a lone surrogate) never get here: msgspec refuses the
    text, and the usual way sets that record aside with its reason."""
    if not _decoders:
        _decoders.append(msgspec.json.Decoder(_SPage).decode)
    try:
        page = _decoders[0](body)
    except (msgspec.DecodeError, RecursionError):  # any doubt: the usual way decides
        return None
    rows = [_struct_row(g) for g in page.data]
    if None in rows:
        return None
    return FastPage(page.data, rows, page.next_cursor, page.has_more)  # type: ignore[arg-type]
