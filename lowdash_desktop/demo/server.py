"""The demo platform: every endpoint of platform-api.md over real HTTP on loopback."""

from __future__ import annotations

import base64
import binascii
import copy
import json
import random
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from lowdash_desktop.demo import catalog, documents
from lowdash_desktop.demo.data import BASE62, DAY_MS, DemoData, base62, iso_ms, money, to_nano
from lowdash_desktop.eco import methodology as eco

SCOPES = ("inference", "read", "manage")
PREFERENCES = ("cheapest", "lowest_carbon", "closest", "fixed_provider")
STRATEGIES = ("auto", "fixed")
LIMIT_RESETS = ("daily", "weekly", "monthly")
FRESH_WINDOW_S = 3.0
_KEY_SPECS = (
    ("Production", ["inference", "read", "manage"], None, None, False, 6.0),
    ("Dashboard (read-only)", ["read"], None, None, False, 0.0),
    ("Staging", ["inference", "read"], "25.00", "monthly", False, 2.0),
    ("CI pipeline", ["inference"], "5.00", "daily", False, 1.0),
    ("Batch jobs", ["inference", "read"], None, None, False, 1.5),
    ("Old laptop", ["inference"], None, None, True, 0.3),
)


@dataclass
class Request:
    """One HTTP request as the platform sees it (path is relative to /v1)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    key_id: str | None = None


@dataclass
class Response:
    """One HTTP response; `drop=True` closes the connection without answering.

    `cut_at` sends the headers (with the full Content-Length) and only that many body bytes,
    then closes: a connection dropped mid-body.
    """

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    cut_at: int | None = None


class Faults(Protocol):
    """Fault injection hook: may replace or alter any response."""

    def intercept(self, request: Request, respond: Callable[[], Response]) -> Response:
        """Return the response to send; call `respond()` for the normal one."""
        ...


class ApiError(Exception):
    """An error answer in the contract's `{"error": {code, message}}` form."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (UTF-8, non-ASCII kept)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, "application/json; charset=utf-8", headers or {})


def error_response(err: ApiError) -> Response:
    """The contract's error body."""
    return json_response(
        err.status, {"error": {"code": err.code, "message": err.message}}, err.headers
    )


def _invalid(message: str) -> ApiError:
    """422 invalid_request."""
    return ApiError(422, "invalid_request", message)


def _not_found(what: str) -> ApiError:
    """404 not_found."""
    return ApiError(404, "not_found", f"{what} not found")


def encode_cursor(kind: str, position: int) -> str:
    """Opaque cursor for a position in a list or the feed."""
    raw = f"{kind}:{position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None, upper: int) -> int:
    """Position from a cursor handed out earlier (0 when absent); 422 if malformed."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, pos = raw.partition(":")
        position = int(pos)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise _invalid("cursor is not valid") from exc
    if prefix != kind or not 0 <= position <= upper:
        raise _invalid("cursor is not valid")
    return position


def _limit(query: dict[str, str], default: int, maximum: int = 1000) -> int:
    """The `limit` parameter, validated."""
    raw = query.get("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise _invalid("limit must be an integer") from exc
    if not 1 <= value <= maximum:
        raise _invalid(f"limit must be between 1 and {maximum}")
    return value


def _parse_day(text: str, name: str) -> date:
    """A YYYY-MM-DD query parameter."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise _invalid(f"{name} must be a date YYYY-MM-DD") from exc


def _parse_time(value: Any, name: str) -> datetime | None:
    """An optional RFC 3339 timestamp in a request body."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(f"{name} must be an RFC 3339 timestamp or null")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _invalid(f"{name} must be an RFC 3339 timestamp or null") from exc
    if parsed.tzinfo is None:
        raise _invalid(f"{name} must include a time zone")
    return parsed.astimezone(UTC)


def _money_or_null(value: Any, name: str) -> str | None:
    """A money string (normalized) or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(f"{name} must be a decimal string or null")
    try:
        nano = to_nano(value)
    except ValueError as exc:
        raise _invalid(f"{name} must be a decimal string or null") from exc
    if nano < 0:
        raise _invalid(f"{name} must not be negative")
    return money(nano)


