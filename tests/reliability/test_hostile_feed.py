"""A hostile platform at the HTTP seam: generated feeds of hostile records and broken pages.

The oracle is the generator's own knowledge, not the client's code: every record is made
valid or made broken in one named way, every page is well formed or broken in one named way.
Invariants checked on every generated case (issue #17, classes 1-4 and 9):
- the sync ends, by returning or with SyncError and a one-line message, never another
  exception, within a bounded number of requests;
- every valid record of every page that was stored is in the cache at its newest revision;
- every broken record of those pages is in quarantine with a reason (nothing dropped silently);
- the saved cursor is always one the platform handed out and one that can be sent again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowdash_desktop.api.client import LowrouterClient, RetryPolicy
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.sync.engine import PAGES_AHEAD, SyncEngine, SyncError, cursor_problem

KEY = "lr-live-" + "h0st1le" * 6
ACCOUNT = {"id": "acc_1", "email": "ops@example.com", "name": "Ops", "currency": "EUR",
           "created_at": "2026-01-01T00:00:00Z", "timezone": "UTC"}
CREDITS = {"currency": "EUR", "balance": "10.00", "spent_this_month": "1.00", "topup_url": None}
CASES = settings(max_examples=60, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# names from every script, with the characters that break naive code
odd_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1, max_size=40,
) | st.sampled_from(["=cmd|' /C calc'!A0", "+1", "-@SUM(1)", "Ｍｉｓｔｒａｌ", "模型-7b",
                     "модель", "نموذج", "\u202egnp.exe", "a\r\nb", "<b>bold</b>", "'; DROP"])
offsets = st.sampled_from(["Z", "+00:00", "-05:00", "+14:00", "-12:00", "+05:45"])


@st.composite
def valid_record(draw, rid: str, revision: int) -> dict:
    year = draw(st.integers(1970, 2100))
    created = (f"{year:04d}-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}T"
               f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:"
               f"{draw(st.integers(0, 59)):02d}.{draw(st.integers(0, 999)):03d}"
               f"{draw(offsets)}")
    cost = draw(st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"),
                            places=draw(st.integers(0, 12)), allow_nan=False))
    energy = draw(st.floats(0, 1e6, allow_nan=False, allow_infinity=False))
    record = {
        "id": rid, "revision": revision, "seq": draw(st.integers(0, 2**62)),
        "created_at": created, "model": draw(odd_text), "provider": draw(odd_text),
        "region": draw(st.none() | odd_text), "key_id": draw(st.none() | odd_text),
        "latency_ms": draw(st.none() | st.integers(0, 10**9)),
        "tokens": {"prompt": draw(st.integers(0, 10**9)),
                   "completion": draw(st.integers(0, 10**9)), "total": 0},
        "cost": {"amount": format(cost, "f"), "currency": draw(st.sampled_from(["EUR", "USD"]))},
        "eco": {"energy_wh": {"value": energy, "low": energy / 2, "high": energy * 2},
                "carbon_g": {"value": energy / 3}, "methodology_version": "m1"},
        # fields a platform may add later, and content fields that must never be stored
        "future_field": draw(st.none() | odd_text),
    }
    if draw(st.booleans()):
        record["prompt"] = "secret prompt text"
    return record


BREAKS = {
    "created_at overflows in UTC": lambda r: r.update(created_at="9999-12-31T23:00:00-05:00"),
    "created_at without zone": lambda r: r.update(created_at="2026-11-24T13:05:07"),
    "created_at not a date": lambda r: r.update(created_at="2026-02-30T00:00:00Z"),
    "cost expands to 100 MB": lambda r: r["cost"].update(amount="1e-99999999"),
    "cost magnitude": lambda r: r["cost"].update(amount="9" * 60),
    "cost NaN": lambda r: r["cost"].update(amount="NaN"),
    "cost as float": lambda r: r["cost"].update(amount=0.1),
    "energy Infinity": lambda r: r["eco"]["energy_wh"].update(value=float("inf")),
    "carbon NaN": lambda r: r["eco"]["carbon_g"].update(value=float("nan")),
    "tokens negative": lambda r: r["tokens"].update(prompt=-1),
    "tokens past int64": lambda r: r["tokens"].update(completion=2**70),
    "revision past int64": lambda r: r.update(revision=2**64),
    "id missing": lambda r: r.pop("id"),
    "id too long": lambda r: r.update(id="g" * 5000),
    "model an object": lambda r: r.update(model={"a": [1, 2]}),
    "model 1 MB": lambda r: r.update(model="m" * 1_000_000),
    "nested 200 deep": lambda r: r.update(routing=json.loads("[" * 200 + "]" * 200)),
    "id with a lone surrogate": lambda r: r.update(id=r["id"] + "\ud800x"),
    "model with a lone surrogate": lambda r: r.update(model="m\udfff"),
    "cost with underscores": lambda r: r["cost"].update(amount="1_000.5"),
    "cost in full-width digits": lambda r: r["cost"].update(amount="０.５"),
}


@st.composite
def broken_record(draw, rid: str, revision: int) -> tuple[dict | object, str]:
    kind = draw(st.sampled_from(sorted(BREAKS) + ["not an object"]))
    if kind == "not an object":
        return draw(st.sampled_from([None, 7, "gen", [1, 2], True])), kind
    record = draw(valid_record(rid, revision))
    BREAKS[kind](record)
    return record, kind


PAGE_FAULTS = ["none"] * 6 + ["same cursor again", "cursor 200 KB", "cursor with spaces",
                              "has_more without cursor", "old cursor again", "not a page"]


@st.composite
def hostile_feed(draw):
    """Pages of records (valid or broken), each page well formed or broken in one way."""
    n_pages = draw(st.integers(1, 6))
    ids = [f"gen_{i}" for i in range(draw(st.integers(1, 12)))]
    revisions: Counter = Counter()
    pages = []
    for p in range(n_pages):
        records = []
        for _ in range(draw(st.integers(0, 6))):
            rid = draw(st.sampled_from(ids))
            revisions[rid] += 1
            if draw(st.booleans()):
                rec, kind = draw(broken_record(rid, revisions[rid]))
                records.append(("bad", rec, kind))
            else:
                records.append(("ok", draw(valid_record(rid, revisions[rid])), None))
        fault = draw(st.sampled_from(PAGE_FAULTS)) if p < n_pages - 1 else "none"
        pages.append((records, fault))
    return pages


def serve(pages):
    """A MockTransport platform serving `pages` by cursor, logging what it served."""
    cursors = [None] + [f"c{p}" for p in range(1, len(pages))]
    served: list[int] = []

    def body(index: int) -> bytes:
        records, fault = pages[index]
        last = index == len(pages) - 1
        nxt = None if last else cursors[index + 1]
        doc = {"data": [rec for _, rec, _ in records], "next_cursor": nxt, "has_more": not last}
        if fault == "same cursor again":
            doc["next_cursor"] = cursors[index] or "c0"
        elif fault == "cursor 200 KB":
            doc["next_cursor"] = "c" * 200_000
        elif fault == "cursor with spaces":
            doc["next_cursor"] = "c 1\n2"
        elif fault == "has_more without cursor":
            doc["next_cursor"] = None
        elif fault == "old cursor again":
            doc["next_cursor"] = cursors[max(0, index - 1)] or "c0"
        elif fault == "not a page":
            return json.dumps([doc]).encode()
        return json.dumps(doc).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        path = request.url.path.removeprefix("/v1/")
        if path == "generations":
            cursor = request.url.params.get("cursor")
            index = cursors.index(cursor) if cursor in cursors else 0
            if cursor == "c0":
                index = 0
            served.append(index)
            assert len(served) < 500, "the client kept asking: a sync that never ends"
            return httpx.Response(200, content=body(index))
        fixed = {"account": ACCOUNT, "credits": CREDITS, "models": {"data": []},
                 "keys": {"data": []}, "invoices": {"data": []},
                 "eco/methodology": {"version": "v"}, "settings": {},
                 "routing": {"default": {}}}
        if path in fixed:
            return httpx.Response(200, json=fixed[path])
        return httpx.Response(404, json={"error": {"code": "not_found", "message": path}})

    client = LowrouterClient("http://127.0.0.1:9/v1", KEY, transport=httpx.MockTransport(handler),
                             retry=RetryPolicy(attempts=2, base_delay=0), sleep=lambda s: None)
    return client, served


def feed_client(generations) -> LowrouterClient:
    """A client of a platform whose /generations is `generations(request)`; /account and
    /credits answer normally, every other path with an empty object."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1/")
        if path == "generations":
            return generations(request)
        return httpx.Response(200, json={"account": ACCOUNT, "credits": CREDITS}.get(path, {}))

    return LowrouterClient("http://127.0.0.1:9/v1", KEY, transport=httpx.MockTransport(handler),
                           retry=RetryPolicy(attempts=1), sleep=lambda s: None)


