"""The client's error handling and retries, with the network mocked at the httpx seam."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from lowdash_desktop.api import errors
from lowdash_desktop.api.client import LowrouterClient, RetryPolicy
from lowdash_desktop.api.urls import normalize_base_url

KEY = "lr-live-" + "a" * 40


def make_client(handler, sleeps=None, attempts=4) -> LowrouterClient:
    return LowrouterClient(
        "http://127.0.0.1:9/v1",
        KEY,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=attempts, base_delay=0.01),
        sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
    )


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


CREDITS = {"currency": "EUR", "balance": "12.500000", "spent_this_month": "3.25",
           "topup_url": "https://x/top", "future_field": {"a": 1}}


def test_sends_bearer_key_and_parses_money_as_decimal():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers["Authorization"]
        seen["url"] = str(request.url)
        return httpx.Response(200, json=CREDITS)

    credits = make_client(handler).credits()
    assert seen["auth"] == f"Bearer {KEY}"
    assert seen["url"] == "http://127.0.0.1:9/v1/credits"
    assert credits.balance == Decimal("12.500000")
    assert isinstance(credits.spent_this_month, Decimal)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (401, "invalid_key", errors.AuthError),
        (403, "insufficient_scope", errors.ScopeError),
        (404, "not_found", errors.NotFound),
        (409, "conflict", errors.Conflict),
        (422, "invalid_request", errors.InvalidRequest),
    ],
)
def test_error_statuses_raise_typed_errors_with_server_message(status, code, cls):
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(status, content=error_body(code, f"server says {code}"))

    with pytest.raises(cls) as info:
        make_client(handler).account()
    assert info.value.code == code
    assert str(info.value) == f"server says {code}"
    assert len(calls) == 1, "client errors are not retried"


def test_retries_5xx_then_succeeds_with_backoff():
    answers = iter([503, 502, 200])
    sleeps: list[float] = []

    def handler(request):
        status = next(answers)
        if status != 200:
            return httpx.Response(status, content=b"upstream trouble")
        return httpx.Response(200, json=CREDITS)

    assert make_client(handler, sleeps).credits().currency == "EUR"
    assert len(sleeps) == 2 and sleeps[1] > 0


def test_429_honours_retry_after():
    answers = iter([429, 200])
    sleeps: list[float] = []

    def handler(request):
        if next(answers) == 429:
            return httpx.Response(429, headers={"Retry-After": "7"},
                                  content=error_body("rate_limited", "slow down"))
        return httpx.Response(200, json=CREDITS)

    make_client(handler, sleeps).credits()
    assert sleeps == [7.0]


def test_gives_up_after_attempts_with_readable_error():
    def handler(request):
        return httpx.Response(500, content=error_body("internal", "boom"))

    with pytest.raises(errors.ServerError, match="boom"):
        make_client(handler, attempts=3).credits()


def test_connection_error_is_network_error():
    def handler(request):
        raise httpx.ConnectError("refused")

    with pytest.raises(errors.NetworkError, match="Cannot reach"):
        make_client(handler, attempts=2).credits()


@pytest.mark.parametrize("body", [b"{not json", b'{"currency": "EUR", "balance": 1.5}', b"[]"])
def test_malformed_answers_are_typed(body):
    def handler(request):
        return httpx.Response(200, content=body)

    with pytest.raises(errors.MalformedResponse):
        make_client(handler).credits()


def test_brief_404_on_single_generation_is_retried():
    answers = iter([404, 404, 200])
    sleeps: list[float] = []
    gen = {"id": "gen_1", "created_at": "2026-11-24T13:05:07.123Z", "model": "m",
           "cost": {"amount": "0.1", "currency": "EUR"}, "routing": {"picked": "scaleway"}}

    def handler(request):
        if next(answers) == 404:
            return httpx.Response(404, content=error_body("not_found", "no such generation"))
        return httpx.Response(200, json=gen)

    result = make_client(handler, sleeps).generation("gen_1")
    assert result.routing.picked == "scaleway"
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    "url",
    ["http://api.lowrouter.example/v1", "http://10.0.0.2/v1", "ftp://x/v1", "nonsense"],
)
def test_plain_http_refused_outside_loopback(url):
    with pytest.raises(errors.InvalidBaseUrl):
        normalize_base_url(url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/v1/", "http://localhost/v1", "http://[::1]:5/v1",
            "https://api.lowrouter.example/v1"],
)
def test_loopback_http_and_https_accepted(url):
    assert normalize_base_url(url) == url.rstrip("/")


def test_tls_verification_stays_on(tmp_path):
    client = LowrouterClient("https://api.lowrouter.example/v1", KEY)
    pool = client._http._transport._pool  # httpx internals: the SSL context in use
    assert pool._ssl_context.verify_mode.name == "CERT_REQUIRED"
    client.close()
    with pytest.raises(errors.ApiError, match="CA bundle not found"):
        LowrouterClient("https://api.lowrouter.example/v1", KEY, ca_bundle=tmp_path / "none.pem")


def test_a_closed_client_is_freed_at_once_with_its_tls_context():
    """No reference cycle: the httpx client (and its TLS context, a few MB) goes with the last
    reference, not at some later full garbage collection."""
    import gc
    import weakref

    gc.disable()
    try:
        client = LowrouterClient("https://api.lowrouter.example/v1", "lr-live-" + "k" * 40)
        http = weakref.ref(client._http)
        client.close()
        del client
        assert http() is None
    finally:
        gc.enable()


def test_a_request_cut_by_cancel_is_cancelled_not_a_network_fault_and_not_retried(caplog):
    """Quitting cuts requests in flight: that must not read (or log) as a flaky network."""
    calls, sleeps = [], []
    holder = {}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        holder["client"].cancel()  # what quitting does from the UI thread mid-request
        raise httpx.ReadError("connection aborted", request=request)

    client = holder["client"] = make_client(handler, sleeps=sleeps)
    with caplog.at_level("INFO", logger="lowdash_desktop.api.client"):
        with pytest.raises(errors.Cancelled):
            client.credits()
    assert calls == ["/v1/credits"] and sleeps == []
    assert "retrying" not in caplog.text


def test_a_network_fault_without_cancel_is_still_retried():
    calls, sleeps = [], []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadError("connection reset", request=request)
        return httpx.Response(200, json=CREDITS)

    assert make_client(handler, sleeps=sleeps).credits().currency == "EUR"
    assert len(calls) == 2 and len(sleeps) == 1
