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
from urllib.parse import urlsplit

import httpcore
import httpx
from pydantic import BaseModel, ValidationError

from . import errors
from .models import (
    Account,
    Credits,
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
from .urls import is_loopback_host, normalize_base_url

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

USER_AGENT = "lowdash-desktop"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# The longest Retry-After waited out inside one sync; a longer one ends the sync with the
# time the platform asked for, and the next sync starts after it.
MAX_RETRY_AFTER_S = 120.0
# the longest the app waits before asking again, whatever Retry-After says
MAX_RETRY_WAIT_S = 86400.0
# httpx's timeouts are per read: a server sending one byte every few seconds never trips them.
# Each request as a whole must be answered within this deadline.
REQUEST_DEADLINE_S = 120.0
# Bytes of one answer, after decompression (a gzip bomb is small on the wire). A full feed page
# of 1,000 generations is about 1 MB; an invoice PDF a few hundred KB.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


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


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110)."""
    if not value or len(value) > 64:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 10**9))
    try:
        seconds = float(value)  # not the RFC's form, but some servers send "1.5"
    except ValueError:
        seconds = None
    if seconds is not None:
        return seconds if 0.0 <= seconds < float("inf") else None  # NaN fails both tests
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    import time as _time

    return max(0.0, when.timestamp() - (_time.time() if now is None else now))


def _without_secrets(text: str, secret: str | None) -> str:
    """A platform's message with the key (and any Authorization value) taken out."""
    from ..logsetup import redact

    if secret and len(secret) >= 6:
        text = text.replace(secret, "[REDACTED]")
    return redact(text)


def _transport_words(exc: Exception) -> str:
    """What a transport failure means, in words (not the exception's class name)."""
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
            return "its address could not be found"
        return "nothing answered there (the connection was refused or could not be made)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection dropped before the answer was complete"
    if isinstance(exc, httpx.ProxyError):
        return "the proxy refused or failed the connection"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "the connection was cut"
    return "the connection failed"


def _sane(value: Any, low: float, high: float) -> bool:
    """A JSON number within [low, high] (NaN and Infinity are not)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and low <= value <= high)


def _readable(text: Any, limit: int = 300) -> str | None:
    """A platform's error message fit for one line: printable, bounded."""
    if not isinstance(text, str) or not text.strip():
        return None
    clean = "".join(ch if ch.isprintable() else " " for ch in text[: limit * 2]).strip()
    return clean[:limit] + ("…" if len(clean) > limit else "")