@given(hostile_feed())
@CASES
def test_hostile_feeds_end_and_keep_every_valid_record(tmp_path_factory, pages):
    path = tmp_path_factory.mktemp("hostile") / "cache.sqlite3"
    cache, _ = Cache.open(path)
    client, served = serve(pages)
    try:
        try:
            received = SyncEngine(client, cache, page_limit=500).run().pages
        except SyncError as exc:
            assert exc.message and "\n" not in exc.message and "Traceback" not in exc.message
            received = exc.result.pages
        saved_cursor = cache.feed_cursor
    finally:
        client.close()
        cache.close()

    # the pages stored are the first ones served, in order; those after them were fetched
    # ahead when the sync stopped, never more than the prefetch's bound (and the one in flight)
    stored_pages = served[:received]
    assert len(served) - received <= PAGES_AHEAD + 1
    conn = sqlite3.connect(path)
    try:
        rows = dict(conn.execute("SELECT id, revision FROM generations"))
        models = dict(conn.execute("SELECT id, model FROM generations"))
        aside = conn.execute("SELECT record_id, reason, record FROM quarantine").fetchall()
    finally:
        conn.close()

    newest: dict[str, int] = {}
    model_of: dict[tuple[str, int], str] = {}
    broken = 0
    for index in stored_pages:
        for verdict, rec, _kind in pages[index][0]:
            if verdict == "ok":
                newest[rec["id"]] = max(newest.get(rec["id"], 0), rec["revision"])
                model_of[(rec["id"], rec["revision"])] = rec["model"]
            else:
                broken += 1
    for rid, revision in newest.items():
        assert rows.get(rid, 0) >= revision, f"{rid} revision {revision} was lost"
        if rows[rid] == revision:
            assert models[rid] == model_of[(rid, revision)]
    assert len(aside) >= broken, "a broken record was dropped without being set aside"
    assert all(reason for _, reason, _ in aside)
    assert all(len(record) <= 20_000 for _, _, record in aside)
    assert all("secret prompt text" not in record for _, _, record in aside)
    assert saved_cursor is None or cursor_problem(saved_cursor) is None


