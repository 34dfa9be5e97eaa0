"""The sync's fast validations (records into TypedDicts; whole pages decoded from their bytes)
never accept what the contract's model refuses, and make the same rows (generated hostile
records, broken in every named way, and odd valid ones)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from lowdash_desktop.api.models import Generation, UtcDateTime, _to_decimal
from lowdash_desktop.demo.fastfeed import FastDemoPlatform
from lowdash_desktop.store.rows import generation_row, money_to_nanos, to_ms
from lowdash_desktop.sync.engine import split_page
from lowdash_desktop.sync.fastpath import _money, _ms, decode_page, fast_row
from tests.reliability.test_hostile_feed import BREAKS, broken_record, valid_record

CASES = settings(max_examples=300, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# JSON values a platform could put anywhere
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)
FIELDS = ["id", "seq", "revision", "created_at", "key_id", "model", "resolved_model",
          "provider", "region", "latency_ms", "finish_reason", "streamed", "tokens", "cost",
          "eco"]


def model_row(raw):
    try:
        return generation_row(Generation.model_validate(raw))
    except Exception:  # noqa: BLE001
        return None


def page_bytes(*records, **page) -> bytes:
    return json.dumps({"data": list(records), "has_more": False, **page}).encode()


def bytes_row(raw):
    """The row the page decoder makes of a page holding `raw` alone, or None."""
    try:
        body = page_bytes(raw)
    except (TypeError, ValueError):  # not JSON at all: no platform can send it
        return None
    page = decode_page(body)
    return None if page is None else page.rows[0]


def check(raw) -> None:
    fast = fast_row(copy.deepcopy(raw))
    if fast is not None:
        assert model_row(raw) == fast, raw
    decoded = bytes_row(raw)
    if decoded is not None:
        # never accepted unless the model accepts it, then the very same row
        assert model_row(raw) == decoded, raw
        rows, bad = split_page([raw])
        assert rows == [decoded] and not bad, raw


@given(valid_record("gen_1", 1))
@CASES
def test_valid_records_give_the_models_rows(raw):
    assert fast_row(copy.deepcopy(raw)) == model_row(raw)
    decoded = bytes_row(raw)
    assert decoded is None or decoded == model_row(raw)


@given(broken_record("gen_1", 1))
@CASES
def test_broken_records_are_never_accepted(case):
    raw, kind = case
    check(raw)  # (numbers past 64 bits pass both validations; the row check refuses them)
    rows, bad = split_page([raw])
    assert not rows and len(bad) == 1, kind
    assert bytes_row(raw) is None, kind


@given(valid_record("gen_1", 2), st.lists(st.tuples(st.sampled_from(FIELDS), json_value),
                                          min_size=1, max_size=3))
@CASES
def test_any_field_replaced_by_any_json_is_judged_as_the_model_judges_it(raw, changes):
    for name, value in changes:
        raw[name] = value
    check(raw)


@given(valid_record("gen_1", 1), st.sampled_from(["tokens", "cost", "eco"]),
       st.text(max_size=12), json_value)
@CASES
def test_any_nested_field_replaced_is_judged_as_the_model_judges_it(raw, part, name, value):
    if isinstance(raw.get(part), dict):
        raw[part][name] = value
    for end in ("low", "high", "value"):
        raw["eco"]["carbon_g"][end] = value if name == end else raw["eco"]["carbon_g"].get(end)
    check(raw)


def test_every_break_is_refused_by_both():
    for kind, breaks in BREAKS.items():
        raw = {"id": "gen_1", "revision": 1, "created_at": "2026-11-24T13:05:07.123Z",
               "model": "m", "tokens": {"prompt": 1}, "cost": {"amount": "0.1", "currency": "EUR"},
               "eco": {"energy_wh": {"value": 1.0}, "carbon_g": {"value": 1.0}}}
        breaks(raw)
        rows, bad = split_page([raw])
        assert not rows and len(bad) == 1, kind
        assert bytes_row(raw) is None, kind


def test_the_demos_records_take_the_fast_path_and_give_the_models_rows():
    platform = FastDemoPlatform(seed=3, generations=300, order="shuffled", page_limit=100)
    records = [r for start in sorted(platform._pages)
               for r in json.loads(platform._pages[start].body)["data"]]
    assert len(records) == platform.feed_length
    for raw in records:
        assert fast_row(copy.deepcopy(raw)) == model_row(raw)


def test_the_demos_pages_are_decided_from_their_bytes_with_the_models_rows():
    platform = FastDemoPlatform(seed=4, generations=300, order="shuffled", page_limit=100)
    for start in sorted(platform._pages):
        body = platform._pages[start].body
        page = decode_page(body)
        assert page is not None
        decoded = json.loads(body)
        assert page.rows == [model_row(raw) for raw in decoded["data"]]
        assert (page.next_cursor, page.has_more) == (decoded["next_cursor"], decoded["has_more"])


def test_a_page_with_one_record_it_cannot_decide_goes_the_usual_way():
    good = {"id": "gen_1", "created_at": "2026-11-24T13:05:07.123Z", "model": "m",
            "cost": {"amount": "0.1", "currency": "EUR"}}
    assert decode_page(page_bytes(good)) is not None
    for odd in (
        {**good, "id": "gen_2", "routing": {"strategy": "auto"}},  # the model reads routing
        {**good, "id": "gen_2", "created_at": 1764000000},  # a number: pydantic's reading
        {**good, "id": "gen_2", "model": "bad \ud800 text"},  # valid JSON, unstorable text
        {**good, "id": "gen_2", "seq": 2**63},  # past SQLite's 64 bits
        {**good, "id": "gen_2", "cost": {"amount": "1e17", "currency": "EUR"}},  # nanos > 64 bits
        {**good, "id": "gen_2", "streamed": "yes"},  # pydantic's lax bool: the model decides
        "not a record",
    ):
        assert decode_page(page_bytes(good, odd)) is None, odd
    # a page whose own fields are not the contract's: the usual way decides (and refuses)
    assert decode_page(page_bytes(good, has_more="true")) is None
    assert decode_page(page_bytes(good, next_cursor=5)) is None
    assert decode_page(b"[]") is None and decode_page(b'{"data": [') is None


# what a platform may write for a time: the shapes the decoder reads, and ones near them
_FRACTION = st.sampled_from(["", ".", ".1", ".12", ".123", ".1234", ".123456", ".1234567"])
_ZONE = st.sampled_from(["Z", "z", "", "+0000", "+01", "-00:00"]) | st.builds(
    "{}{:02d}:{:02d}".format, st.sampled_from("+-"), st.integers(0, 25), st.integers(0, 61))


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
       _FRACTION, _ZONE, st.sampled_from(["T", "t", " "]))
@CASES
def test_times_read_from_bytes_are_the_instants_pydantic_reads(moment, fraction, zone, sep):
    text = f"{moment:%Y-%m-%d}{sep}{moment:%H:%M:%S}{fraction}{zone}"
    ms = _ms(text)
    assert _ms(text) == ms  # the second time through the hours already read
    if ms is not None:
        assert ms == to_ms(TypeAdapter(UtcDateTime).validate_python(text)), text


def test_times_at_the_edges_of_the_shape():
    utc = TypeAdapter(UtcDateTime).validate_python
    for text in ("1970-01-01T00:00:00Z", "2026-11-24T23:59:59.999999+00:00",
                 "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.9Z", "2024-02-29T12:00:00.5Z",
                 "2026-11-24T13:05:07.123+05:45", "2026-11-24T01:05:07-12:00",
                 "9999-12-31T23:59:59+01:00", "0001-01-01T00:00:00-14:00"):
        assert _ms(text) == to_ms(utc(text)), text
    for text in ("2026-02-30T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T23:60:00Z",
                 "2026-11-24T23:59:60Z", "0000-01-01T00:00:00Z", "２026-11-24T13:05:07Z",
                 "9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"):
        assert _ms(text) is None, text
    assert _ms("2026-11-24T13:05:07.123Z") == to_ms(datetime(2026, 11, 24, 13, 5, 7, 123000,
                                                              tzinfo=UTC))
    assert _ms("2026-11-24T13:05:07.1239Z") - _ms("2026-11-24T13:05:07Z") == 123
    assert timedelta(milliseconds=_ms("1970-01-02T00:00:00Z")) == timedelta(days=1)


_AMOUNT = st.one_of(
    st.from_regex(r"\A[+-]?\d{0,20}(\.\d{0,12})?([eE][+-]?\d{1,3})?\Z"),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.text(max_size=12),
)


@given(_AMOUNT)
@CASES
def test_amounts_read_from_bytes_are_the_cost_columns_the_model_makes(amount):
    got = _money(amount)
    if got is None:
        return
    value = _to_decimal(amount)  # accepted here: the model accepts it too
    assert got == (format(value, "f"), money_to_nanos(value)), amount
