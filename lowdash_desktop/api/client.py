"""The one HTTP client of the lowrouter platform: auth, timeouts, retries, typed errors."""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import weakref
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import httpcore
import httpx
from pydantic import BaseModel, ValidationError

from . import errors
from .models import (
    Account,
    Credits,
    DailyUsage,
    EcoMethodology,
    Generation,
    GenerationPage,
    Invoice,
    Key,
    KeyWithSecret,
    ModelInfo,
    Page,
    RoutingConfig,
    Settings,
    Topup,
)
from .urls import normalize_base_url

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

USER_AGENT = "lowdash-desktop"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
MAX_RETRY_AFTER_S = 120.0


class RetryPolicy:
    """Exponential back-off with jitter for transient failures; honours Retry-After."""

    def __init__(self, attempts: int = 5, base_delay: float = 0.5, max_delay: float = 20.0):
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay

    def delay(self, attempt: int, error: errors.ApiError) -> float:
        if isinstance(error, errors.RateLimited) and error.retry_after is not None:
            return min(error.retry_after, MAX_RETRY_AFTER_S)
        backoff = min(self.max_delay, self.base_delay * (2**attempt))
        return backoff * (0.5 + random.random() / 2)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error_from_response(response: httpx.Response) -> errors.HttpError:
    code = None
    message = None
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            code = err.get("code") if isinstance(err.get("code"), str) else None
            message = err.get("message") if isinstance(err.get("message"), str) else None
    except (ValueError, UnicodeDecodeError):
        pass
    cls = errors.error_class_for(response.status_code)
    text = message or f"The platform answered HTTP {response.status_code}."
    if cls is errors.RateLimited:
        return errors.RateLimited(
            text,
            status=response.status_code,
            code=code,
            retry_after=_parse_retry_after(response.headers.get("Retry-After")),
        )
    return cls(text, status=response.status_code, code=code)


_LIVE_CLIENTS: weakref.WeakSet[LowrouterClient] = weakref.WeakSet()


def cancel_all() -> None:
    """Make every request in flight in this process give up now (the app is quitting)."""
    for client in list(_LIVE_CLIENTS):
        client.cancel()


class _AbortableBackend(httpcore.NetworkBackend):
    """Wraps httpcore's network backend to remember live sockets so `abort` can cut them."""

    def __init__(self, inner: httpcore.NetworkBackend):
        self._inner = inner
        self._streams: weakref.WeakSet[_TrackedStream] = weakref.WeakSet()
        self._lock = threading.Lock()

    def track(self, stream: httpcore.NetworkStream) -> httpcore.NetworkStream:
        tracked = _TrackedStream(stream, self)
        with self._lock:
            self._streams.add(tracked)
        return tracked

    def connect_tcp(self, *args: Any, **kw: Any) -> httpcore.NetworkStream:
        return self.track(self._inner.connect_tcp(*args, **kw))

    def connect_unix_socket(self, *args: Any, **kw: Any) -> httpcore.NetworkStream:
        return self.track(self._inner.connect_unix_socket(*args, **kw))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)

    def abort(self) -> None:
        """Shut down every socket: a read blocked in another thread returns at once."""
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            sock = stream.get_extra_info("socket")
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except (OSError, AttributeError):
                pass


