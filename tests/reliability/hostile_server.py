"""A misbehaving lowrouter platform of the tests' own, on loopback, written with the stdlib only.

It shares no code with the demo platform: each test hands it a `route(handler)` function that
answers one request however it likes (slowly, hugely, compressed, redirected, refused). Every
request is logged with its headers so tests can check where the key went.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACCOUNT = {"id": "acc_h", "email": "ops@hostile.test", "name": "Hostile", "currency": "EUR",
           "created_at": "2026-01-01T00:00:00Z", "timezone": "UTC"}
CREDITS = {"currency": "EUR", "balance": "10.00", "spent_this_month": "1.00", "topup_url": None}
REFERENCE = {"account": ACCOUNT, "credits": CREDITS, "models": {"data": []},
             "keys": {"data": []}, "invoices": {"data": []}, "settings": {},
             "eco/methodology": {"version": "v"}, "routing": {"default": {}}}


def record(i: int, revision: int = 1) -> dict[str, Any]:
    return {"id": f"gen_{i}", "revision": revision, "created_at": "2026-11-24T13:05:07.123Z",
            "model": "m", "provider": "p", "cost": {"amount": "0.001", "currency": "EUR"},
            "tokens": {"prompt": 1, "completion": 2, "total": 3}}


class Answer:
    """What the server sends: status, headers, and a body given as chunks (may drip)."""

    def __init__(self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None,
                 chunks: Iterable[bytes] | None = None, delay: float = 0.0):
        self.status = status
        self.headers = dict(headers or {})
        if chunks is None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.headers.setdefault("Content-Length", str(len(data)))
            chunks = [data]
        self.chunks = chunks
        self.delay = delay  # seconds between chunks
        self.headers.setdefault("Content-Type", "application/json")


Route = Callable[["Request"], Answer]


class Request:
    def __init__(self, method: str, path: str, query: dict[str, str], headers: dict[str, str]):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers


class HostileServer:
    """Serves `route` on 127.0.0.1; `requests` logs (method, path, query, headers)."""

    def __init__(self, route: Route):
        self.route = route
        self.requests: list[Request] = []
        self.stop_event = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                path = parts.path.removeprefix("/v1/").strip("/")
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                request = Request(self.command, path, query, dict(self.headers.items()))
                server.requests.append(request)
                answer = server.route(request)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in answer.headers:
                    self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for chunk in answer.chunks:
                        if server.stop_event.is_set():
                            return
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        if answer.delay:
                            server.stop_event.wait(answer.delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if "Content-Length" not in answer.headers:
                    self.close_connection = True

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def reference_or(feed: Callable[[Request], Answer]) -> Route:
    """A route answering reference paths normally and /generations with `feed`."""

    def route(request: Request) -> Answer:
        if request.path == "generations":
            return feed(request)
        if request.path in REFERENCE:
            return Answer(200, REFERENCE[request.path])
        return Answer(404, {"error": {"code": "not_found", "message": request.path}})

    return route


def page(records: list[dict], next_cursor: str | None, has_more: bool) -> dict[str, Any]:
    return {"data": records, "next_cursor": next_cursor, "has_more": has_more}


def drip(data: bytes, every: float) -> Iterable[bytes]:
    """One byte at a time, `every` seconds apart (bounded by the data's length)."""
    for i in range(len(data)):
        yield data[i:i + 1]


def endless(chunk: bytes, limit_bytes: int) -> Iterable[bytes]:
    """`chunk` again and again, up to limit_bytes (the test bound), never all in memory."""
    sent = 0
    while sent < limit_bytes:
        yield chunk
        sent += len(chunk)


def now_http_date(offset_s: float) -> str:
    from email.utils import formatdate

    return formatdate(time.time() + offset_s, usegmt=True)
