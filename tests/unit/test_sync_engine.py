"""The engine's page handling: bad pages stop cleanly, bad records are set aside."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from lowdash_desktop.api.client import LowrouterClient, RetryPolicy
from lowdash_desktop.sync.engine import PAGES_AHEAD, SyncEngine, SyncError, SyncProgress

ACCOUNT = {"id": "acc_1", "email": "ops@example.com", "name": "Ops", "currency": "EUR",
           "created_at": "2026-01-01T00:00:00Z", "timezone": "UTC"}
CREDITS = {"currency": "EUR", "balance": "10.00", "spent_this_month": "1.00", "topup_url": None}


def record(i: int, **over) -> dict:
    rec = {"id": f"gen_{i}", "seq": i, "revision": 1, "created_at": "2026-11-24T13:05:07.123Z",
           "model": "m", "resolved_model": "m", "provider": "p", "region": "r",
           "tokens": {"prompt": 1, "completion": 2, "total": 3},
           "cost": {"amount": "0.000100", "currency": "EUR"}}
    rec.update(over)
    return rec


def platform(pages: dict[str | None, bytes]):
    """A fake platform whose /generations answers come from `pages` by cursor."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1/")
        if path == "generations":
            return httpx.Response(200, content=pages[request.url.params.get("cursor")])
        if path == "account":
            return httpx.Response(200, json=ACCOUNT)
        if path == "credits":
            return httpx.Response(200, json=CREDITS)
        if path in ("models", "keys", "invoices"):
            return httpx.Response(200, json={"data": []})
        if path == "eco/methodology":
            return httpx.Response(200, json={"version": "v"})
        if path == "settings":
            return httpx.Response(200, json={})
        if path == "routing":
            return httpx.Response(200, json={"default": {}})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": path}})

    return LowrouterClient("http://127.0.0.1:1/v1", "lr-live-" + "k" * 40,
                           transport=httpx.MockTransport(handler),
                           retry=RetryPolicy(attempts=2, base_delay=0), sleep=lambda s: None)


def page(records, next_cursor, has_more) -> bytes:
    return json.dumps({"data": records, "next_cursor": next_cursor, "has_more": has_more}).encode()


def test_malformed_page_stops_at_last_good_page(cache):
    pages = {None: page([record(1), record(2)], "c1", True), "c1": b'{"data": [{"id": "gen_3"'}
    with pytest.raises(SyncError) as info:
        SyncEngine(platform(pages), cache).run()
    assert info.value.result.error_kind == "malformed"
    assert "last good page" in info.value.message
    assert set(cache.revisions()) == {"gen_1", "gen_2"}
    assert cache.feed_cursor == "c1"
    assert cache.get_meta("last_sync_error") == info.value.message
    # the platform is fixed: the next sync resumes from c1
    pages["c1"] = page([record(3)], "c2", False)
    SyncEngine(platform(pages), cache).run()
    assert set(cache.revisions()) == {"gen_1", "gen_2", "gen_3"}
    assert cache.get_meta("last_sync_error") is None


def test_bad_records_are_quarantined_rest_of_page_stored(cache):
    bad = [
        record(2, tokens={"prompt": -5, "completion": 1, "total": 1}),
        record(3, cost={"amount": "12,5", "currency": "EUR"}),
        {k: v for k, v in record(4).items() if k != "id"},
        record(5, prompt="secret user text", x_future={"ok": True}),
    ]
    pages = {None: page([record(1), *bad], "c1", False)}
    result = SyncEngine(platform(pages), cache).run()
    assert result.quarantined == 3
    assert set(cache.revisions()) == {"gen_1", "gen_5"}, "unknown fields are ignored"
    reasons = dict(cache.conn.execute("SELECT record_id, reason FROM quarantine"))
    assert "tokens.prompt" in reasons["gen_2"]
    assert "cost.amount" in reasons["gen_3"]
    assert None in reasons
    stored = " ".join(r[0] for r in cache.conn.execute("SELECT record FROM quarantine"))
    assert "secret user text" not in stored


def test_has_more_without_cursor_is_malformed(cache):
    pages = {None: page([record(1)], None, True)}
    with pytest.raises(SyncError) as info:
        SyncEngine(platform(pages), cache).run()
    assert info.value.result.error_kind == "malformed"


def test_pages_stored_in_batches_keep_each_cursor_with_its_rows(cache, monkeypatch):
    """Several pages share a transaction; the cursor saved is always the one after the rows
    saved with it, and what was received before a failure is saved."""
    from lowdash_desktop.sync import engine

    monkeypatch.setattr(engine, "BATCH_RECORDS", 4)
    monkeypatch.setattr(engine, "BATCH_SECONDS", 3600.0)
    commits: list[tuple[int, str | None]] = []
    apply = cache.apply_page

    def counting(rows, bad, cursor, **options):
        changed = apply(rows, bad, cursor, **options)
        commits.append((cache.generation_count(), cache.feed_cursor))
        return changed

    monkeypatch.setattr(cache, "apply_page", counting)
    pages = {None: page([record(1), record(2)], "c1", True),
             "c1": page([record(3), record(4)], "c2", True),
             "c2": page([record(5)], "c3", True),
             "c3": b'{"data": [{"id": "gen_9"'}  # broken: the sync stops here
    with pytest.raises(SyncError):
        SyncEngine(platform(pages), cache).run()
    # pages 1-2 together (4 records), then page 3 alone when the failure ends the sync
    assert commits == [(4, "c2"), (5, "c3")]


