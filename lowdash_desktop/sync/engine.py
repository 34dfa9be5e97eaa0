"""The Qt-free sync engine: pulls the change feed and reference data into the cache."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pydantic import ValidationError

from ..api import errors
from ..api.client import LowrouterClient
from ..api.models import Generation
from ..store.cache import Cache
from ..store.rows import generation_row, to_ms

log = logging.getLogger(__name__)

# Fields that could carry prompt or response text are never written anywhere, not even aside.
_CONTENT_FIELDS = {"prompt", "response", "messages", "content", "input", "output", "completion"}


@dataclass
class SyncProgress:
    """How far a sync is; `fraction` is None while unknown."""

    phase: str
    pages: int = 0
    received: int = 0
    changed: int = 0
    quarantined: int = 0
    fraction: float | None = None


@dataclass
class SyncResult:
    """What one sync run did."""

    pages: int = 0
    received: int = 0
    changed: int = 0
    quarantined: int = 0
    snapshots: list[str] = field(default_factory=list)
    snapshots_changed: list[str] = field(default_factory=list)  # answers unlike the cached ones
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    complete: bool = False
    error_kind: str | None = None  # offline, auth, malformed, cancelled, error

    def summary(self) -> str:
        text = (
            f"{self.received} generation records in {self.pages} pages, "
            f"{self.changed} new or updated"
        )
        if self.quarantined:
            text += f", {self.quarantined} malformed set aside"
        return text


class SyncError(Exception):
    """A sync stopped early; `result` holds what was stored before it stopped."""

    def __init__(self, message: str, result: SyncResult, cause: Exception | None = None):
        super().__init__(message)
        self.message = message
        self.result = result
        self.cause = cause


def _scrub(record: Any) -> Any:
    if isinstance(record, dict):
        return {k: _scrub(v) for k, v in record.items() if k not in _CONTENT_FIELDS}
    if isinstance(record, list):
        return [_scrub(v) for v in record]
    return record


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ())) or "record"
    return f"{where}: {first.get('msg', 'invalid')}"


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def split_page(items: list[Any]) -> tuple[list[tuple], list[tuple[str | None, str, str]]]:
    """Valid records as cache rows, and malformed ones as (id, reason, json) to set aside."""
    rows: list[tuple] = []
    bad: list[tuple[str | None, str, str]] = []
    for raw in items:
        try:
            gen = Generation.model_validate(raw)
        except ValidationError as exc:
            rid = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            bad.append((rid, _reason(exc), json.dumps(_scrub(raw), default=str)[:20000]))
            continue
        try:
            row = generation_row(gen)
            if any(isinstance(v, int) and not _INT64_MIN <= v <= _INT64_MAX for v in row):
                raise OverflowError("a number is too large to store")
        except (ArithmeticError, ValueError) as exc:  # valid JSON, impossible values
            reason = f"record: a value is out of range ({type(exc).__name__})"
            bad.append((gen.id, reason, json.dumps(_scrub(raw), default=str)[:20000]))
            continue
        rows.append(row)
    return rows, bad


class SyncEngine:
    """Runs one sync: credits and account, the generations feed to its end, reference data."""

    def __init__(
        self,
        client: LowrouterClient,
        cache: Cache,
        *,
        page_limit: int = 500,
        on_progress: Callable[[SyncProgress], None] | None = None,
        cancel_event: threading.Event | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.client = client
        self.cache = cache
        self.page_limit = page_limit
        self.on_progress = on_progress or (lambda p: None)
        self.cancel_event = cancel_event or client.cancel_event
        self.clock = clock or (lambda: datetime.now(UTC))

    def _check_cancel(self, result: SyncResult) -> None:
        if self.cancel_event.is_set():
            result.error_kind = "cancelled"
            raise SyncError("Sync stopped; everything received so far is saved.", result)

    def run(self) -> SyncResult:
        """Sync everything; raises SyncError (with partial result) on the first hard failure."""
        started = time.monotonic()
        result = SyncResult()
        try:
            self.on_progress(SyncProgress("account"))
            self._snapshot(result, "account", lambda: self.client.account())
            self._snapshot(result, "credits", lambda: self.client.credits())
            self._feed(result)
            self.on_progress(SyncProgress("reference", result.pages, result.received))
            self._snapshot(result, "models", lambda: self.client.models())
            self._snapshot(result, "methodology", lambda: self.client.eco_methodology())
            self._snapshot(result, "settings", lambda: self.client.settings())
            self._snapshot(result, "keys", lambda: self.client.keys(), optional=True)
            self._snapshot(result, "routing", lambda: self.client.routing(), optional=True)
            self._invoices(result)
        except errors.Cancelled as exc:
            result.error_kind = "cancelled"
            self._fail(result, started, "Sync stopped; everything received so far is saved.", exc)
        except errors.ApiError as exc:
            result.error_kind = self._kind(exc)
            self._fail(result, started, self._describe(exc), exc)
        result.seconds = time.monotonic() - started
        result.complete = True
        self.cache.mark_synced()
        return result

    def _fail(self, result: SyncResult, started: float, message: str, exc: Exception) -> None:
        result.seconds = time.monotonic() - started
        try:
            self.cache.mark_synced(error=message)
        except Exception:  # the failure itself matters more than recording it
            log.exception("could not record the sync failure")
        raise SyncError(message, result, exc) from exc

    @staticmethod
    def _kind(exc: errors.ApiError) -> str:
        if isinstance(exc, errors.AuthError):
            return "auth"
        if isinstance(exc, errors.MalformedResponse):
            return "malformed"
        if isinstance(exc, errors.NetworkError):
            return "offline"
        return "error"

    @staticmethod
    def _describe(exc: errors.ApiError) -> str:
        if isinstance(exc, errors.AuthError):
            return f"The API key was refused: {exc.message} Nothing cached was changed."
        if isinstance(exc, errors.MalformedResponse):
            return f"Sync stopped at the last good page: {exc.message}"
        if isinstance(exc, errors.NetworkError):
            return f"Offline: {exc.message}"
        return f"Sync failed: {exc.message}"

    def _snapshot(
        self, result: SyncResult, name: str, fetch: Callable[[], Any], optional: bool = False
    ) -> None:
        self._check_cancel(result)
        try:
            value = fetch()
        except (errors.ScopeError, errors.NotFound) as exc:
            if not optional:
                raise
            result.skipped[name] = exc.message
            return
        if isinstance(value, list):
            body = [v.model_dump(mode="json") for v in value]
        else:
            body = value.model_dump(mode="json")
        if self.cache.save_snapshot(name, body):
            result.snapshots_changed.append(name)
        result.snapshots.append(name)

    def _invoices(self, result: SyncResult) -> None:
        self._check_cancel(result)
        try:
            invoices = list(self.client.iter_invoices())
        except (errors.ScopeError, errors.NotFound) as exc:
            result.skipped["invoices"] = exc.message
            return
        self.cache.save_invoices(
            (inv.id, to_ms(inv.issued_at), inv.model_dump(mode="json")) for inv in invoices
        )
        result.snapshots.append("invoices")

    def _feed(self, result: SyncResult) -> None:
        """The change feed from the saved cursor to its end.

        The next page is fetched while this one is validated and stored, so the network and
        the platform's time overlap with ours. Pages are still stored strictly in order, each
        with its own cursor, so a stop at any instant resumes where the cache says.
        """
        now_ms = to_ms(self.clock())
        first_ms: int | None = None
        fetch = partial(self.client.generations_page, limit=self.page_limit)
        with ThreadPoolExecutor(1, thread_name_prefix="lowdash-prefetch") as pool:
            ahead: Future | None = pool.submit(fetch, self.cache.feed_cursor)
            try:
                while ahead is not None:
                    self._check_cancel(result)
                    page = ahead.result()
                    if page.has_more and not page.next_cursor:
                        raise errors.MalformedResponse(
                            "the page says more follow but has no next_cursor"
                        )
                    ahead = pool.submit(fetch, page.next_cursor) if page.has_more else None
                    first_ms = self._store_page(result, page, now_ms, first_ms)
            except BaseException:
                if ahead is not None and not ahead.done():
                    self.client.cancel()  # the sync stops here: cut the page fetched ahead
                raise

    def _store_page(
        self, result: SyncResult, page: Any, now_ms: int, first_ms: int | None
    ) -> int | None:
        """Validate, store (with its cursor) and report one page; returns the first time seen."""
        rows, bad = split_page(page.data)
        result.changed += self.cache.apply_page(rows, bad, page.next_cursor)
        result.pages += 1
        result.received += len(page.data)
        result.quarantined += len(bad)
        fraction = None
        if rows:
            last_ms = rows[-1][3]
            first_ms = first_ms if first_ms is not None else rows[0][3]
            span = now_ms - first_ms
            fraction = 1.0 if span <= 0 else max(0.0, min(1.0, (last_ms - first_ms) / span))
        self.on_progress(
            SyncProgress(
                "generations", result.pages, result.received, result.changed,
                result.quarantined, fraction if page.has_more else 1.0,
            )
        )
        return first_ms
