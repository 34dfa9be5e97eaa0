"""The sync's fast validation never accepts what the contract's model refuses, and makes the
same rows (generated hostile records, broken in every named way, and odd valid ones)."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowdash_desktop.api.models import Generation
from lowdash_desktop.demo.fastfeed import FastDemoPlatform
from lowdash_desktop.store.rows import generation_row
from lowdash_desktop.sync.engine import split_page
from lowdash_desktop.sync.fastpath import fast_row
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


def check(raw) -> None:
    fast = fast_row(copy.deepcopy(raw))
    if fast is not None:
        assert model_row(raw) == fast, raw


@given(valid_record("gen_1", 1))
@CASES
def test_valid_records_give_the_models_rows(raw):
    assert fast_row(copy.deepcopy(raw)) == model_row(raw)


@given(broken_record("gen_1", 1))
@CASES
def test_broken_records_are_never_accepted(case):
    raw, kind = case
    check(raw)  # (numbers past 64 bits pass both validations; the row check refuses them)
    rows, bad = split_page([raw])
    assert not rows and len(bad) == 1, kind


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


def test_the_demos_records_take_the_fast_path_and_give_the_models_rows():
    platform = FastDemoPlatform(seed=3, generations=300, order="shuffled", page_limit=100)
    records = [r for start in sorted(platform._pages)
               for r in json.loads(platform._pages[start].body)["data"]]
    assert len(records) == platform.feed_length
    for raw in records:
        assert fast_row(copy.deepcopy(raw)) == model_row(raw)