def test_a_big_cache_gets_bigger_batches_each_with_its_cursor(cache, monkeypatch):
    """Into a cache past BATCH_GROWS_EVERY x 2 rows, batches hold twice as many records; each
    still commits with the cursor after its rows."""
    from lowdash_desktop.sync import engine

    monkeypatch.setattr(engine, "BATCH_RECORDS", 2)
    monkeypatch.setattr(engine, "BATCH_SECONDS", 3600.0)
    monkeypatch.setattr(engine, "BATCH_GROWS_EVERY", 2)
    commits: list[tuple[int, str | None]] = []
    apply = cache.apply_page

    def counting(rows, bad, cursor, **options):
        changed = apply(rows, bad, cursor, **options)
        commits.append((cache.generation_count(), cache.feed_cursor))
        return changed

    monkeypatch.setattr(cache, "apply_page", counting)
    pages = {None: page([record(1), record(2)], "c1", True),
             "c1": page([record(3), record(4)], "c2", True),
             "c2": page([record(5), record(6)], "c3", True),
             "c3": page([record(7), record(8)], "c4", True),
             "c4": page([record(9)], "c5", False)}
    SyncEngine(platform(pages), cache).run()
    # 2 rows: batches of 2; from 4 rows on (2 x BATCH_GROWS_EVERY), batches of 4
    assert commits == [(2, "c1"), (4, "c2"), (8, "c4"), (9, "c5")]


def test_a_refused_key_message_ends_its_sentence_before_the_next():
    """The platform's 'this API key is disabled' was run into 'Nothing cached was changed.'"""
    from lowdash_desktop.api import errors as api_errors
    from lowdash_desktop.sync.engine import SyncEngine, SyncResult

    text = SyncEngine._describe(api_errors.AuthError("this API key is disabled"), SyncResult())
    assert text == ("The API key was refused: this API key is disabled. "
                    "Nothing cached was changed.")
    already = SyncEngine._describe(api_errors.AuthError("Key revoked."), SyncResult())
    assert "Key revoked. Nothing" in already and ".." not in already


def test_a_first_sync_rebuilds_the_rollups_once_and_a_later_one_keeps_them(cache, monkeypatch):
    """A sync bringing more rows than the cache held leaves the roll-ups out of step page by
    page and rebuilds them at its end; a small one keeps them page by page. Either way they
    end in step and equal to a rebuild from the rows."""
    from lowdash_desktop.store import rollup

    rebuilt: list[str] = []
    real = rollup.rebuild
    monkeypatch.setattr(rollup, "rebuild", lambda conn, r: rebuilt.append(r.view) or real(conn, r))
    first = {None: page([record(i) for i in range(30)], "c1", False)}
    SyncEngine(platform(first), cache).run()
    assert sorted(rebuilt) == ["eco_rollup", "spend_rollup"]
    later = {"c1": page([record(30), record(3, revision=2, cost={"amount": "0.5",
                                                               "currency": "EUR"})], "c2", False)}
    rebuilt.clear()
    SyncEngine(platform(later), cache).run()
    assert rebuilt == []  # kept page by page
    for roll_up in rollup.ALL:
        assert rollup.in_step(cache.conn, roll_up)
        kept = sorted(cache.conn.execute(f"SELECT * FROM {roll_up.view}"))
        assert rollup.rebuild(cache.conn, roll_up)
        assert sorted(cache.conn.execute(f"SELECT * FROM {roll_up.view}")) == kept


def test_a_bulk_sync_builds_the_query_indexes_at_its_end_and_a_stopped_one_at_the_next(cache):
    """A first sync writes without the query indexes and builds them once at the feed's end;
    one stopped before its end leaves them out (queries still answer, by scanning) until the
    next sync's end. The answers never change."""
    from lowdash_desktop.store import db, queries

    def has_all() -> bool:
        return not db.missing_indexes(cache.conn)

    records = [record(i, resolved_model=f"m{i % 4}", provider=f"p{i % 3}",
                      created_at=f"2026-11-{1 + i % 28:02d}T10:00:00Z") for i in range(60)]
    broken = {None: page(records[:30], "c1", True), "c1": b'{"data": [{"id": "gen_x"'}
    with pytest.raises(SyncError):
        SyncEngine(platform(broken), cache).run()
    assert cache.generation_count() == 30
    assert not has_all(), "left out while a bulk write went on"
    flt = queries.HistoryFilter(provider="p1")
    scanned = queries.count(cache.conn, flt)
    rest = {"c1": page(records[30:], "c2", False)}
    SyncEngine(platform(rest), cache).run()
    assert has_all(), "built again at the next feed's end"
    assert queries.count(cache.conn, flt) == 20 and scanned == 10
    assert cache.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- pages fetched ahead (issue 21) ---------------------------------------------------------
