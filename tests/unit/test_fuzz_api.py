"""Guarantee 5: arbitrary JSON into the models, the client and the engine gives typed errors only."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from lowdash_desktop.api import models
from lowdash_desktop.api.client import LowrouterClient, RetryPolicy
from lowdash_desktop.api.errors import ApiError
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.sync.engine import SyncEngine, SyncError, split_page

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
           | st.sampled_from(["2026-11-24T13:05:07.123Z", "0.000731", "-1", "1e309", "NaN",
                              "gen_1", "", "EUR", "2026-02-30", "12,5"]))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20,
)


def shaped(keys: list[str]) -> st.SearchStrategy:
    """Objects with the contract's keys (some missing) holding arbitrary values."""
    return st.fixed_dictionaries({}, optional={k: json_values for k in keys})


GEN_KEYS = ["id", "seq", "revision", "created_at", "key_id", "model", "resolved_model",
            "provider", "region", "latency_ms", "finish_reason", "streamed", "tokens", "cost",
            "eco", "routing"]
generation_like = st.one_of(
    shaped(GEN_KEYS),
    st.fixed_dictionaries({
        "id": st.text(min_size=1, max_size=6), "created_at": st.just("2026-11-24T13:05:07Z"),
        "model": st.text(max_size=5), "revision": json_values,
        "cost": shaped(["amount", "currency"]),
        "tokens": shaped(["prompt", "completion", "reasoning", "cached", "total"]),
        "eco": shaped(["energy_wh", "carbon_g", "confidence", "caveats"]),
        "latency_ms": json_values, "seq": json_values,
    }),
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.fixed_dictionaries({"data": st.lists(generation_like, max_size=4) | json_values,
                           "next_cursor": json_values, "has_more": json_values})
    .map(lambda v: json.dumps(v).encode()),
    generation_like.map(lambda v: json.dumps(v).encode()),
)
statuses = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 429, 500])

MODELS = [m for m in vars(models).values()
          if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == models.__name__
          and m is not models.ApiModel
          and not getattr(m, "__pydantic_generic_metadata__", {}).get("parameters")]


@FUZZ
@given(data=json_values | generation_like, index=st.integers(min_value=0))
def test_models_only_raise_validation_errors(data, index):
    model = MODELS[index % len(MODELS)]
    try:
        model.model_validate(data)
    except ValidationError:
        pass


def fuzz_client(body: bytes, status: int, headers: dict[str, str]) -> LowrouterClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers)

    return LowrouterClient("http://127.0.0.1:1/v1", "lr-live-" + "f" * 40,
                           transport=httpx.MockTransport(handler),
                           retry=RetryPolicy(attempts=2, base_delay=0), sleep=lambda s: None)


CALLS = [
    lambda c: c.account(), lambda c: c.credits(), lambda c: c.topups(),
    lambda c: c.generations_page(), lambda c: c.generation("gen_1", not_found_retries=1),
    lambda c: c.models(), lambda c: c.eco_methodology(), lambda c: c.keys(),
    lambda c: c.routing(), lambda c: c.invoices_page(), lambda c: c.settings(),
    lambda c: c.invoice_pdf("inv_1"), lambda c: c.rotate_key("key_1"),
    lambda c: c.update_key("key_1", name="x"), lambda c: c.revoke_key("key_1"),
    lambda c: list(c.iter_invoices()),
]


@FUZZ
@given(body=bodies, status=statuses, call=st.integers(0, len(CALLS) - 1),
       retry_after=st.sampled_from(["", "1", "-3", "soon", "1e400", "nan"]))
def test_client_only_raises_typed_readable_errors(body, status, call, retry_after):
    client = fuzz_client(body, status, {"Retry-After": retry_after} if retry_after else {})
    try:
        CALLS[call](client)
    except ApiError as exc:
        assert str(exc) and "\n" not in str(exc)
        assert len(str(exc)) < 400
    finally:
        client.close()


@FUZZ
@given(items=st.lists(generation_like | json_values, max_size=6))
def test_split_page_sets_aside_instead_of_raising(items):
    rows, bad = split_page(items)
    assert len(rows) + len(bad) == len(items)


@pytest.fixture(scope="module")
def fuzz_cache_dir():
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


@FUZZ
@given(page=bodies)
def test_engine_stops_with_a_sync_error_never_a_crash(page, fuzz_cache_dir):
    ok = {"account": {"id": "a", "email": "e", "currency": "EUR",
                      "created_at": "2026-01-01T00:00:00Z"},
          "credits": {"currency": "EUR", "balance": "1", "spent_this_month": "0"}}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1/")
        if path in ok:
            return httpx.Response(200, json=ok[path])
        if path == "generations" and request.url.params.get("cursor"):
            return httpx.Response(200, json={"data": [], "has_more": False})
        return httpx.Response(200, content=page)

    client = LowrouterClient("http://127.0.0.1:1/v1", "lr-live-" + "f" * 40,
                             transport=httpx.MockTransport(handler),
                             retry=RetryPolicy(attempts=1), sleep=lambda s: None)
    cache, _ = Cache.open(fuzz_cache_dir / "fuzz.sqlite3")
    try:
        SyncEngine(client, cache).run()
    except SyncError as exc:
        assert exc.message and isinstance(exc.cause, ApiError)
    finally:
        client.close()
        cache.close()


@pytest.mark.parametrize("over", [
    {"tokens": {"prompt": 2**70}},
    {"cost": {"amount": "1e400", "currency": "EUR"}},
    {"latency_ms": 2**64},
    {"revision": 2**63},
])
def test_valid_json_with_unstorable_values_is_set_aside(over, tmp_path):
    record = {"id": "gen_x", "created_at": "2026-11-24T13:05:07Z", "model": "m",
              "cost": {"amount": "0.1", "currency": "EUR"}, **over}
    good = {**record, "id": "gen_ok", **{k: v for k, v in record.items() if k == "cost"}}
    good.update({"tokens": {}, "latency_ms": 5, "revision": 1,
                 "cost": {"amount": "0.1", "currency": "EUR"}})
    rows, bad = split_page([record, good])
    assert [b[0] for b in bad] == ["gen_x"] and "out of range" in bad[0][1]
    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    cache.apply_page(rows, bad, "c1")
    assert set(cache.revisions()) == {"gen_ok"} and cache.quarantine_count() == 1
    cache.close()


@pytest.mark.parametrize("amount", ["0.000000986", "0.000100", "12.5", "0", "1000000.000000001"])
def test_cost_string_kept_as_the_platform_wrote_it(amount):
    record = {"id": "gen_c", "created_at": "2026-11-24T13:05:07Z", "model": "m",
              "cost": {"amount": amount, "currency": "EUR"}}
    rows, bad = split_page([record])
    assert not bad and amount in rows[0]