@pytest.fixture
def store(tmp_path):
    """An empty cache, opened as the app opens it."""
    cache, _ = Cache.open(tmp_path / "cache.sqlite3")
    yield cache
    cache.close()


def test_one_bad_record_never_stalls_the_account(store):
    """The issue's examples: the page's good records and the cursor commit; later pages too."""
    good = [{"id": f"gen_{i}", "created_at": "2026-11-24T13:05:07Z", "model": "m",
             "cost": {"amount": "0.001", "currency": "EUR"}} for i in range(3)]
    overflow = dict(good[0], id="gen_x", created_at="9999-12-31T23:00:00-05:00")
    huge = dict(good[0], id="gen_y", cost={"amount": "1e-99999999", "currency": "EUR"})
    pages = [([("ok", good[0], None), ("bad", overflow, "t"), ("bad", huge, "c")], "none"),
             ([("ok", good[1], None), ("ok", good[2], None)], "none")]
    client, _ = serve(pages)
    with client:
        result = SyncEngine(client, store).run()
    assert store.generation_count() == 3 and result.quarantined == 2
    reasons = [r for (r,) in store.conn.execute("SELECT reason FROM quarantine ORDER BY reason")]
    assert any("created_at" in r for r in reasons) and any("amount" in r for r in reasons)