def _error_from_response(response: httpx.Response, body: bytes) -> errors.HttpError:
    code = None
    message = None
    try:
        data = json.loads(body) if len(body) <= 64 * 1024 else None
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict):
            code = _readable(err.get("code"), 64)
            message = _readable(err.get("message"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        pass
    status = response.status_code
    if 300 <= status < 400:
        where = _readable(response.headers.get("Location"), 200) or "another address"
        return errors.HttpError(
            f"The platform answered with a redirect (HTTP {status}) to {where}; Lowdash does "
            "not follow redirects, so the API key never travels anywhere else. Check the "
            "platform address.",
            status=status, code="redirect",
        )
    cls = errors.error_class_for(status)
    text = message or f"The platform answered HTTP {status}."
    if cls is errors.RateLimited:
        return errors.RateLimited(
            text,
            status=status,
            code=code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    return cls(text, status=status, code=code)


def _note_retry_at(exc: errors.RateLimited) -> None:
    """Say in the error's message until when the platform asked us to wait."""
    import time as _time

    if exc.retry_at is not None or exc.retry_after is None:
        return
    asked = _time.time() + min(exc.retry_after, 1e10)
    # a wait of years is not a wait: ask again a day later at the latest
    exc.retry_after = min(exc.retry_after, MAX_RETRY_WAIT_S)
    exc.retry_at = _time.time() + exc.retry_after
    try:
        local = _time.localtime(asked)
    except (OverflowError, OSError, ValueError):
        local = _time.localtime(exc.retry_at)
    same_day = _time.localtime()[:3] == local[:3]
    when = _time.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M", local)
    exc.message = f"{exc.message} The platform asked us to wait until {when}."
    if exc.retry_after >= MAX_RETRY_WAIT_S:
        exc.message += " Lowdash asks again in a day at the latest."


# what json.loads gives (None aside)
_JSON_TYPES = (dict, list, str, int, float, bool)

# The encodings asked for: those inflated here with bounded memory (not br or zstd).
ACCEPT_ENCODING = "gzip, deflate"


class _BoundedDecoder:
    """Content-Encoding undone piece by piece, never more than `room` bytes at a time."""

    def __init__(self, encoding: str, path: str):
        import zlib

        self._zlib = zlib
        self._path = path
        name = encoding.strip().lower()
        if name in ("", "identity"):
            self._inflate = None
        elif name in ("gzip", "x-gzip"):
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise errors.UnreadableBody(
                f"The platform sent its answer for {path} in an encoding not asked for "
                f"({_readable(encoding, 40)})."
            )
        self._first = True

    def decode(self, data: bytes, room: int) -> Iterator[bytes]:
        if self._inflate is None:
            yield data
            return
        try:
            out = self._inflate.decompress(data, max(room, 1))
            yield out
            while self._inflate.unconsumed_tail:
                room -= len(out)
                out = self._inflate.decompress(self._inflate.unconsumed_tail, max(room, 1))
                yield out
        except self._zlib.error as exc:
            raise errors.UnreadableBody(
                f"The platform sent a damaged compressed answer for {self._path}."
            ) from exc


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
        self._aborted = False

    def track(self, stream: httpcore.NetworkStream) -> httpcore.NetworkStream:
        tracked = _TrackedStream(stream, self)
        with self._lock:
            self._streams.add(tracked)
            aborted = self._aborted
        if aborted:
            # cancelled while this socket was still connecting: abort() could not see it, and
            # the read after it waited for the whole timeout (a cancelled sign-in check ran on
            # against a server that never answers)
            _shut(tracked)
        return tracked

    def connect_tcp(self, *args: Any, **kw: Any) -> httpcore.NetworkStream:
        return self.track(self._inner.connect_tcp(*args, **kw))

    def connect_unix_socket(self, *args: Any, **kw: Any) -> httpcore.NetworkStream:
        return self.track(self._inner.connect_unix_socket(*args, **kw))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)

    def abort(self, for_good: bool = False) -> None:
        """Shut down every socket (and with `for_good`, any connected from now on: a cancelled
        client's requests raise `Cancelled` from then on): a read blocked in another thread
        returns at once."""
        with self._lock:
            self._aborted = self._aborted or for_good
            streams = list(self._streams)
        for stream in streams:
            _shut(stream)


def _shut(stream: httpcore.NetworkStream) -> None:
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
        request_deadline: float = REQUEST_DEADLINE_S,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ):
        self.base_url = normalize_base_url(base_url)
        self._secret = api_key
        self._deadline_s = request_deadline
        self._max_bytes = max_response_bytes
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
            try:
                verify.load_verify_locations(cafile=str(bundle))
            except ssl.SSLError as exc:  # not a crash: a setting to correct
                raise errors.TlsError(
                    f"The CA bundle {bundle} holds no PEM certificate, so no connection is "
                    "made. Choose another file or clear the field in Preferences."
                ) from exc
        # A platform on this machine is always reached directly: no proxy (from the OS or from
        # HTTP_PROXY/ALL_PROXY) ever sees the key on its way to loopback.
        loopback = is_loopback_host(urlsplit(self.base_url).hostname or "")
        try:
            self._http = self._make_http(api_key, timeout, verify, proxy, transport, loopback)
        except (ImportError, ValueError, httpx.InvalidURL) as exc:  # a proxy httpx cannot use
            raise errors.InvalidBaseUrl(
                "The proxy setting cannot be used (check HTTPS_PROXY, ALL_PROXY and the OS "
                f"proxy; socks proxies are not supported): {_without_secrets(str(exc), api_key)}"
            ) from exc
        self._abortable = _install_abortable(self._http)

    def _make_http(self, api_key: str, timeout: Any, verify: Any, proxy: str | None,
                   transport: httpx.BaseTransport | None, loopback: bool) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url + "/",
            headers={
                "Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            timeout=timeout,
            verify=verify,
            # None: the environment's proxy variables still apply (trust_env), except to loopback
            proxy=None if loopback else proxy,
            trust_env=not loopback,
            transport=transport,
            follow_redirects=False,  # the key goes to the platform's address and nowhere else
        )

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
            backend.abort(for_good=True)

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
        deadline = threading.Event()  # set by the watchdog when the request's time is up
        watchdog = threading.Timer(self._deadline_s, self._expire, (deadline,))
        watchdog.daemon = True
        watchdog.start()
        try:
            response, body = self._exchange(method, path, deadline, **kw)
        except httpx.TransportError as exc:  # timeouts included
            if self._cancel.is_set():  # cut by `cancel()`: not a network fault, not retried
                raise errors.Cancelled("Stopped.") from exc
            if deadline.is_set():
                raise errors.DeadlineExceeded(
                    f"The platform at {self.base_url} did not finish answering within "
                    f"{self._deadline_s:.0f} s."
                ) from exc
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
                f"Cannot reach the platform at {self.base_url}: {_transport_words(exc)}."
            ) from exc
        except httpx.HTTPError as exc:  # a broken encoding, a bad header: the answer is unusable
            raise errors.UnreadableBody(
                f"The platform sent an unreadable answer for {path} ({type(exc).__name__})."
            ) from exc
        finally:
            watchdog.cancel()
        if not 200 <= response.status_code < 300:  # only a 2xx answer is data
            error = _error_from_response(response, body)
            # the platform's own words are shown and stored: never with the key in them
            error.message = _without_secrets(error.message, self._secret)
            raise error
        response._content = body  # the bounded body read above, for .content and .json()
        return response

    def _exchange(
        self, method: str, path: str, deadline: threading.Event, **kw: Any
    ) -> tuple[httpx.Response, bytes]:
        """Send, then read the (decoded) body up to MAX_RESPONSE_BYTES before the deadline."""
        request = self._http.build_request(method, path.lstrip("/"), **kw)
        response = self._http.send(request, stream=True)
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self._max_bytes:
                raise errors.ResponseTooLarge(self._too_large(path))
            if hasattr(response, "_content"):  # an answer made in memory (a test transport)
                if len(response.content) > self._max_bytes:
                    raise errors.ResponseTooLarge(self._too_large(path))
                return response, response.content
            decoder = _BoundedDecoder(response.headers.get("Content-Encoding", ""), path)
            chunks: list[bytes] = []
            size = 0
            # raw bytes, decoded here: httpx's own decoder inflates a whole network chunk at
            # once, and one 64 KB chunk of a gzip bomb is 64 MB
            for raw in response.iter_raw():
                for chunk in decoder.decode(raw, self._max_bytes - size + 1):
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise errors.ResponseTooLarge(self._too_large(path))
                    chunks.append(chunk)
                if deadline.is_set():
                    raise httpx.ReadTimeout("request deadline", request=request)
            return response, b"".join(chunks)
        finally:
            response.close()

    def _too_large(self, path: str) -> str:
        return (
            f"The platform's answer for {path} is larger than {self._max_bytes // 2**20} MB; "
            "it was not read."
        )

    def _expire(self, deadline: threading.Event) -> None:
        """The watchdog: the request in flight has used up its deadline; cut its sockets."""
        deadline.set()
        for backend in self._abortable:
            backend.abort()

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
                if isinstance(exc, errors.RateLimited) and exc.retry_after is not None:
                    _note_retry_at(exc)
                    if exc.retry_after > MAX_RETRY_AFTER_S:  # honoured: not asked again sooner
                        raise
                if not retryable or attempt + 1 >= self._retry.attempts:
                    raise
                wait = self._retry.delay(attempt, exc)
                log.info("retrying %s %s after %.2fs: %s", method, path, wait, exc.code)
                self._sleep(wait)
                attempt += 1

    def _json(self, method: str, path: str, *, fast: Callable[[bytes], Any] | None = None,
              **kw: Any) -> Any:
        """The answer's JSON; `fast`: a decoder tried first on the (bounded) body, whose None
        means "not mine to decide": then `json.loads` as usual."""
        response = self.request(method, path, **kw)
        if fast is not None:
            decided = fast(response.content)
            if decided is not None:
                return decided
        return self._decode(response, path)

    @staticmethod
    def _decode(response: httpx.Response, path: str) -> Any:
        try:
            return json.loads(response.content)
        except RecursionError as exc:  # JSON nested thousands deep: not an accident, not retried
            raise errors.MalformedResponse(
                f"The platform sent a malformed answer for {path} (nested too deeply)."
            ) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.UnreadableBody(
                f"The platform sent an unreadable answer for {path} (not JSON)."
            ) from exc

    @staticmethod
    def _validate(model: type[M], data: Any, what: str) -> M:
        try:
            return model.model_validate(data)
        except RecursionError as exc:
            raise errors.MalformedResponse(
                f"The platform sent a malformed {what}: nested too deeply."
            ) from exc
        except ValidationError as exc:
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ())) or "?"
            raise errors.MalformedResponse(
                f"The platform sent a malformed {what}: {_readable(where, 120)}: "
                f"{_readable(first.get('msg'), 200) or 'invalid'}."
            ) from exc

    def _get(self, model: type[M], path: str, what: str, **params: Any) -> M:
        return self._validate(model, self._get_raw(path, **params), what)

    def _get_raw(self, path: str, fast: Callable[[bytes], Any] | None = None,
                 **params: Any) -> Any:
        """The decoded JSON of a GET (or what `fast` decided, see `_json`); a body cut short
        is a transport accident, and a GET can simply be asked again."""
        clean = {k: v for k, v in params.items() if v is not None}
        attempt = 0
        while True:
            try:
                return self._json("GET", path, fast=fast, params=clean)
            except errors.UnreadableBody as exc:
                if attempt + 1 >= self._retry.attempts:
                    raise
                wait = self._retry.delay(attempt, exc)
                log.info("retrying GET %s after %.2fs: %s", path, wait, exc.code)
                self._sleep(wait)
                attempt += 1

    # -- account and credits --------------------------------------------------------------
    def account(self) -> Account:
        return self._get(Account, "account", "account")

    def credits(self) -> Credits:
        return self._get(Credits, "credits", "credit balance")

    def topups(self, cursor: str | None = None, limit: int | None = None) -> Page[Topup]:
        return self._get(Page[Topup], "credits/topups", "top-up page", cursor=cursor, limit=limit)

    # -- generations ----------------------------------------------------------------------
    def generations_page(
        self, cursor: str | None = None, limit: int = 500, *,
        fast: Callable[[bytes], Any] | None = None,
    ) -> GenerationPage | Any:
        """One page of the change feed; records stay raw for per-record validation.

        `fast` (the sync's `fastpath.decode_page`) may decide the page from its bytes, within
        the same byte cap, and return its own page object (with `data`, `next_cursor`,
        `has_more`); when it returns None the page is read and validated as usual."""
        raw = self._get_raw("generations", fast=fast, cursor=cursor, limit=limit)
        if fast is not None and raw is not None and not isinstance(raw, _JSON_TYPES):
            return raw  # not a JSON value: the page `fast` decided
        return self._validate(GenerationPage, raw, "generations page")

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
    def models(self) -> list[ModelInfo]:
        """The model list; an entry the contract does not allow is left out on its own."""
        page = self._get(Page[Any], "models", "model list")
        models = []
        for item in page.data:
            try:
                models.append(ModelInfo.model_validate(item))
            except (ValidationError, RecursionError):
                name = item.get("id") if isinstance(item, dict) else None
                log.warning("left out a malformed model list entry %s", _readable(name, 80))
        return models

    def eco_methodology(self) -> EcoMethodology:
        """The methodology; a provider or region entry that is not a sane number is left out
        on its own (one NaN PUE must not cost every other provider its figure)."""
        data = self._get_raw("eco/methodology")
        if isinstance(data, dict):
            data = dict(data)
            providers = data.get("providers")
            if isinstance(providers, dict):
                data["providers"] = {
                    k: v for k, v in providers.items()
                    if isinstance(v, dict) and _sane(v.get("pue"), 1.0, 10.0)
                }
            grid = data.get("grid_intensity")
            if isinstance(grid, dict):
                data["grid_intensity"] = {
                    k: v for k, v in grid.items() if _sane(v, 0.0, 1e5)
                }
        return self._validate(EcoMethodology, data, "eco methodology")

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