class DemoPlatform:
    """A synthetic lowrouter platform served over HTTP on 127.0.0.1."""

    def __init__(
        self,
        seed: int = 7,
        generations: int = 3000,
        now: datetime | None = None,
        api_key: str | None = None,
    ) -> None:
        if not 100 <= generations <= 1_000_000:
            raise ValueError("generations must be between 100 and 1,000,000")
        if now is None:
            now = datetime.now(UTC).replace(second=0, microsecond=0)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        self.seed = seed
        self.now = now.astimezone(UTC)
        self.requests: Counter[str] = Counter()
        self.fresh_404_count = 0
        self.faults: Faults | None = None
        self.base_url = ""
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._fresh: dict[int, float] = {}
        self._fresh_hits: Counter[int] = Counter()
        rng = random.Random(f"lowdash-demo:{seed}")
        self._build_keys(rng, api_key)
        data_keys = [k["id"] for k in self._keys.values()] + [self._revoked_key_id]
        weights = [spec[5] for spec in _KEY_SPECS[: len(self._keys)]] + [0.4]
        names = [k["name"] for k in self._keys.values()]
        batch = names.index("Batch jobs") if "Batch jobs" in names else 0
        self.data = DemoData(seed, generations, self.now, data_keys, weights,
                             workload_key=0, burst_key=batch)
        self._data_key_index = {key_id: i for i, key_id in enumerate(data_keys)}
        self._topups = documents.build_topups(self.data, rng)
        self._invoices = documents.build_invoices(self.data, rng)
        self._build_state(rng)
        self._routes = self._route_table()

    # ----- state ---------------------------------------------------------------------------
    def _build_keys(self, rng: random.Random, api_key: str | None) -> None:
        """Keys 3-6 (first: full scopes, second: read only) and their secrets."""
        count = rng.randint(4, 6)
        self._keys: dict[str, dict] = {}
        self._secrets: dict[str, str] = {}
        created = self.now - timedelta(days=118)
        for i, (name, scopes, limit, reset, disabled, _) in enumerate(_KEY_SPECS[:count]):
            key_id = "key_" + base62(rng, 14)
            secret = "lr-live-" + base62(rng, 40)
            if i == 0 and api_key is not None:
                secret = api_key
            self._keys[key_id] = self._new_key(
                key_id,
                name,
                scopes,
                secret,
                limit,
                reset,
                disabled,
                created + timedelta(days=i * 9, minutes=rng.randint(0, 900)),
                None,
            )
            self._secrets[secret] = key_id
        self._revoked_key_id = "key_" + base62(rng, 14)
        ids = list(self._keys)
        self.api_key = next(s for s, k in self._secrets.items() if k == ids[0])
        self.read_only_key = next(s for s, k in self._secrets.items() if k == ids[1])

    def _new_key(
        self,
        key_id: str,
        name: str,
        scopes: list[str],
        secret: str,
        limit: str | None,
        reset: str | None,
        disabled: bool,
        created: datetime,
        expires: datetime | None,
    ) -> dict:
        """Internal key record (public fields are derived in _key_json)."""
        return {
            "id": key_id,
            "name": name,
            "prefix": secret[:12],
            "scopes": list(scopes),
            "disabled": disabled,
            "credit_limit": limit,
            "limit_reset": reset,
            "created_at": iso_ms(int(created.timestamp() * 1000)),
            "expires_at": None if expires is None else iso_ms(int(expires.timestamp() * 1000)),
            "x_last_rotated_at": None,
        }

    def _build_state(self, rng: random.Random) -> None:
        """Account, routing and settings objects."""
        self._account = {
            "id": "acct_" + base62(rng, 16),
            "email": "ops@lowdash.example",
            "name": "Lowdash KK",
            "currency": "EUR",
            "created_at": iso_ms(int((self.now - timedelta(days=120)).timestamp() * 1000)),
            "timezone": "Europe/Paris",
            "x_experimental": {"plan": "team", "beta_features": ["carbon_budget"]},
        }
        self._deletion_requested_at: str | None = None
        ids = list(self._keys)
        self._routing = {
            "default": {
                "strategy": "auto",
                "preference": "cheapest",
                "prefer_region": "fr-par",
                "fixed_provider": None,
                "max_price_per_mtok": None,
            },
            "overrides": {
                ids[2]: {
                    "strategy": "fixed",
                    "preference": "fixed_provider",
                    "prefer_region": None,
                    "fixed_provider": "scaleway",
                    "max_price_per_mtok": "2.00",
                },
            },
        }
        self._settings = {
            "eco_baseline_model": catalog.DEFAULT_BASELINE_MODEL,
            "notifications": {
                "low_balance_threshold": "10.00",
                "key_limit_warning_percent": 80,
                "weekly_report_email": True,
            },
        }

    # ----- public test/truth API ---------------------------------------------------------------
    @property
    def account(self) -> dict:
        """The account object as served."""
        return copy.deepcopy(self._account)

    @property
    def credits(self) -> dict:
        """The credits object as served."""
        with self._lock:
            month_start = datetime(self.now.year, self.now.month, 1, tzinfo=UTC)
            spent = self.data.cost_between(int(month_start.timestamp() * 1000), 2**62)
            total = int(self.data.cost.sum())
            paid = sum(to_nano(t["amount"]) for t in self._topups if t["status"] == "succeeded")
            return {
                "currency": "EUR",
                "balance": money(paid - total),
                "spent_this_month": money(spent),
                "topup_url": "https://billing.lowrouter.example/topup?account="
                + self._account["id"],
            }

    # the platform's own records, live: a test or a demo script reads what a request changed
    # and changes what the next request is served ("revoked elsewhere meanwhile")
    @property
    def settings(self) -> dict:
        """The account's settings as stored (what GET /settings serves)."""
        return self._settings

    @property
    def stored_account(self) -> dict:
        """The account as stored (`account` is a copy of it)."""
        return self._account

    @property
    def keys(self) -> dict[str, dict]:
        """Key id -> the key as stored."""
        return self._keys

    @property
    def secrets(self) -> dict[str, str]:
        """Secret -> the id of the key it belongs to."""
        return self._secrets

    @property
    def routing(self) -> dict:
        """The routing configuration as stored."""
        return self._routing

    @property
    def topups(self) -> list[dict]:
        """The top-ups as stored, oldest first."""
        return self._topups

    @property
    def deletion_requested_at(self) -> str | None:
        """When the account's deletion was asked for (None: not asked, or cancelled)."""
        return self._deletion_requested_at

    def serve_tls(self, context) -> str:
        """Answer over HTTPS with `context` (an ssl server context); the https base URL."""
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        return self.base_url.replace("http://", "https://")

    def truth(self) -> dict[str, int]:
        """Generation id -> highest revision the feed will ever hand out."""
        with self._lock:
            data = self.data
            return {data.gen_id(i): data.highest_revision(i) for i in range(len(data))}

    def generation(self, gen_id: str) -> dict:
        """The full generation object (with routing) at its highest revision."""
        with self._lock:
            idx = self.data.index_of(gen_id)
            if idx is None:
                raise KeyError(gen_id)
            return self.data.generation(idx, self.data.highest_revision(idx), True)

    def all_generations(self) -> Iterator[dict]:
        """Every generation at its highest revision (feed form, no routing)."""
        return self.data.iter_highest()

    def bump_revision(self, gen_id: str | None = None, index: int | None = None) -> str:
        """Raise one generation's revision (appended to the feed); return its id."""
        with self._lock:
            idx = self.data.index_of(gen_id) if gen_id is not None else index
            if idx is None:
                raise KeyError(gen_id)
            self.data.bump_revision(idx)
            return self.data.gen_id(idx)

    def add_generations(self, n: int) -> None:
        """Append n new generations at "now" to the end of the feed."""
        if n <= 0:
            return
        with self._lock:
            wall_ms = int(time.time() * 1000)
            last_ms = int(self.data.created[-1]) + 1
            at_ms = max(self.data.now_ms, wall_ms, last_ms)
            added = self.data.append(n, at_ms)
            stamp = time.monotonic()
            for idx in added:
                self._fresh[idx] = stamp

    # ----- lifecycle ---------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        """Serve in a background thread; return the base URL."""
        if self._server is not None:
            return self.base_url
        server = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        self._thread = threading.Thread(
            target=server.serve_forever,
            name="demo-platform",
            kwargs={"poll_interval": 0.1},
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Shut down and join the server thread (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def running(self) -> bool:
        """Whether the server is accepting requests."""
        return self._server is not None

    def __enter__(self) -> DemoPlatform:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- request handling --------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """The single place every response is produced (fault injection hooks in here)."""
        self.requests[request.path] += 1
        faults = self.faults
        if faults is not None:
            return faults.intercept(request, lambda: self._respond(request))
        return self._respond(request)

    def _respond(self, request: Request) -> Response:
        """Authenticate, route and run one request."""
        try:
            self._authenticate(request)
            handler, scope, params = self._match(request)
            self._require_scope(request, scope)
            with self._lock:
                return handler(request, *params)
        except ApiError as err:
            return error_response(err)
        except Exception as exc:  # noqa: BLE001 - a bug must still answer in contract form
            return error_response(ApiError(500, "internal", f"demo platform error: {exc!r}"))

    def _authenticate(self, request: Request) -> None:
        """Resolve the bearer key or raise 401."""
        auth = request.headers.get("authorization", "")
        scheme, _, secret = auth.partition(" ")
        key_id = self._secrets.get(secret.strip()) if scheme.lower() == "bearer" else None
        key = self._keys.get(key_id) if key_id else None
        if key is None:
            raise ApiError(401, "invalid_key", "missing or invalid API key")
        if key["disabled"]:
            raise ApiError(401, "invalid_key", "this API key is disabled")
        expires = _parse_time(key["expires_at"], "expires_at")
        if expires is not None and expires <= datetime.now(UTC):
            raise ApiError(401, "invalid_key", "this API key has expired")
        request.key_id = key_id

    def _require_scope(self, request: Request, scope: str) -> None:
        """403 unless the caller's key has `scope`."""
        key = self._keys[request.key_id or ""]
        if scope not in key["scopes"]:
            raise ApiError(403, "insufficient_scope", f"this API key lacks the '{scope}' scope")

    def _route_table(self) -> list[tuple[str, re.Pattern, Callable, str]]:
        """(method, path pattern, handler, required scope)."""
        table = [
            ("GET", r"/account", self._get_account, "read"),
            ("DELETE", r"/account", self._delete_account, "manage"),
            ("GET", r"/credits", self._get_credits, "read"),
            ("GET", r"/credits/topups", self._get_topups, "read"),
            ("GET", r"/generations", self._get_feed, "read"),
            ("GET", r"/generations/([^/]+)", self._get_generation, "read"),
            ("GET", r"/usage/daily", self._get_usage_daily, "read"),
            ("GET", r"/models", self._get_models, "read"),
            ("GET", r"/eco/methodology", self._get_methodology, "read"),
            ("GET", r"/keys", self._get_keys, "read"),
            ("POST", r"/keys", self._post_key, "manage"),
            ("POST", r"/keys/([^/]+)/rotate", self._rotate_key, "manage"),
            ("PATCH", r"/keys/([^/]+)", self._patch_key, "manage"),
            ("DELETE", r"/keys/([^/]+)", self._delete_key, "manage"),
            ("GET", r"/routing", self._get_routing, "read"),
            ("PUT", r"/routing", self._put_routing, "manage"),
            ("GET", r"/invoices", self._get_invoices, "read"),
            ("GET", r"/invoices/([^/]+)/pdf", self._get_invoice_pdf, "read"),
            ("GET", r"/settings", self._get_settings, "read"),
            ("PATCH", r"/settings", self._patch_settings, "manage"),
        ]
        return [(m, re.compile(p + r"/?"), h, s) for m, p, h, s in table]

    def _match(self, request: Request) -> tuple[Callable, str, tuple[str, ...]]:
        """Find the handler for a request, or raise 404/405."""
        path_known = False
        for method, pattern, handler, scope in self._routes:
            found = pattern.fullmatch(request.path)
            if found:
                path_known = True
                if method == request.method:
                    return handler, scope, tuple(unquote(g) for g in found.groups())
        if path_known:
            raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed here")
        raise _not_found(f"path {request.path}")

    @staticmethod
    def _json_body(request: Request) -> dict:
        """The request body as a JSON object, or 422."""
        try:
            body = json.loads(request.body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _invalid("body must be a JSON object") from exc
        if not isinstance(body, dict):
            raise _invalid("body must be a JSON object")
        return body

    # ----- account and credits -----------------------------------------------------------------
    def _get_account(self, request: Request) -> Response:
        """GET /account."""
        return json_response(200, self._account)

    def _delete_account(self, request: Request) -> Response:
        """DELETE /account with `{"confirm": email}`."""
        body = self._json_body(request)
        if body.get("confirm") != self._account["email"]:
            raise _invalid("confirm must equal the account email")
        self._deletion_requested_at = iso_ms(int(time.time() * 1000))
        return json_response(
            202, {"status": "deletion_scheduled", "requested_at": self._deletion_requested_at}
        )

    def _get_credits(self, request: Request) -> Response:
        """GET /credits."""
        return json_response(200, self.credits)

    def _page(self, items: list[dict], request: Request, kind: str, default: int) -> Response:
        """Cursor-paged list response."""
        limit = _limit(request.query, default)
        start = decode_cursor(kind, request.query.get("cursor"), len(items))
        end = min(start + limit, len(items))
        return json_response(
            200,
            {
                "data": items[start:end],
                "next_cursor": encode_cursor(kind, end),
                "has_more": end < len(items),
            },
        )

    def _get_topups(self, request: Request) -> Response:
        """GET /credits/topups."""
        return self._page(self._topups, request, "t", 50)

    # ----- generations -------------------------------------------------------------------------
    def _get_feed(self, request: Request) -> Response:
        """GET /generations: the replayable change feed."""
        limit = _limit(request.query, 500)
        total = len(self.data.feed_idx)
        start = decode_cursor("f1", request.query.get("cursor"), total)
        end = min(start + limit, total)
        page = [self.data.generation(i, r, False) for i, r in self.data.feed_slice(start, end)]
        return json_response(
            200, {"data": page, "next_cursor": encode_cursor("f1", end), "has_more": end < total}
        )

    def _get_generation(self, request: Request, gen_id: str) -> Response:
        """GET /generations/{id}, with the documented brief 404 right after completion."""
        idx = self.data.index_of(gen_id)
        if idx is None:
            raise _not_found(f"generation {gen_id}")
        stamp = self._fresh.get(idx)
        if stamp is not None:
            if time.monotonic() - stamp > FRESH_WINDOW_S:
                del self._fresh[idx]
            elif self._fresh_hits[idx] < self.fresh_404_count:
                self._fresh_hits[idx] += 1
                raise _not_found(f"generation {gen_id}")
        return json_response(200, self.data.generation(idx, self.data.highest_revision(idx), True))

    # ----- aggregates and reference data ---------------------------------------------------------
    def _get_usage_daily(self, request: Request) -> Response:
        """GET /usage/daily?from=&to= (UTC days, both inclusive)."""
        today = self.now.date()
        to_day = _parse_day(request.query["to"], "to") if request.query.get("to") else today
        if request.query.get("from"):
            from_day = _parse_day(request.query["from"], "from")
        else:
            from_day = to_day - timedelta(days=29)
        if from_day > to_day:
            raise _invalid("from must not be after to")
        epoch = date(1970, 1, 1)
        rows = self.data.daily_rows((from_day - epoch).days, (to_day - epoch).days)
        return json_response(200, {"data": rows})

    def _get_models(self, request: Request) -> Response:
        """GET /models."""
        out = []
        for i, model in enumerate(catalog.MODELS):
            item = {
                "id": model.id,
                "name": model.name,
                "providers": list(model.providers),
                "architecture": model.architecture,
                "params_total_b": eco.params_json(model.params_total),
                "params_active_b": eco.params_json(model.params_active),
                "params_status": model.params_status,
                "price_prompt_per_mtok": model.price_prompt,
                "price_completion_per_mtok": model.price_completion,
            }
            if i % 5 == 0:
                item["x_experimental"] = {"context_length": 131072}
            out.append(item)
        return json_response(200, {"data": out})

    def _get_methodology(self, request: Request) -> Response:
        """GET /eco/methodology."""
        return json_response(200, methodology())

    # ----- keys --------------------------------------------------------------------------------
    def _key_json(self, key: dict) -> dict:
        """Public Key object with live usage figures."""
        data_index = self._data_key_index.get(key["id"])
        now_ms = self.data.now_ms
        day_ms = now_ms - now_ms % DAY_MS
        month_ms = int(datetime(self.now.year, self.now.month, 1, tzinfo=UTC).timestamp() * 1000)
        week_ms = day_ms - self.now.weekday() * DAY_MS
        today = month = week = 0
        last_used = None
        if data_index is not None:
            today = self.data.cost_between(day_ms, 2**62, data_index)
            week = self.data.cost_between(week_ms, 2**62, data_index)
            month = self.data.cost_between(month_ms, 2**62, data_index)
            last_ms = self.data.last_used_ms(data_index)
            last_used = None if last_ms is None else iso_ms(last_ms)
        remaining = None
        if key["credit_limit"] is not None:
            used = {"daily": today, "weekly": week}.get(key["limit_reset"] or "", month)
            remaining = money(max(0, to_nano(key["credit_limit"]) - used))
        out = {k: v for k, v in key.items() if not k.startswith("x_")}
        out.update(
            {
                "scopes": list(key["scopes"]),
                "limit_remaining": remaining,
                "usage_today": money(today),
                "usage_month": money(month),
                "last_used_at": last_used,
            }
        )
        if key["x_last_rotated_at"]:
            out["x_last_rotated_at"] = key["x_last_rotated_at"]
        return out

    def _get_keys(self, request: Request) -> Response:
        """GET /keys."""
        return json_response(200, {"data": [self._key_json(k) for k in self._keys.values()]})

    def _validate_key_fields(self, body: dict, partial: bool) -> dict:
        """Validated subset of Key fields from a POST/PATCH body."""
        out: dict[str, Any] = {}
        if "name" in body or not partial:
            name = body.get("name")
            if not isinstance(name, str) or not name.strip() or len(name) > 100:
                raise _invalid("name must be a non-empty string (at most 100 characters)")
            out["name"] = name.strip()
        if "scopes" in body or not partial:
            scopes = body.get("scopes")
            if not isinstance(scopes, list) or not scopes or any(s not in SCOPES for s in scopes):
                raise _invalid(f"scopes must be a non-empty list drawn from {list(SCOPES)}")
            out["scopes"] = [s for s in SCOPES if s in scopes]
        if "credit_limit" in body:
            out["credit_limit"] = _money_or_null(body["credit_limit"], "credit_limit")
        if "limit_reset" in body:
            if body["limit_reset"] is not None and body["limit_reset"] not in LIMIT_RESETS:
                raise _invalid(f"limit_reset must be one of {list(LIMIT_RESETS)} or null")
            out["limit_reset"] = body["limit_reset"]
        if "disabled" in body:
            if not isinstance(body["disabled"], bool):
                raise _invalid("disabled must be a boolean")
            out["disabled"] = body["disabled"]
        return out

    def _check_unique_name(self, name: str, key_id: str | None = None) -> None:
        """409 when another live key already has this name (names identify keys to people)."""
        for other in self._keys.values():
            if other["id"] != key_id and other["name"].casefold() == name.casefold():
                raise ApiError(409, "conflict", f"a key named '{name}' already exists")

    def _new_secret(self) -> str:
        """A fresh, unused key secret."""
        rng = random.SystemRandom()
        return "lr-live-" + "".join(rng.choice(BASE62) for _ in range(40))

    def _post_key(self, request: Request) -> Response:
        """POST /keys -> {key, secret}."""
        body = self._json_body(request)
        fields = self._validate_key_fields(body, partial=False)
        self._check_unique_name(fields["name"])
        expires = _parse_time(body.get("expires_at"), "expires_at")
        secret = self._new_secret()
        key_id = "key_" + base62(random.Random(secret), 14)
        key = self._new_key(
            key_id,
            fields["name"],
            fields["scopes"],
            secret,
            fields.get("credit_limit"),
            fields.get("limit_reset"),
            False,
            datetime.now(UTC),
            expires,
        )
        self._keys[key_id] = key
        self._secrets[secret] = key_id
        return json_response(201, {"key": self._key_json(key), "secret": secret})

    def _find_key(self, key_id: str) -> dict:
        """A live key or 404."""
        key = self._keys.get(key_id)
        if key is None:
            raise _not_found(f"key {key_id}")
        return key

    def _rotate_key(self, request: Request, key_id: str) -> Response:
        """POST /keys/{id}/rotate: new secret, the old one stops working."""
        key = self._find_key(key_id)
        for secret, owner in list(self._secrets.items()):
            if owner == key_id:
                del self._secrets[secret]
        secret = self._new_secret()
        self._secrets[secret] = key_id
        key["prefix"] = secret[:12]
        key["x_last_rotated_at"] = iso_ms(int(time.time() * 1000))
        return json_response(200, {"key": self._key_json(key), "secret": secret})

    def _patch_key(self, request: Request, key_id: str) -> Response:
        """PATCH /keys/{id}."""
        key = self._find_key(key_id)
        fields = self._validate_key_fields(self._json_body(request), partial=True)
        if "name" in fields:
            self._check_unique_name(fields["name"], key_id)
        key.update(fields)
        return json_response(200, self._key_json(key))

    def _delete_key(self, request: Request, key_id: str) -> Response:
        """DELETE /keys/{id}: revoked, its secret stops working."""
        self._find_key(key_id)
        del self._keys[key_id]
        for secret, owner in list(self._secrets.items()):
            if owner == key_id:
                del self._secrets[secret]
        self._routing["overrides"].pop(key_id, None)
        return Response(204)

    # ----- routing and settings ------------------------------------------------------------------
    def _get_routing(self, request: Request) -> Response:
        """GET /routing."""
        return json_response(200, self._routing)

    def _validate_rule(self, rule: Any, where: str) -> dict:
        """One routing rule (default or override)."""
        if not isinstance(rule, dict):
            raise _invalid(f"{where} must be an object")
        strategy = rule.get("strategy", "auto")
        preference = rule.get("preference", "cheapest")
        if strategy not in STRATEGIES:
            raise _invalid(f"{where}.strategy must be one of {list(STRATEGIES)}")
        if preference not in PREFERENCES:
            raise _invalid(f"{where}.preference must be one of {list(PREFERENCES)}")
        region = rule.get("prefer_region")
        if region is not None and region not in catalog.GRID_INTENSITY:
            raise _invalid(f"{where}.prefer_region is not a known region")
        provider = rule.get("fixed_provider")
        if provider is not None and provider not in catalog.PROVIDERS:
            raise _invalid(f"{where}.fixed_provider is not a known provider")
        if preference == "fixed_provider" and provider is None:
            raise _invalid(f"{where}.fixed_provider is required with preference fixed_provider")
        if strategy == "fixed" and provider is None:
            raise _invalid(f"{where}.fixed_provider is required with strategy fixed")
        price = _money_or_null(rule.get("max_price_per_mtok"), f"{where}.max_price_per_mtok")
        return {
            "strategy": strategy,
            "preference": preference,
            "prefer_region": region,
            "fixed_provider": provider,
            "max_price_per_mtok": price,
        }

    def _put_routing(self, request: Request) -> Response:
        """PUT /routing: replace the defaults and overrides."""
        body = self._json_body(request)
        default = self._validate_rule(body.get("default"), "default")
        overrides_in = body.get("overrides") or {}
        if not isinstance(overrides_in, dict):
            raise _invalid("overrides must be an object keyed by key id")
        overrides = {}
        for key_id, rule in overrides_in.items():
            if key_id not in self._keys:
                raise _invalid(f"overrides: unknown key id {key_id}")
            overrides[key_id] = self._validate_rule(rule, f"overrides.{key_id}")
        self._routing = {"default": default, "overrides": overrides}
        return json_response(200, self._routing)

    def _get_settings(self, request: Request) -> Response:
        """GET /settings."""
        return json_response(200, self._settings)

    def _patch_settings(self, request: Request) -> Response:
        """PATCH /settings (partial; notifications merge field by field)."""
        body = self._json_body(request)
        settings = copy.deepcopy(self._settings)
        if "eco_baseline_model" in body:
            if body["eco_baseline_model"] not in catalog.MODEL_BY_ID:
                raise _invalid("eco_baseline_model must be a known model id")
            settings["eco_baseline_model"] = body["eco_baseline_model"]
        notes = body.get("notifications", {})
        if not isinstance(notes, dict):
            raise _invalid("notifications must be an object")
        target = settings["notifications"]
        if "low_balance_threshold" in notes:
            target["low_balance_threshold"] = _money_or_null(
                notes["low_balance_threshold"], "low_balance_threshold"
            )
        if "key_limit_warning_percent" in notes:
            pct = notes["key_limit_warning_percent"]
            if isinstance(pct, bool) or not isinstance(pct, int) or not 1 <= pct <= 100:
                raise _invalid("key_limit_warning_percent must be an integer 1..100")
            target["key_limit_warning_percent"] = pct
        if "weekly_report_email" in notes:
            if not isinstance(notes["weekly_report_email"], bool):
                raise _invalid("weekly_report_email must be a boolean")
            target["weekly_report_email"] = notes["weekly_report_email"]
        self._settings = settings
        return json_response(200, settings)

    # ----- invoices ----------------------------------------------------------------------------
    def _get_invoices(self, request: Request) -> Response:
        """GET /invoices."""
        return self._page(self._invoices, request, "i", 50)

    def _get_invoice_pdf(self, request: Request, invoice_id: str) -> Response:
        """GET /invoices/{id}/pdf."""
        for invoice in self._invoices:
            if invoice["id"] == invoice_id:
                return Response(200, documents.invoice_pdf(invoice), "application/pdf")
        raise _not_found(f"invoice {invoice_id}")


def methodology() -> dict:
    """The `/eco/methodology` document."""
    return {
        "version": eco.METHOD_VERSION,
        "published_at": "2026-11-01T00:00:00.000Z",
        "description_url": "https://docs.lowrouter.example/eco/methodology",
        "method": "ecologits",
        "method_version": eco.ECOLOGITS_VERSION,
        "providers": {
            name: {"pue": p.pue, "region_default": p.regions[0]}
            for name, p in catalog.PROVIDERS.items()
        },
        "grid_intensity": dict(catalog.GRID_INTENSITY),
    }


def _make_handler(platform: DemoPlatform) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one platform."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "lowrouter-demo/1"
        timeout = 30
        disable_nagle_algorithm = True  # headers and body go out separately: no 40 ms stalls

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Stay quiet: tests and the CLI own stdout/stderr."""

        def handle(self) -> None:
            """Serve the connection; a client that vanished (killed, timed out) is no error."""
            try:
                super().handle()
            except ConnectionError:
                self.close_connection = True

        def _serve(self) -> None:
            """Turn the raw HTTP exchange into Request/Response."""
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            if not platform.running:
                self.close_connection = True
                return
            split = urlsplit(self.path)
            path = split.path
            if not (path == "/v1" or path.startswith("/v1/")):
                response = error_response(_not_found(f"path {path}"))
                self._send(response)
                return
            query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = Request(self.command, path[3:] or "/", query, headers, body)
            self._send(platform.handle(request))

        def _send(self, response: Response) -> None:
            """Write a Response (or drop the connection)."""
            if response.drop:
                self.close_connection = True
                return
            self.send_response(response.status)
            if response.status != 204:
                self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if response.cut_at is not None:
                self.wfile.write(response.body[: response.cut_at])
                self.wfile.flush()
                self.close_connection = True
                return
            if response.body and self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


def serve_forever_cli(port: int, seed: int, generations: int, faults: Any = None) -> int:
    """Start a demo platform, print its base URL and API key, block until Ctrl+C/SIGTERM;
    returns the exit code (2, in one line, when the port cannot be had)."""
    if not 0 <= port <= 65535:
        print(f"lowdash demo-server: --port must be from 0 to 65535, not {port}", file=sys.stderr)
        return 2
    platform = DemoPlatform(seed=seed, generations=generations)
    if faults is not None:
        faults.attach(platform)
    try:
        base_url = platform.start(port)
    except OSError as exc:  # in use, or privileged
        print(f"lowdash demo-server: cannot listen on 127.0.0.1 port {port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2
    print(base_url, flush=True)
    print(platform.api_key, flush=True)
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _on_signal)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if faults is not None:
            faults.release()
            print(faults.summary(), file=sys.stderr, flush=True)
        platform.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.stdout.flush()
    return 0