@pytest.mark.parametrize("kind", sorted(BREAKS) + ["not an object"])
def test_every_kind_of_broken_record_is_set_aside_alone(store, kind):
    good = [{"id": f"gen_{i}", "created_at": "2026-11-24T13:05:07Z", "model": "m",
             "cost": {"amount": "0.001", "currency": "EUR"},
             "tokens": {"prompt": 3, "completion": 5, "total": 8},
             "eco": {"energy_wh": {"value": 0.5}, "carbon_g": {"value": 0.1}}} for i in range(4)]
    if kind == "not an object":
        bad: object = [1, 2]
    else:
        bad = json.loads(json.dumps(dict(good[0], id="gen_bad")))
        BREAKS[kind](bad)
    pages = [([("ok", good[0], None), ("bad", bad, kind), ("ok", good[1], None)], "none"),
             ([("ok", good[2], None), ("ok", good[3], None)], "none")]
    client, _ = serve(pages)
    with client:
        result = SyncEngine(client, store).run()
    assert store.generation_count() == 4, "a good record was lost beside a broken one"
    assert result.quarantined == 1 and store.feed_cursor == "c1"
    (reason,) = store.conn.execute("SELECT reason FROM quarantine").fetchone()
    assert reason and len(reason) < 300


@pytest.mark.parametrize("fault", ["same cursor again", "old cursor again", "cursor 200 KB",
                                   "cursor with spaces", "has_more without cursor"])
def test_a_feed_that_does_not_advance_ends_with_a_message(store, fault):
    records = [("ok", {"id": f"gen_{i}", "created_at": "2026-11-24T13:05:07Z", "model": "m",
                       "cost": {"amount": "0.001", "currency": "EUR"}}, None) for i in range(3)]
    # every page but the last carries the fault: a feed that would go on forever
    pages = [(records[:1], fault), (records[1:2], fault), (records[2:], fault), ([], "none")]
    client, served = serve(pages)
    with client, pytest.raises(SyncError) as info:
        SyncEngine(client, store).run()
    assert "feed is broken" in info.value.message
    assert len(served) <= 40
    assert store.generation_count() >= 1  # what came before the fault is kept
    assert store.feed_cursor is None or cursor_problem(store.feed_cursor) is None


def test_empty_pages_forever_end(store):
    count = {"n": 0}

    def generations(request: httpx.Request) -> httpx.Response:
        count["n"] += 1
        assert count["n"] < 1000
        return httpx.Response(200, json={"data": [], "next_cursor": f"c{count['n']}",
                                         "has_more": True})

    client = feed_client(generations)
    with client, pytest.raises(SyncError) as info:
        SyncEngine(client, store).run()
    assert "empty pages" in info.value.message and count["n"] <= 60


def test_a_sync_past_its_deadline_stops_resumably(store):
    """New cursors and records forever: the sync's deadline ends it; all is saved."""
    count = {"n": 0}

    def generations(request: httpx.Request) -> httpx.Response:
        count["n"] += 1
        assert count["n"] < 10_000
        rec = {"id": f"gen_{count['n']}", "created_at": "2026-11-24T13:05:07Z",
               "model": "m", "cost": {"amount": "0.001", "currency": "EUR"}}
        return httpx.Response(200, json={"data": [rec], "next_cursor": f"c{count['n']}",
                                         "has_more": True})

    client = feed_client(generations)
    with client, pytest.raises(SyncError) as info:
        SyncEngine(client, store, deadline_s=0.5).run()
    assert "minutes" in info.value.message and "saved" in info.value.message
    stored = store.generation_count()
    assert stored >= 1 and store.feed_cursor == f"c{stored}"


