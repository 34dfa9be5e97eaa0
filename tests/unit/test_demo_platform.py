"""The demo platform over real HTTP on loopback: the contract of platform-api.md."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from lowdash_desktop.demo import DemoPlatform

NOW = datetime(2026, 11, 24, 13, 5, tzinfo=UTC)
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
MONEY = re.compile(r"^-?\d+\.\d{2,9}$")


def _client(platform: DemoPlatform, key: str | None = None) -> httpx.Client:
    """An httpx client authenticated with `key` (default: the full-scope demo key)."""
    headers = {"Authorization": f"Bearer {key or platform.api_key}"}
    return httpx.Client(base_url=platform.base_url, headers=headers, timeout=10)


def _drain(client: httpx.Client, cursor: str | None = None, limit: int = 200):
    """Read the feed to its end; return (items, last cursor)."""
    items = []
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get("/generations", params=params).raise_for_status().json()
        items += body["data"]
        cursor = body["next_cursor"]
        assert cursor
        if not body["has_more"]:
            return items, cursor


@pytest.fixture(scope="module")
def platform() -> Iterator[DemoPlatform]:
    with DemoPlatform(seed=7, generations=500, now=NOW) as demo:
        yield demo


@pytest.fixture()
def fresh() -> Iterator[DemoPlatform]:
    """A platform of its own for tests that change state."""
    with DemoPlatform(seed=9, generations=150, now=NOW) as demo:
        yield demo


@pytest.fixture(scope="module")
def client(platform: DemoPlatform) -> Iterator[httpx.Client]:
    with _client(platform) as c:
        yield c


def test_same_seed_same_data_and_other_seed_differs() -> None:
    a = DemoPlatform(seed=3, generations=200, now=NOW)
    b = DemoPlatform(seed=3, generations=200, now=NOW)
    c = DemoPlatform(seed=4, generations=200, now=NOW)
    assert a.api_key == b.api_key and re.fullmatch(r"lr-live-[0-9A-Za-z]{40}", a.api_key)
    assert a.truth() == b.truth()
    assert list(a.all_generations()) == list(b.all_generations())
    some_id = next(iter(a.truth()))
    assert a.generation(some_id) == b.generation(some_id)
    assert a.truth() != c.truth()


def test_feed_to_the_end_yields_every_generation_at_its_highest_revision(
    platform: DemoPlatform, client: httpx.Client
) -> None:
    items, _ = _drain(client)
    latest: dict[str, dict] = {}
    for item in items:
        assert "routing" not in item
        prev = latest.get(item["id"])
        if prev is None or item["revision"] > prev["revision"]:
            latest[item["id"]] = item
    truth = platform.truth()
    assert {k: v["revision"] for k, v in latest.items()} == truth
    assert len(items) > len(truth)  # some generations re-appear with a higher revision
    assert max(truth.values()) >= 2
    expected = {g["id"]: g for g in platform.all_generations()}
    assert latest == expected


def test_generation_shape(client: httpx.Client) -> None:
    gen = client.get("/generations", params={"limit": 1}).json()["data"][0]
    assert TS.match(gen["created_at"])
    tokens = gen["tokens"]
    assert tokens["total"] == tokens["prompt"] + tokens["completion"] + tokens["reasoning"]
    assert MONEY.match(gen["cost"]["amount"]) and gen["cost"]["currency"] == "EUR"
    energy = gen["eco"]["energy_wh"]
    assert energy["low"] <= energy["value"] <= energy["high"]


def test_replayed_cursor_gives_the_same_page(client: httpx.Client) -> None:
    first = client.get("/generations", params={"limit": 50}).json()
    cursor = first["next_cursor"]
    page_a = client.get("/generations", params={"limit": 50, "cursor": cursor}).json()
    page_b = client.get("/generations", params={"limit": 50, "cursor": cursor}).json()
    assert page_a == page_b
    assert page_a["data"][0]["id"] != first["data"][0]["id"]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"cursor": "not-a-cursor!"}]
)
def test_bad_feed_params_are_422(client: httpx.Client, params: dict) -> None:
    response = client.get("/generations", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_default_page_size_is_500(client: httpx.Client) -> None:
    assert len(client.get("/generations").json()["data"]) == 500


def test_single_generation_has_routing(platform: DemoPlatform, client: httpx.Client) -> None:
    gen_id = next(iter(platform.truth()))
    gen = client.get(f"/generations/{gen_id}").json()
    routing = gen["routing"]
    assert 3 <= len(routing["considered"]) <= 6
    assert routing["attempts"][-1]["status"] == 200
    assert routing["picked"] == gen["provider"]
    assert gen == platform.generation(gen_id)
    missing = client.get("/generations/gen_01AAAAAAAAAAAAAAAAAAAAAAAA")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_auth_errors(platform: DemoPlatform) -> None:
    with httpx.Client(base_url=platform.base_url, timeout=10) as anon:
        response = anon.get("/account")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_key"
    with _client(platform, "lr-live-" + "0" * 40) as wrong:
        assert wrong.get("/credits").json()["error"]["code"] == "invalid_key"
    with _client(platform, platform.read_only_key) as reader:
        assert reader.get("/account").status_code == 200
        denied = reader.patch("/settings", json={"eco_baseline_model": "mistral/ministral-8b"})
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "insufficient_scope"


def test_unknown_path_is_404(client: httpx.Client) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_usage_daily_matches_generations(platform: DemoPlatform, client: httpx.Client) -> None:
    rows = client.get("/usage/daily", params={"from": "2026-01-01", "to": "2026-12-31"}).json()
    expected: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, Decimal(0), 0.0, 0.0])
    for gen in platform.all_generations():
        agg = expected[(gen["created_at"][:10], gen["resolved_model"], gen["provider"])]
        agg[0] += 1
        agg[1] += gen["tokens"]["prompt"]
        agg[2] += gen["tokens"]["completion"]
        agg[3] += Decimal(gen["cost"]["amount"])
        agg[4] += gen["eco"]["energy_wh"]["value"]
        agg[5] += gen["eco"]["carbon_g"]["value"]
    assert len(rows["data"]) == len(expected)
    for row in rows["data"]:
        agg = expected[(row["date"], row["model"], row["provider"])]
        assert [row["requests"], row["prompt_tokens"], row["completion_tokens"]] == agg[:3]
        assert Decimal(row["cost"]) == agg[3]
        assert row["energy_wh"] == pytest.approx(agg[4], rel=1e-9)
        assert row["carbon_g"] == pytest.approx(agg[5], rel=1e-9)
    bad = client.get("/usage/daily", params={"from": "2026-13-01", "to": "2026-12-31"})
    assert bad.status_code == 422


def test_credits_spent_this_month_matches(platform: DemoPlatform, client: httpx.Client) -> None:
    credits = client.get("/credits").json()
    spent = sum(
        (
            Decimal(g["cost"]["amount"])
            for g in platform.all_generations()
            if g["created_at"].startswith("2026-11")
        ),
        Decimal(0),
    )
    assert Decimal(credits["spent_this_month"]) == spent
    assert credits == platform.credits
    assert client.get("/credits/topups", params={"limit": 3}).json()["has_more"] is True


def test_today_has_generations(platform: DemoPlatform) -> None:
    assert any(g["created_at"].startswith("2026-11-24") for g in platform.all_generations())


def test_invoices_are_consistent(client: httpx.Client) -> None:
    invoices = client.get("/invoices").json()["data"]
    assert len(invoices) == 3
    assert max(len(inv["lines"]) for inv in invoices) >= 60
    for inv in invoices:
        subtotal = sum((Decimal(line["amount"]) for line in inv["lines"]), Decimal(0))
        assert Decimal(inv["subtotal"]) == subtotal
        assert Decimal(inv["total"]) == Decimal(inv["subtotal"]) + Decimal(inv["tax"])
        assert not inv["buyer"]["name"].isascii()
    pdf = client.get(f"/invoices/{invoices[0]['id']}/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and b"%%EOF" in pdf.content[-10:]


def test_reference_data(client: httpx.Client) -> None:
    models = client.get("/models").json()["data"]
    assert len(models) >= 30
    assert any(isinstance(m["params_total_b"], dict) for m in models)
    method = client.get("/eco/methodology").json()
    assert set(method["providers"]) >= {"scaleway", "ovh", "aws"}
    keys = client.get("/keys").json()["data"]
    assert 3 <= len(keys) <= 6 and all(k["id"].startswith("key_") for k in keys)


def test_new_key_authenticates_and_rotation_revokes(fresh: DemoPlatform) -> None:
    with _client(fresh) as admin:
        created = admin.post("/keys", json={"name": "ci", "scopes": ["read"]})
        assert created.status_code in (200, 201)
        key_id, secret = created.json()["key"]["id"], created.json()["secret"]
        with _client(fresh, secret) as new:
            assert new.get("/account").status_code == 200
        rotated = admin.post(f"/keys/{key_id}/rotate").json()
        with _client(fresh, secret) as old:
            assert old.get("/account").status_code == 401
        with _client(fresh, rotated["secret"]) as new:
            assert new.get("/account").status_code == 200
        patched = admin.patch(f"/keys/{key_id}", json={"name": "ci-2"}).json()
        assert patched["name"] == "ci-2"
        assert admin.delete(f"/keys/{key_id}").status_code == 204
        with _client(fresh, rotated["secret"]) as gone:
            assert gone.get("/account").status_code == 401
        assert admin.post("/keys", json={"name": "x", "scopes": ["root"]}).status_code == 422


def test_routing_put_validates(fresh: DemoPlatform) -> None:
    with _client(fresh) as admin:
        bad = {
            "default": {"strategy": "auto", "preference": "fixed_provider", "fixed_provider": None},
            "overrides": {},
        }
        assert admin.put("/routing", json=bad).status_code == 422
        bad["default"]["fixed_provider"] = "nowhere-cloud"
        assert admin.put("/routing", json=bad).status_code == 422
        bad["default"]["fixed_provider"] = "ovh"
        assert admin.put("/routing", json=bad).status_code == 200
        assert admin.get("/routing").json()["default"]["fixed_provider"] == "ovh"


def test_settings_and_account_deletion(fresh: DemoPlatform) -> None:
    with _client(fresh) as admin:
        assert admin.patch("/settings", json={"eco_baseline_model": "nope"}).status_code == 422
        ok = admin.patch("/settings", json={"eco_baseline_model": "mistral/ministral-8b"})
        assert ok.json()["eco_baseline_model"] == "mistral/ministral-8b"
        wrong = admin.request("DELETE", "/account", json={"confirm": "someone@else.example"})
        assert wrong.status_code == 422
        email = fresh.account["email"]
        assert admin.request("DELETE", "/account", json={"confirm": email}).status_code == 202


def test_added_generations_appear_after_resume_and_fresh_404(fresh: DemoPlatform) -> None:
    fresh.fresh_404_count = 1
    with _client(fresh) as client:
        _, cursor = _drain(client)
        fresh.add_generations(5)
        new_items, _ = _drain(client, cursor)
        assert len(new_items) == 5
        assert {g["id"] for g in new_items} <= set(fresh.truth())
        gen_id = new_items[0]["id"]
        assert client.get(f"/generations/{gen_id}").status_code == 404
        assert client.get(f"/generations/{gen_id}").status_code == 200
    assert fresh.requests["/generations"] >= 2


def test_stop_is_idempotent() -> None:
    demo = DemoPlatform(seed=1, generations=100, now=NOW)
    url = demo.start()
    assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
    demo.stop()
    demo.stop()
