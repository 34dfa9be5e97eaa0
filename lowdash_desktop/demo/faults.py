"""Fault injection for the demo platform: what a bad network or a buggy platform does.

`Faults(rate, kinds, seed).attach(platform)` makes the platform misbehave on a share of the
requests (or on requests forced with `force`) and counts what it injected, by kind.

How the platform's truth stays well defined under faults:
- transport faults (drop, truncate, 5xx, 429, stall) change nothing on the platform;
- `replay` answers a feed request with an earlier answer, verbatim, for a page starting at
  or before the position asked for (older revisions must not win). Only pages with has_more
  true are replayed, as a stale "end of feed" would fool any client;
- `extra-fields` adds unknown fields (valid records that must be stored as usual);
- `revision-bump` really changes the platform: a generation gets a higher revision, appended
  to the feed, so `platform.truth()` moves with it;
- `malformed` corrupts one record of a feed page in transit (negative tokens, bad money or a
  missing id). The platform's own record stays well formed and the platform sends it again:
  every later feed page covering the position where the corrupted page ended carries the
  good copy. Final pages (has_more false) are never corrupted, so a client that reads the feed
  to its end always receives the good copy; the malformed copy is quarantined by the client.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from lowdash_desktop.demo.server import (
    ApiError,
    DemoPlatform,
    Request,
    Response,
    decode_cursor,
    error_response,
    json_response,
)

TRANSPORT_KINDS = ("drop", "truncate", "500", "502", "503", "429", "stall")
FEED_KINDS = ("replay", "extra-fields", "malformed", "revision-bump")
KINDS = TRANSPORT_KINDS + FEED_KINDS
MALFORMED_VARIANTS = ("negative-tokens", "bad-money", "missing-id")
_FEED_PATH = "/generations"
_MAX_POSITION = 2**62
MALFORMED_HEADER = "X-Demo-Malformed"  # n: the n-th entry of Faults.quarantine_expected


def parse_kinds(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """Kinds from `"drop,500,..."` or an iterable; `all` or empty means every kind."""
    if text is None:
        return KINDS
    items = [k.strip() for k in (text.split(",") if isinstance(text, str) else text)]
    items = [k for k in items if k]
    if not items or items == ["all"]:
        return KINDS
    unknown = [k for k in items if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown fault kinds {unknown}; known: {', '.join(KINDS)}")
    return tuple(dict.fromkeys(items))


def _position(cursor: str | None) -> int:
    """Feed position of a cursor (0 when absent or unreadable)."""
    try:
        return decode_cursor("f1", cursor, _MAX_POSITION)
    except ApiError:
        return 0


class Faults:
    """Seeded fault injector; plug into `DemoPlatform.faults` (see `attach`)."""

    def __init__(
        self,
        rate: float = 0.0,
        kinds: str | Iterable[str] | None = None,
        seed: int = 0,
        *,
        stall_s: float = 30.0,
        retry_after: float = 1.0,
        paths: Iterable[str] | None = None,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        self.rate = rate
        self.kinds = parse_kinds(kinds)
        self.seed = seed
        self.stall_s = stall_s
        self.retry_after = retry_after
        self.paths = tuple(paths) if paths is not None else None
        self.injected: Counter[str] = Counter()
        self.malformed_variants: Counter[str] = Counter()
        self.seen = 0
        self.bumped_ids: list[str] = []
        self.quarantine_expected: list[str | None] = []
        self.platform: DemoPlatform | None = None
        self._rng = random.Random(f"lowdash-faults:{seed}")
        self._lock = threading.Lock()
        self._forced: deque[tuple[str, str | None]] = deque()
        self._history: deque[tuple[int, bytes]] = deque(maxlen=64)  # (page start, body)
        self._owed: dict[int, list[dict[str, Any]]] = {}
        self._paused = 0
        self._release = threading.Event()

    # -- set-up ------------------------------------------------------------------------------
    def attach(self, platform: DemoPlatform) -> Faults:
        """Install on a platform (revision bumps need one); returns self."""
        self.platform = platform
        platform.faults = self
        return self

    def force(self, kind: str, times: int = 1, path: str | None = None) -> None:
        """Inject `kind` into the next `times` requests (to `path` when given), whatever the rate."""
        parse_kinds([kind])
        with self._lock:
            self._forced.extend([(kind, path)] * times)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No random faults inside the block (forced ones and re-sent records still apply)."""
        with self._lock:
            self._paused += 1
        try:
            yield
        finally:
            with self._lock:
                self._paused -= 1

    def release(self) -> None:
        """End every stall now and make later stalls return at once (for shutdown)."""
        self._release.set()

    @property
    def total(self) -> int:
        """Faults injected so far, all kinds."""
        return sum(self.injected.values())

    def summary(self) -> str:
        """One line: total and count by kind."""
        parts = ", ".join(f"{k} {self.injected[k]}" for k in KINDS if self.injected[k])
        return f"{self.total} faults injected in {self.seen} requests ({parts or 'none'})"

    # -- the hook ----------------------------------------------------------------------------
    def intercept(self, request: Request, respond: Callable[[], Response]) -> Response:
        """Decide on a fault for this request and apply it."""
        feed = request.method == "GET" and request.path.rstrip("/") == _FEED_PATH
        kind = self._choose(request, feed)
        if kind is None:
            return self._respond(request, respond, feed)
        return self._apply(kind, request, respond, feed)

    def _choose(self, request: Request, feed: bool) -> str | None:
        with self._lock:
            self.seen += 1
            for i, (kind, path) in enumerate(self._forced):
                if path is None or request.path.rstrip("/") == path:
                    if kind in FEED_KINDS and not feed:
                        continue
                    del self._forced[i]
                    return kind
            if self._paused or self.rate <= 0:
                return None
            if self.paths is not None and request.path.rstrip("/") not in self.paths:
                return None
            if self._rng.random() >= self.rate:
                return None
            usable = [k for k in self.kinds if feed or k not in FEED_KINDS]
            if feed and not self._history:
                usable = [k for k in usable if k != "replay"]
            return self._rng.choice(usable) if usable else None

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

    def _respond(self, request: Request, respond: Callable[[], Response], feed: bool) -> Response:
        """The normal answer, plus any re-sent good copies of records corrupted earlier."""
        response = respond()
        if not feed or response.status != 200:
            return response
        with self._lock:
            owed = dict(self._owed)
        page = self._covering(request, response, owed)
        if page is not None:
            response = json_response(200, page)
        if b'"has_more":true' in response.body:
            # only middle pages are replayed: a stale "this is the end" would stop any client
            # short, and no client can tell it from the truth
            with self._lock:
                self._history.append((_position(request.query.get("cursor")), response.body))
        return response

    @staticmethod
    def _covering(
        request: Request, response: Response, owed: dict[int, list[dict[str, Any]]]
    ) -> dict[str, Any] | None:
        """The page with owed records added when it covers their position, else None."""
        if not owed:
            return None
        page = json.loads(response.body)
        start = _position(request.query.get("cursor"))
        end = _position(page.get("next_cursor"))
        extra = [
            rec for pos, recs in sorted(owed.items())
            if start <= pos < end or start == pos
            for rec in recs
        ]
        if not extra:
            return None
        page["data"] = list(page["data"]) + extra
        return page

    def _apply(
        self, kind: str, request: Request, respond: Callable[[], Response], feed: bool
    ) -> Response:
        if kind in ("500", "502", "503"):
            self._count(kind)
            return self._server_error(int(kind))
        if kind == "429":
            self._count(kind)
            err = ApiError(
                429, "rate_limited", "slow down", {"Retry-After": f"{self.retry_after:g}"}
            )
            return error_response(err)
        if kind == "stall":
            self._count(kind)
            self._release.wait(self.stall_s)
            return Response(0, drop=True)
        if kind == "replay":
            start = _position(request.query.get("cursor"))
            with self._lock:
                # an *old* page: one that starts at or before the position asked for
                older = [body for at, body in self._history if at <= start]
                body = self._rng.choice(older) if older else None
            if body is None:
                return self._respond(request, respond, feed)
            self._count(kind)
            return Response(200, body, "application/json; charset=utf-8")
        if kind == "revision-bump":
            self._bump()
            return self._respond(request, respond, feed)
        response = self._respond(request, respond, feed)
        if response.status != 200 or not response.body:
            return response
        if kind == "drop":
            self._count(kind)
            with self._lock:
                cut = self._rng.randrange(0, len(response.body))
            if cut == 0:
                return Response(0, drop=True)
            response.cut_at = cut
            return response
        if kind == "truncate":
            self._count(kind)
            with self._lock:
                cut = self._rng.randrange(1, len(response.body))
            return Response(200, response.body[:cut], response.content_type, response.headers)
        if kind == "extra-fields":
            return self._extra_fields(response)
        return self._malformed(request, response)

    @staticmethod
    def _server_error(status: int) -> Response:
        if status == 502:  # proxies answer in HTML, not in the platform's JSON
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return Response(502, body, "text/html")
        code = {500: "internal", 503: "unavailable"}[status]
        return error_response(ApiError(status, code, "temporary failure, try again"))

    def _bump(self) -> None:
        platform = self.platform
        if platform is None:
            raise RuntimeError("revision-bump faults need Faults.attach(platform)")
        with self._lock:
            index = self._rng.randrange(len(platform.data))
        gen_id = platform.bump_revision(index=index)
        with self._lock:
            self.bumped_ids.append(gen_id)
            self.injected["revision-bump"] += 1

    def _extra_fields(self, response: Response) -> Response:
        page = json.loads(response.body)
        page["x_page_hint"] = {"shard": 3, "region": "eu"}
        with self._lock:
            self.injected["extra-fields"] += 1
            targets = [r for r in page["data"] if self._rng.random() < 0.5] or page["data"][:1]
        for record in targets:
            record["x_new_field"] = {"nested": [1, 2, {"deep": True}], "note": "ignore me"}
            record.setdefault("tokens", {})["x_audio"] = 12
            record.setdefault("cost", {})["x_fx_rate"] = "1.0842"
            if isinstance(record.get("eco"), dict):
                record["eco"]["x_water_l"] = 0.002
        return json_response(200, page)

    def _malformed(self, request: Request, response: Response) -> Response:
        page = json.loads(response.body)
        if not page.get("has_more") or not page.get("data"):
            return response  # never corrupt a final page: the good copy must follow
        end = _position(page.get("next_cursor"))
        with self._lock:
            index = self._rng.randrange(len(page["data"]))
            variant = self._rng.choice(MALFORMED_VARIANTS)
        original = page["data"][index]
        bad = json.loads(json.dumps(original))
        if variant == "negative-tokens":
            bad.setdefault("tokens", {})["prompt"] = -abs(int(bad["tokens"].get("prompt", 1)) or 1)
        elif variant == "bad-money":
            bad["cost"] = {"amount": "12,5O", "currency": "EUR"}
        else:
            bad.pop("id", None)
        page["data"][index] = bad
        with self._lock:
            self._owed.setdefault(end, []).append(original)
            self.injected["malformed"] += 1
            self.malformed_variants[variant] += 1
            self.quarantine_expected.append(bad.get("id"))  # None: sent without its id
            serial = len(self.quarantine_expected)
        # which corrupted page this is, so a test can tell the pages a client read to their end
        # from those it gave up on (a read timeout) and asked for again
        return json_response(200, page, {MALFORMED_HEADER: str(serial)})