def test_reference_lists_leave_out_only_their_bad_entries(store):
    """One Infinity in /models or one NaN PUE must not cost every other entry its figure."""
    body = {
        "models": ('{"data": [{"id": "good", "params_active_b": 8, "params_total_b": 8},'
                   ' {"id": "bad", "params_active_b": Infinity}, 7,'
                   ' {"id": "also-good", "params_active_b": {"min": 1, "max": 2}}]}'),
        "eco/methodology": ('{"version": "v", "providers": {"ok": {"pue": 1.2},'
                            ' "nan": {"pue": NaN}, "low": {"pue": 0.5}, "odd": 3},'
                            ' "grid_intensity": {"fr": 50, "inf": Infinity, "neg": -1,'
                            ' "huge": 1e308}}'),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1/")
        if path in body:
            return httpx.Response(200, content=body[path].encode())
        if path == "generations":
            return httpx.Response(200, json={"data": [], "next_cursor": None,
                                             "has_more": False})
        fixed = {"account": ACCOUNT, "credits": CREDITS, "keys": {"data": []},
                 "invoices": {"data": []}, "settings": {}, "routing": {"default": {}}}
        return httpx.Response(200, json=fixed.get(path, {}))

    client = LowrouterClient("http://127.0.0.1:9/v1", KEY, transport=httpx.MockTransport(handler),
                             retry=RetryPolicy(attempts=1), sleep=lambda s: None)
    with client:
        result = SyncEngine(client, store).run()
    assert "models" in result.snapshots and "methodology" in result.snapshots
    models, _ = store.snapshot("models")
    assert [m["id"] for m in models] == ["good", "also-good"]
    method, _ = store.snapshot("methodology")
    assert set(method["providers"]) == {"ok"} and set(method["grid_intensity"]) == {"fr"}


def test_an_unordered_eco_range_keeps_the_record_without_its_range(store):
    rec = {"id": "gen_r", "created_at": "2026-11-24T13:05:07Z", "model": "m",
           "cost": {"amount": "0.001", "currency": "EUR"},
           "tokens": {"prompt": 5, "completion": 9, "total": 14},
           "eco": {"energy_wh": {"value": 1, "low": 2, "high": 0.5},
                   "carbon_g": {"value": 0.3, "low": 0.2, "high": 0.4}}}
    client, _ = serve([([("ok", rec, None)], "none")])
    with client:
        SyncEngine(client, store).run()
    got = store.conn.execute("SELECT energy_wh, energy_wh_low, energy_wh_high, carbon_g_low "
                             "FROM generations").fetchone()
    assert got == (1.0, None, None, 0.2)


def test_a_record_set_aside_keeps_its_token_counts_but_no_text(store):
    bad = {"id": "gen_b", "created_at": "2026-11-24T13:05:07", "model": "m",
           "cost": {"amount": "0.001", "currency": "EUR"}, "prompt": "the user's words",
           "tokens": {"prompt": 5, "completion": 9, "total": 14}}
    client, _ = serve([([("bad", bad, "t")], "none")])
    with client:
        SyncEngine(client, store).run()
    (record,) = store.conn.execute("SELECT record FROM quarantine").fetchone()
    kept = json.loads(record)
    assert kept["tokens"] == {"prompt": 5, "completion": 9, "total": 14}
    assert "prompt" not in kept and "the user's words" not in record


def test_the_same_records_under_new_positions_forever_end(store):
    count = {"n": 0}
    same = [{"id": f"gen_{i}", "created_at": "2026-11-24T13:05:07Z", "model": "m",
             "cost": {"amount": "0.001", "currency": "EUR"}} for i in range(5)]

    def generations(request: httpx.Request) -> httpx.Response:
        count["n"] += 1
        assert count["n"] < 1000
        return httpx.Response(200, json={"data": same, "next_cursor": f"r{count['n']}",
                                         "has_more": True})

    client = feed_client(generations)
    with client, pytest.raises(SyncError) as info:
        SyncEngine(client, store).run()
    assert "same records" in info.value.message and count["n"] <= 30
    assert store.generation_count() == 5


def test_a_page_of_millions_of_nulls_is_refused_before_judging_them(store):
    body = b'{"data": [' + b",".join([b"null"] * 300_000) + b'], "has_more": false}'

    def generations(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    client = feed_client(generations)
    started = time.monotonic()
    with client, pytest.raises(SyncError) as info:
        SyncEngine(client, store, page_limit=500).run()
    assert "300,000 records" in info.value.message
    assert time.monotonic() - started < 10
    assert store.conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