class _TrackedStream(httpcore.NetworkStream):
    """A network stream that its backend can find again (TLS upgrades stay tracked)."""

    def __init__(self, inner: httpcore.NetworkStream, backend: _AbortableBackend):
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, *args: Any, **kw: Any) -> httpcore.NetworkStream:
        return self._backend.track(self._inner.start_tls(*args, **kw))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _install_abortable(http: httpx.Client) -> list[_AbortableBackend]:
    """Put an abortable backend under every connection pool of an httpx client.

    httpx has no public hook for this; if its internals differ, cancelling still works
    between requests and retries, just not in the middle of a read.
    """
    installed = []
    transports = [getattr(http, "_transport", None), *getattr(http, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        inner = getattr(pool, "_network_backend", None)
        if isinstance(inner, httpcore.NetworkBackend):
            backend = _AbortableBackend(inner)
            pool._network_backend = backend  # type: ignore[union-attr]
            installed.append(backend)
    return installed


class LowrouterClient:
    """Talks to one platform with one API key. Thread-safe for sequential use from one thread."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        ca_bundle: str | Path | None = None,
        proxy: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        cancel_event: threading.Event | None = None,
    ):
        self.base_url = normalize_base_url(base_url)
        self._retry = retry or RetryPolicy()
        self._cancel = cancel_event or threading.Event()
        _LIVE_CLIENTS.add(self)
        # not `self._interruptible_sleep` stored on self: a bound method there is a reference
        # cycle, and the client (with its TLS context, a few MB) would wait for a full collection
        self._custom_sleep = sleep
        # TLS verification is always on; a custom CA bundle only adds trust, never removes it.
        verify: Any = True
        if ca_bundle:
            bundle = Path(ca_bundle)
            if not bundle.is_file():
                raise errors.ApiError(f"CA bundle not found: {bundle}")
            import ssl

            import certifi

            verify = ssl.create_default_context(cafile=certifi.where())
            verify.load_verify_locations(cafile=str(bundle))
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT},
            timeout=timeout,
            verify=verify,
            proxy=proxy,  # None: the environment's proxy variables still apply (trust_env)
            transport=transport,
            follow_redirects=False,
        )
        self._abortable = _install_abortable(self._http)

    # -- plumbing -----------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LowrouterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cancel(self) -> None:
        """Make any request in flight or any back-off wait give up with `Cancelled`."""
        self._cancel.set()
        for backend in self._abortable:
            backend.abort()

    @property
    def cancel_event(self) -> threading.Event:
        return self._cancel

    def _sleep(self, seconds: float) -> None:
        if self._custom_sleep is not None:
            self._custom_sleep(seconds)
        else:
            self._interruptible_sleep(seconds)

    def _interruptible_sleep(self, seconds: float) -> None:
        if self._cancel.wait(seconds):
            raise errors.Cancelled("Stopped.")

    def _send_once(self, method: str, path: str, **kw: Any) -> httpx.Response:
        if self._cancel.is_set():
            raise errors.Cancelled("Stopped.")
        try:
            response = self._http.request(method, path.lstrip("/"), **kw)
        except httpx.TransportError as exc:  # timeouts included
            if self._cancel.is_set():  # cut by `cancel()`: not a network fault, not retried
                raise errors.Cancelled("Stopped.") from exc
            if isinstance(exc, httpx.TimeoutException):
                raise errors.TimeoutError_(
                    f"The platform at {self.base_url} did not answer in time."
                ) from exc
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):  # not transient: asking again won't help
                raise errors.TlsError(
                    f"The certificate of {self.base_url} could not be verified. If the platform "
                    "uses a private certificate authority, configure its CA bundle."
                ) from exc
            raise errors.NetworkError(
                f"Cannot reach the platform at {self.base_url} ({type(exc).__name__})."
            ) from exc
        if response.status_code >= 400:
            raise _error_from_response(response)
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        retry_on: tuple[type[errors.ApiError], ...] = (),
        **kw: Any,
    ) -> httpx.Response:
        """Send with retries for transient failures (and for `retry_on`), raise typed errors."""
        attempt = 0
        while True:
            try:
                return self._send_once(method, path, **kw)
            except errors.ApiError as exc:
                retryable = exc.transient or isinstance(exc, retry_on)
                if not retryable or attempt + 1 >= self._retry.attempts:
                    raise
                wait = self._retry.delay(attempt, exc)
                log.info("retrying %s %s after %.2fs: %s", method, path, wait, exc.code)
                self._sleep(wait)
                attempt += 1

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        response = self.request(method, path, **kw)
        return self._decode(response, path)

    @staticmethod
    def _decode(response: httpx.Response, path: str) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.UnreadableBody(
                f"The platform sent an unreadable answer for {path} (not JSON)."
            ) from exc

    @staticmethod
    def _validate(model: type[M], data: Any, what: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ())) or "?"
            raise errors.MalformedResponse(
                f"The platform sent a malformed {what}: {where}: {first.get('msg', 'invalid')}."
            ) from exc

    def _get(self, model: type[M], path: str, what: str, **params: Any) -> M:
        clean = {k: v for k, v in params.items() if v is not None}
        attempt = 0
        while True:
            try:
                data = self._json("GET", path, params=clean)
                break
            except errors.UnreadableBody as exc:
                # a body cut short is a transport accident; a GET can simply be asked again
                if attempt + 1 >= self._retry.attempts:
                    raise
                wait = self._retry.delay(attempt, exc)
                log.info("retrying GET %s after %.2fs: %s", path, wait, exc.code)
                self._sleep(wait)
                attempt += 1
        return self._validate(model, data, what)

    # -- account and credits --------------------------------------------------------------
    def account(self) -> Account:
        return self._get(Account, "account", "account")

    def credits(self) -> Credits:
        return self._get(Credits, "credits", "credit balance")

    def topups(self, cursor: str | None = None, limit: int | None = None) -> Page[Topup]:
        return self._get(Page[Topup], "credits/topups", "top-up page", cursor=cursor, limit=limit)

    # -- generations ----------------------------------------------------------------------
    def generations_page(self, cursor: str | None = None, limit: int = 500) -> GenerationPage:
        """One page of the change feed; records stay raw for per-record validation."""
        return self._get(
            GenerationPage, "generations", "generations page", cursor=cursor, limit=limit
        )

    def generation(self, gen_id: str, *, not_found_retries: int = 4) -> Generation:
        """One generation with routing; retries the brief 404 right after completion."""
        attempt = 0
        while True:
            try:
                return self._get(Generation, f"generations/{gen_id}", "generation")
            except errors.NotFound:
                if attempt >= not_found_retries:
                    raise
                self._sleep(min(8.0, 0.5 * (2**attempt)))
                attempt += 1

    # -- aggregates and reference data ------------------------------------------------------
    def usage_daily(self, start: date, end: date) -> list[DailyUsage]:
        page = self._get(
            Page[DailyUsage], "usage/daily", "daily usage",
            **{"from": start.isoformat(), "to": end.isoformat()},
        )
        return page.data

    def models(self) -> list[ModelInfo]:
        return self._get(Page[ModelInfo], "models", "model list").data

    def eco_methodology(self) -> EcoMethodology:
        return self._get(EcoMethodology, "eco/methodology", "eco methodology")

    # -- keys -------------------------------------------------------------------------------
    def keys(self) -> list[Key]:
        return self._get(Page[Key], "keys", "key list").data

    def create_key(self, **fields: Any) -> KeyWithSecret:
        data = self._json("POST", "keys", json=_jsonable(fields))
        return self._validate(KeyWithSecret, data, "new key")

    def rotate_key(self, key_id: str) -> KeyWithSecret:
        data = self._json("POST", f"keys/{key_id}/rotate")
        return self._validate(KeyWithSecret, data, "rotated key")

    def update_key(self, key_id: str, **fields: Any) -> Key:
        data = self._json("PATCH", f"keys/{key_id}", json=_jsonable(fields))
        return self._validate(Key, data, "key")

    def revoke_key(self, key_id: str) -> None:
        self.request("DELETE", f"keys/{key_id}")

    # -- routing, invoices, settings ----------------------------------------------------------
    def routing(self) -> RoutingConfig:
        return self._get(RoutingConfig, "routing", "routing configuration")

    def put_routing(self, config: RoutingConfig | dict[str, Any]) -> RoutingConfig:
        body = config.model_dump(mode="json") if isinstance(config, BaseModel) else config
        data = self._json("PUT", "routing", json=_jsonable(body))
        return self._validate(RoutingConfig, data, "routing configuration")

    def invoices_page(self, cursor: str | None = None) -> Page[Invoice]:
        return self._get(Page[Invoice], "invoices", "invoice page", cursor=cursor)

    def iter_invoices(self) -> Iterator[Invoice]:
        cursor = None
        while True:
            page = self.invoices_page(cursor)
            yield from page.data
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor

    def invoice_pdf(self, invoice_id: str) -> bytes:
        response = self.request("GET", f"invoices/{invoice_id}/pdf")
        if not response.content.startswith(b"%PDF"):
            raise errors.MalformedResponse("The platform's invoice PDF is not a PDF file.")
        return response.content

    def settings(self) -> Settings:
        return self._get(Settings, "settings", "settings")

    def patch_settings(self, **fields: Any) -> Settings:
        data = self._json("PATCH", "settings", json=_jsonable(fields))
        return self._validate(Settings, data, "settings")

    def delete_account(self, confirm_email: str) -> None:
        self.request("DELETE", "account", json={"confirm": confirm_email})


def _jsonable(value: Any) -> Any:
    """Decimals travel as strings (money), dates as ISO text."""
    from datetime import datetime as _dt
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (_dt, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