def counted_feed(n_pages: int, per_page: int = 3, fail_at: int | None = None):
    """A platform of `n_pages` feed pages (cursors c1, c2, ...), counting the pages it served;
    the page `fail_at` answers HTTP 500 every time."""
    served: list[int] = []
    served_more = threading.Condition()
    pages = {}
    for p in range(n_pages):
        last = p == n_pages - 1
        records = [record(p * per_page + i) for i in range(per_page)]
        pages[None if p == 0 else f"c{p}"] = (p, page(records, None if last else f"c{p + 1}",
                                                     not last))

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1/")
        if path != "generations":
            return {"account": httpx.Response(200, json=ACCOUNT),
                    "credits": httpx.Response(200, json=CREDITS)}.get(
                path, httpx.Response(200, json={"data": []}))
        index, body = pages[request.url.params.get("cursor")]
        with served_more:
            served.append(index)
            served_more.notify_all()
        if index == fail_at:
            return httpx.Response(500, json={"error": {"code": "internal", "message": "boom"}})
        return httpx.Response(200, content=body)

    client = LowrouterClient("http://127.0.0.1:1/v1", "lr-live-" + "k" * 40,
                             transport=httpx.MockTransport(handler),
                             retry=RetryPolicy(attempts=1), sleep=lambda s: None)

    def wait_served(count: int, timeout: float = 10) -> bool:
        with served_more:
            return served_more.wait_for(lambda: len(served) >= count, timeout=timeout)

    return client, served, wait_served


def test_pages_are_fetched_ahead_within_the_bound(cache):
    """While the engine is busy with page 1, the feed goes on more than one page ahead, but
    never more than PAGES_AHEAD pages (and the one in hand) past the page being stored."""
    client, served, wait_served = counted_feed(3 * PAGES_AHEAD)
    ahead: list[int] = []

    def progress(p: SyncProgress) -> None:
        if p.phase != "generations":
            return
        if p.pages == 1:  # the engine is held here: the prefetch runs on alone
            assert wait_served(PAGES_AHEAD + 2)
            # and stops at its bound: the mock answers in microseconds, so a prefetch without
            # one would be pages further within this half second (an absence cannot be
            # awaited any other way)
            assert not wait_served(PAGES_AHEAD + 3, timeout=0.5)
        ahead.append(len(served) - p.pages)

    with client:
        result = SyncEngine(client, cache, on_progress=progress).run()
    assert result.pages == 3 * PAGES_AHEAD and len(served) == 3 * PAGES_AHEAD
    assert served == sorted(served)  # each page fetched once, in order
    assert ahead[0] >= 2  # more than one page ahead while the engine was held
    assert max(ahead) <= PAGES_AHEAD + 1
    assert cache.generation_count() == 3 * 3 * PAGES_AHEAD


def test_an_error_in_a_page_fetched_ahead_surfaces_after_the_pages_before_it(cache):
    client, served, _ = counted_feed(6, fail_at=4)
    with client, pytest.raises(SyncError) as info:
        SyncEngine(client, cache).run()
    # pages 0-3 are stored with the cursor after page 3; page 4 is asked again next time
    assert info.value.result.pages == 4 and info.value.result.error_kind == "error"
    assert cache.generation_count() == 4 * 3
    assert cache.feed_cursor == "c4"
    assert 5 not in served  # nothing is fetched past the page that failed


def test_cancel_while_pages_wait_keeps_what_was_handed_over(cache):
    """Cancelled with pages fetched ahead and waiting: the pages the engine had are stored
    with their cursor, those waiting are dropped (fetched again next time), the prefetch
    thread ends."""
    client, served, wait_served = counted_feed(4 * PAGES_AHEAD)
    engine = SyncEngine(client, cache)

    def progress(p: SyncProgress) -> None:
        if p.phase == "generations" and p.pages == 2:
            assert wait_served(5)  # several pages wait in the queue
            engine.cancel_event.set()

    engine.on_progress = progress
    with client, pytest.raises(SyncError) as info:
        engine.run()
    assert info.value.result.error_kind == "cancelled"
    assert cache.generation_count() == 2 * 3
    assert cache.feed_cursor == "c2"
    assert len(served) <= 2 + PAGES_AHEAD + 1
    assert not [t for t in threading.enumerate() if t.name == "lowdash-prefetch"]
    # the next sync goes on from there and ends with every record
    client2, served2, _ = counted_feed(4 * PAGES_AHEAD)
    with client2:
        SyncEngine(client2, cache).run()
    assert served2[0] == 2 and cache.generation_count() == 4 * PAGES_AHEAD * 3
