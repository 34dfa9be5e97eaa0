"""A hostile platform on a real socket: slow, huge, compressed, redirected, refusing, proxied.

The server is tests/reliability/hostile_server.py (stdlib only, no code shared with the demo
platform). Issue #17 classes 2-5: every answer here ends within its deadline with a clear
message, memory stays bounded, only a 2xx answer is data, a refused key exits 3, and the key
never travels anywhere but the platform.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
import tracemalloc
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from lowdash_desktop import cli
from lowdash_desktop.api import errors
from lowdash_desktop.api.client import LowrouterClient, RetryPolicy, parse_retry_after
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.sync.engine import SyncEngine, SyncError

from .hostile_server import (
    Answer,
    HostileServer,
    Request,
    drip,
    endless,
    now_http_date,
    page,
    record,
    reference_or,
)

KEY = "lr-live-" + "R3dT34m" * 6
DEEP = ("[" * 10_000 + "]" * 10_000).encode()


def client_for(server: HostileServer, **kw) -> LowrouterClient:
    kw.setdefault("retry", RetryPolicy(attempts=2, base_delay=0))
    return LowrouterClient(server.base_url, KEY, **kw)


def refused_answer_peak(feed) -> int:
    """Bytes Python held at the peak while the client refused `feed`'s answer as too large
    (cap 4 MB)."""
    with HostileServer(feed) as server:
        with client_for(server, max_response_bytes=4 * 2**20,
                        retry=RetryPolicy(attempts=1)) as client:
            tracemalloc.start()
            try:
                with pytest.raises(errors.ResponseTooLarge):
                    client.generations_page()
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()


@pytest.fixture
def store(tmp_path):
    cache, _ = Cache.open(tmp_path / "cache.sqlite3")
    yield cache
    cache.close()


def run_cli(argv: list[str], monkeypatch, capsys, data_dir: Path) -> tuple[int, str]:
    monkeypatch.setenv("LOWDASH_API_KEY", KEY)
    code = cli.main([*argv, "--data-dir", str(data_dir)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text and KEY not in text
    return code, text


# -- class 2: a sync that never ends or grows without bound ------------------------------------
def test_a_body_dripping_one_byte_at_a_time_ends_at_the_request_deadline():
    body = json.dumps(page([record(1)], None, False)).encode()
    feed = reference_or(lambda r: Answer(200, chunks=drip(body, 0.05), delay=0.05,
                                         headers={"Content-Length": str(len(body))}))
    with HostileServer(feed) as server, client_for(server, request_deadline=1.0) as client:
        started = time.monotonic()
        with pytest.raises(errors.DeadlineExceeded) as info:
            client.generations_page()
        took = time.monotonic() - started
    assert took < 1.0 + 1.5  # cut at its deadline, and not asked again
    assert "within 1 s" in info.value.message
    assert len([r for r in server.requests if r.path == "generations"]) == 1


def test_an_answer_that_never_starts_ends_at_the_request_deadline():
    def slow(request: Request) -> Answer:
        time.sleep(3)
        return Answer(200, page([], None, False))

    with HostileServer(reference_or(slow)) as server:
        with client_for(server, request_deadline=0.8,
                        retry=RetryPolicy(attempts=1)) as client:
            started = time.monotonic()
            with pytest.raises(errors.DeadlineExceeded):
                client.generations_page()
            assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("declared", [True, False])
def test_a_200_mb_answer_is_not_read(declared):
    headers = {"Content-Length": str(200 * 2**20)} if declared else {}
    chunk = b'{"data": [' + b" " * 65_000
    feed = reference_or(lambda r: Answer(200, chunks=endless(chunk, 200 * 2**20),
                                         headers=headers))
    peak = refused_answer_peak(feed)
    assert peak < 16 * 2**20, f"reading a refused answer took {peak / 2**20:.0f} MB"


def test_a_gzip_bomb_is_measured_after_decompression():
    bomb = gzip.compress(b'{"data": [' + b" " * (64 * 2**20), compresslevel=9)
    assert len(bomb) < 2**20
    feed = reference_or(lambda r: Answer(200, bomb, headers={"Content-Encoding": "gzip"}))
    peak = refused_answer_peak(feed)
    assert peak < 16 * 2**20


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_of_days_ends_the_sync_and_says_until_when(store, form):
    value = "172800" if form == "seconds" else now_http_date(172800)
    feed = reference_or(lambda r: Answer(429, {"error": {"code": "rate_limited",
                                                         "message": "Slow down."}},
                                         headers={"Retry-After": value}))
    with HostileServer(feed) as server, client_for(server) as client:
        with pytest.raises(SyncError) as info:
            SyncEngine(client, store).run()
        feed_requests = [r for r in server.requests if r.path == "generations"]
    assert len(feed_requests) == 1, "asked again before the time the platform gave"
    assert info.value.result.error_kind == "waiting"
    assert "asked us to wait until" in info.value.message
    asked = time.strftime("%Y-%m-%d", time.localtime(time.time() + 172800))
    assert asked in info.value.message and "in a day at the latest" in info.value.message
    # the scheduler waits, but a day at most
    assert abs(info.value.result.retry_at - (time.time() + 86400)) < 120


def test_a_short_retry_after_in_either_form_is_waited_out():
    waits: list[float] = []
    state = {"n": 0}

    def feed(request: Request) -> Answer:
        state["n"] += 1
        if state["n"] == 1:
            return Answer(429, {}, headers={"Retry-After": now_http_date(5)})
        return Answer(200, page([record(1)], None, False))

    with HostileServer(reference_or(feed)) as server:
        with client_for(server, sleep=waits.append) as client:
            assert len(client.generations_page().data) == 1
    assert len(waits) == 1 and 3.0 <= waits[0] <= 6.0


@pytest.mark.parametrize("value, expected", [
    ("120", 120.0), ("0", 0.0), ("-5", None), ("soon", None), ("1e999", None), ("", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("9" * 100, None),
])
def test_retry_after_parsing(value, expected):
    assert parse_retry_after(value) == expected


# -- class 3: malformed shapes ------------------------------------------------------------------
@pytest.mark.parametrize("where", ["generations", "account"])
def test_json_nested_10000_deep_is_a_malformed_answer(tmp_path, monkeypatch, capsys, where):
    def route(request: Request) -> Answer:
        if request.path == where:
            return Answer(200, DEEP)
        return reference_or(lambda r: Answer(200, page([], None, False)))(request)

    with HostileServer(route) as server:
        code, text = run_cli(["sync", "--base-url", server.base_url], monkeypatch, capsys,
                             tmp_path)
    assert code == 1 and "malformed" in text and "nested too deeply" in text


@pytest.mark.parametrize("body", [DEEP, b"<html>nope</html>", b'{"error": "x"}', b"\xff\xfe",
                                  json.dumps({"error": {"message": "<b>" + "x" * 5000}}).encode()])
def test_a_refused_key_exits_3_whatever_its_body(tmp_path, monkeypatch, capsys, body):
    with HostileServer(lambda r: Answer(401, body)) as server:
        code, text = run_cli(["sync", "--base-url", server.base_url], monkeypatch, capsys,
                             tmp_path)
    assert code == 3
    assert len(text) < 2000


def test_a_key_refused_after_page_2_exits_3_and_says_what_was_kept(tmp_path, monkeypatch,
                                                                  capsys):
    def feed(request: Request) -> Answer:
        cursor = request.query.get("cursor")
        if cursor is None:
            return Answer(200, page([record(i) for i in range(100)], "c1", True))
        if cursor == "c1":
            return Answer(200, page([record(i) for i in range(100, 200)], "c2", True))
        return Answer(401, {"error": {"code": "invalid_key", "message": "Key revoked."}})

    with HostileServer(reference_or(feed)) as server:
        code, text = run_cli(["sync", "--base-url", server.base_url, "--page-limit", "100"],
                             monkeypatch, capsys, tmp_path)
    assert code == 3
    assert "Nothing cached was changed" not in text and "200 records" in text
    caches = list(tmp_path.glob("accounts/*/cache.sqlite3"))
    with sqlite3.connect(caches[0]) as conn:
        assert conn.execute("SELECT count(*) FROM generations").fetchone()[0] == 200


# -- class 4: cursors ---------------------------------------------------------------------------
def test_a_redirect_whose_body_looks_like_a_page_is_not_data(store):
    with HostileServer(lambda r: Answer(200, page([record(9)], "evil", False))) as elsewhere:
        def feed(request: Request) -> Answer:
            return Answer(302, page([record(1)], "stolen", True),
                          headers={"Location": elsewhere.base_url + "/generations"})

        with HostileServer(reference_or(feed)) as server, client_for(server) as client:
            with pytest.raises(SyncError) as info:
                SyncEngine(client, store).run()
        assert elsewhere.requests == [], "the key followed a redirect"
    assert "redirect" in info.value.message
    assert store.generation_count() == 0 and store.feed_cursor is None


def test_a_200_kb_cursor_keeps_the_page_and_never_breaks_a_later_sync(store):
    state = {"n": 0}

    def feed(request: Request) -> Answer:
        state["n"] += 1
        assert len(request.query.get("cursor") or "") < 4096
        if state["n"] == 1:
            return Answer(200, page([record(1), record(2)], "c" * 200_000, True))
        return Answer(200, page([record(3)], "c9", False))

    with HostileServer(reference_or(feed)) as server, client_for(server) as client:
        with pytest.raises(SyncError) as info:
            SyncEngine(client, store).run()
        assert "next_cursor" in info.value.message
        assert store.generation_count() == 2 and store.feed_cursor is None
        SyncEngine(client, store).run()  # the next sync starts over cleanly
    assert store.generation_count() == 3


def test_a_refused_saved_cursor_offers_a_full_resync_that_keeps_rows(tmp_path, monkeypatch,
                                                                     capsys):
    state = {"refuse": False}

    def feed(request: Request) -> Answer:
        cursor = request.query.get("cursor")
        if cursor is None:
            return Answer(200, page([record(i) for i in range(5)], "old", False))
        if state["refuse"]:
            return Answer(422, {"error": {"code": "invalid_request", "message": "bad cursor"}})
        return Answer(200, page([], "old", False))

    with HostileServer(reference_or(feed)) as server:
        argv = ["sync", "--base-url", server.base_url]
        assert run_cli(argv, monkeypatch, capsys, tmp_path)[0] == 0
        state["refuse"] = True
        code, text = run_cli(argv, monkeypatch, capsys, tmp_path)
        assert code == 1 and "--full-resync" in text
        code, text = run_cli([*argv, "--full-resync"], monkeypatch, capsys, tmp_path)
        assert code == 0
    caches = list(tmp_path.glob("accounts/*/cache.sqlite3"))
    with sqlite3.connect(caches[0]) as conn:
        assert conn.execute("SELECT count(*) FROM generations").fetchone()[0] == 5


# -- class 5: secrets ---------------------------------------------------------------------------
@pytest.mark.parametrize("variable", ["ALL_PROXY", "HTTP_PROXY", "all_proxy", "http_proxy"])
def test_loopback_never_goes_through_a_proxy(tmp_path, monkeypatch, capsys, variable):
    with HostileServer(lambda r: Answer(502, b"proxy")) as proxy:
        monkeypatch.setenv(variable, proxy.base_url.removesuffix("/v1"))
        feed = reference_or(lambda r: Answer(200, page([record(1)], None, False)))
        with HostileServer(feed) as server:
            code, _ = run_cli(["sync", "--base-url", server.base_url], monkeypatch, capsys,
                              tmp_path)
            assert code == 0
            assert all(r.headers.get("Authorization") == f"Bearer {KEY}"
                       for r in server.requests)
        assert proxy.requests == [], "the key went through a proxy to loopback"


# -- the window: a hostile answer is a plain message in the banner, and the window stays usable
@pytest.mark.parametrize("case", ["nested", "html 401", "cursor refused", "loop"])
def test_the_window_shows_a_hostile_answer_in_the_banner(qtbot, tmp_path, case):
    from lowdash_desktop import accounts
    from lowdash_desktop.api.connection import Connection
    from lowdash_desktop.app import open_session
    from lowdash_desktop.ui.main_window import MainWindow

    state = {"refuse": False}

    def feed(request: Request) -> Answer:
        cursor = request.query.get("cursor")
        if case == "nested":
            return Answer(200, DEEP)
        if case == "loop":
            return Answer(200, page([record(1)], "same", True))
        if case == "cursor refused" and cursor == "old":
            return Answer(422, {"error": {"code": "invalid_request", "message": "bad cursor"}})
        return Answer(200, page([record(1), record(2)], "old", False))

    def route(request: Request) -> Answer:
        if case == "html 401":
            return Answer(401, b"<html><img src='http://127.0.0.2/x'><b>Denied</b></html>",
                          headers={"Content-Type": "text/html"})
        return reference_or(feed)(request)

    with HostileServer(route) as server:
        account = accounts.remember(tmp_path, server.base_url, "acc_h", "ops@hostile.test")
        session = open_session(tmp_path, Connection(server.base_url, KEY), account)
        window = MainWindow(session)
        qtbot.addWidget(window)
        window.show()
        ok = None
        for _ in range(2 if case == "cursor refused" else 1):
            with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
                assert window.sync_now()
            ok = blocker.args[0]
        assert ok is False
        text = window.banner.label.text()
        assert window.banner.isVisible() and text and "Traceback" not in text
        assert window.banner.label.textFormat() == Qt.TextFormat.PlainText
        if case == "cursor refused":
            assert window.banner.button.text() == "Resync from the start"
            state["refuse"] = False
            with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
                window.banner.button.click()
            assert blocker.args[0] is True
            assert session.cache_path.exists()
        if case == "html 401":
            assert "Sign in with another key" in window.banner.button.text()
        # the window stays usable: the table answers, a search filters
        window.search.setText("gen_1")
        assert window.table_model.rowCount() >= 0
        window.close()


def test_a_refused_connection_is_said_in_words(store):
    import socket

    with socket.socket() as s:  # a port with nothing listening on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with LowrouterClient(f"http://127.0.0.1:{port}/v1", KEY,
                         retry=RetryPolicy(attempts=1)) as client:
        with pytest.raises(errors.NetworkError) as info:
            client.account()
    assert "nothing answered there" in info.value.message
    assert "Error" not in info.value.message  # no exception class names


def test_a_wait_of_years_is_capped_at_a_day(store):
    feed = reference_or(lambda r: Answer(429, {}, headers={
        "Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}))
    with HostileServer(feed) as server, client_for(server) as client:
        with pytest.raises(SyncError) as info:
            SyncEngine(client, store).run()
    assert info.value.result.retry_at <= time.time() + 86400 + 60


def test_the_platforms_words_never_carry_the_key(tmp_path, monkeypatch, capsys):
    echo = {"error": {"code": "invalid_key",
                      "message": f"key Bearer {KEY} is not valid; yours is {KEY}"}}
    with HostileServer(lambda r: Answer(401, echo)) as server:
        code, text = run_cli(["sync", "--base-url", server.base_url], monkeypatch, capsys,
                             tmp_path)  # run_cli asserts the key is not in the output
    assert code == 3 and "[REDACTED]" in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_a_bad_credit_balance_keeps_the_cached_one_and_the_sync_goes_on(store):
    def route(request: Request) -> Answer:
        if request.path == "credits":
            return Answer(200, {"currency": "EUR", "balance": "1e999999999",
                                "spent_this_month": "1"})
        return reference_or(lambda r: Answer(200, page([record(1)], None, False)))(request)

    with HostileServer(route) as server, client_for(server) as client:
        result = SyncEngine(client, store).run()
    assert store.generation_count() == 1 and "credits" in result.skipped


@pytest.mark.parametrize("proxy", ["socks5://127.0.0.1:1080", "http://127.0.0.1:notaport",
                                   "ftp://127.0.0.1:21"])
def test_a_proxy_httpx_cannot_use_is_one_line(tmp_path, monkeypatch, capsys, proxy):
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("ALL_PROXY", proxy)
    code, text = run_cli(["sync", "--base-url", "https://api.lowrouter.example/v1"],
                         monkeypatch, capsys, tmp_path)
    assert code == 2 and "proxy" in text and len(text.strip().splitlines()) == 1
