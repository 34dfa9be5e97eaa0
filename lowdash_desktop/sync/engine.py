"""The Qt-free sync engine: pulls the change feed and reference data into the cache."""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from typing import Any

from pydantic import ValidationError

from ..api import errors
from ..api.client import LowrouterClient
from ..api.models import Generation
from ..store import db, rollup
from ..store.cache import Cache
from ..store.rows import generation_row, to_ms
from .fastpath import decode_page, fast_row

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
    # offline, auth, malformed, cancelled, error; cursor (the platform refused the saved feed
    # position: a full resync is the way out); waiting (the platform asked us to wait longer
    # than a sync waits: `retry_at`)
    error_kind: str | None = None
    retry_at: float | None = None  # epoch seconds the platform asked us to wait until
    notes: list[str] = field(default_factory=list)  # contract deviations that lost nothing

    def summary(self) -> str:
        text = (
            f"{self.received} generation records in {self.pages} pages, "
            f"{self.changed} new or updated"
        )
        if self.quarantined:
            text += f", {self.quarantined} malformed set aside"
        if self.notes:
            text += "; " + "; ".join(self.notes)
        return text


class CursorRefused(errors.ApiError):
    """The platform no longer accepts the saved feed position."""

    code = "cursor_refused"


class SyncError(Exception):
    """A sync stopped early; `result` holds what was stored before it stopped."""

    def __init__(self, message: str, result: SyncResult, cause: Exception | None = None):
        super().__init__(message)
        self.message = message
        self.result = result
        self.cause = cause


# A record set aside keeps its shape to this depth and this many characters of JSON: enough
# to see what was wrong, bounded whatever the platform sent.
_ASIDE_DEPTH = 12
_ASIDE_CHARS = 20000


def _scrub(record: Any, depth: int = 0) -> Any:
    """The record without content fields, cut at _ASIDE_DEPTH (never recursing without bound)."""
    if isinstance(record, dict | list) and depth >= _ASIDE_DEPTH:
        return "…"
    if isinstance(record, dict):
        # a content-named field is dropped when it could hold text (tokens.prompt, a count,
        # stays: it is what tells why a record was set aside)
        return {
            str(k)[:200]: _scrub(v, depth + 1)
            for k, v in record.items()
            if k not in _CONTENT_FIELDS or isinstance(v, int | float | bool) or v is None
        }
    if isinstance(record, list):
        return [_scrub(v, depth + 1) for v in record]
    if isinstance(record, str) and len(record) > _ASIDE_CHARS:
        return record[:_ASIDE_CHARS] + "…"
    return record


def _aside(raw: Any) -> str:
    """The JSON kept of a malformed record: scrubbed, bounded, always serialisable."""
    try:
        text = json.dumps(_scrub(raw), default=str, allow_nan=True)
    except (ValueError, TypeError, RecursionError, OverflowError):
        text = json.dumps(repr(type(raw)))
    return text[:_ASIDE_CHARS]


def _record_id(raw: Any) -> str | None:
    rid = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(rid, str):
        return None
    # a lone surrogate cannot be stored as UTF-8: it is shown replaced
    return rid[:256].encode("utf-8", "replace").decode("utf-8")


def _storable(row: tuple) -> bool:
    """True when every text of the row is valid Unicode (JSON's \\ud800 escapes make lone
    surrogates, which SQLite cannot store: one such record must not stop the page)."""
    try:
        "".join(v for v in row if isinstance(v, str)).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_UNSTORABLE = "record: a text holds a lone surrogate (not valid Unicode)"
# A page this much larger than the limit asked for is not a page (3,000,000 nulls in 15 MB):
# refused before its records are judged one by one.
PAGE_OVER_LIMIT = 10
# the same records under new positions this many times: a feed going round in a circle
MAX_SAME_PAGE = 20


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ())) or "record"
    return f"{where}: {first.get('msg', 'invalid')}"


_CREATED_AT = itemgetter(3)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# the columns of a row that hold integers from the platform (seq, revision, created_at,
# latency_ms, streamed, the token counts, cost_nanos); the others are text or floats
_INT_COLUMNS = itemgetter(1, 2, 3, 9, 11, 12, 13, 14, 15, 16, 18)


def _fits(row: tuple) -> bool:
    """True when every integer of the row fits SQLite's 64 bits."""
    values = [v for v in _INT_COLUMNS(row) if v is not None]
    return _INT64_MIN <= min(values) and max(values) <= _INT64_MAX


def split_page(items: list[Any]) -> tuple[list[tuple], list[tuple[str | None, str, str]]]:
    """Valid records as cache rows, and malformed ones as (id, reason, json) to set aside.

    Every record is judged on its own: whatever one record makes fail (validation, conversion,
    a number out of range) sets that record aside with its reason, never the page.
    """
    rows: list[tuple] = []
    bad: list[tuple[str | None, str, str]] = []
    for raw in items:
        row = fast_row(raw)  # the usual record, twice as fast; anything else: the model decides
        if row is not None and _fits(row):
            if _storable(row):
                rows.append(row)
            else:
                bad.append((_record_id(raw), _UNSTORABLE, _aside(raw)))
            continue
        try:
            gen = Generation.model_validate(raw)
        except ValidationError as exc:
            bad.append((_record_id(raw), _reason(exc), _aside(raw)))
            continue
        except RecursionError:
            bad.append((_record_id(raw), "record: nested too deeply", _aside(raw)))
            continue
        except Exception as exc:  # noqa: BLE001 - one record never stalls the feed
            reason = f"record: cannot be read ({type(exc).__name__})"
            bad.append((_record_id(raw), reason, _aside(raw)))
            continue
        try:
            row = generation_row(gen)
            if any(isinstance(v, int) and not _INT64_MIN <= v <= _INT64_MAX for v in row):
                raise OverflowError("a number is too large to store")
        except Exception as exc:  # noqa: BLE001 - valid JSON, impossible values
            reason = f"record: a value is out of range ({type(exc).__name__})"
            bad.append((gen.id, reason, _aside(raw)))
            continue
        rows.append(row)
    return rows, bad


def _page_ids(page: Any) -> tuple:
    """The records' ids of a page, in order (None for a record without a usable one)."""
    rows = getattr(page, "rows", None)
    if rows is not None:  # every record was valid: its id is its row's first column
        return tuple(row[0] for row in rows)
    return tuple(r.get("id") if isinstance(r, dict) else None for r in page.data)


# A cursor is opaque, but it travels in a URL and is saved: printable ASCII, bounded.
MAX_CURSOR_CHARS = 2048
# has_more with this many empty pages in a row is a feed that does not end
MAX_EMPTY_PAGES = 50
# Pages are replayable, so a stale page (a proxy's cache, a replay) may hand back a position
# already read; the client goes on from there. A position handed back this many times, or this
# many steps back in one sync, is a feed going round in a circle.
MAX_CURSOR_VISITS = 12
MAX_STEPS_BACK = 200
# one sync ends (resumably: every page is saved with its cursor) after this long
SYNC_DEADLINE_S = 3600.0
# Pages are stored in batches: one transaction (the pages' rows and the cursor after the last
# of them) once this many records wait, or this long after the last commit, and always before
# the sync ends, however it ends. A commit per page spent most of a fast sync writing the same
# index pages to the WAL again and again (docs/performance.md).
BATCH_RECORDS = 10_000
BATCH_SECONDS = 1.0
# Into a big cache, each batch touches leaves all over the indexes and writes them again:
# batches grow with the cache (x2 from 500k rows, up to x4 from a million: 40,000 records or
# 4 s), so each leaf is written once for more rows (-20 % of SQLite's CPU at 300k rows in
# random order). A stop loses at most one batch, fetched again on resume.
BATCH_GROWS_EVERY = 25 * BATCH_RECORDS
BATCH_SCALE_MAX = 4


def _sentence(quoted: str) -> str:
    """The platform's words, quoted, ending as a sentence ends (a message is followed by more)."""
    quoted = quoted.rstrip()
    return quoted if not quoted or quoted[-1] in ".!?…" else quoted + "."


def cursor_problem(cursor: Any) -> str | None:
    """Why a next_cursor cannot be saved, or None when it can."""
    if not isinstance(cursor, str) or not cursor:
        return "the page says more follow but has no next_cursor"
    if len(cursor) > MAX_CURSOR_CHARS:
        return f"its next_cursor is {len(cursor):,} characters long (at most {MAX_CURSOR_CHARS:,})"
    if not all("!" <= ch <= "~" for ch in cursor):
        return "its next_cursor holds characters a cursor cannot have"
    return None


class _Batch:
    """Validated pages waiting to be stored in one transaction with the cursor after the last.

    The cursor saved is always the one that follows the rows saved with it, so a stop at any
    instant (kill -9 included) resumes at the first page not stored; pages fetched but not yet
    stored are fetched again.
    """

    def __init__(self, cache: Cache, result: SyncResult, writer: ThreadPoolExecutor,
                 turn: threading.Lock | None = None) -> None:
        self.turn = turn  # held while a page is decoded, and while rows go to SQLite one by one
        self.cache = cache
        self.result = result
        self.rows: list[tuple] = []
        self.bad: list[tuple[str | None, str, str]] = []
        self.cursor: str | None = None
        self.pages = 0
        self.since = time.monotonic()
        # One batch at a time is written on `writer` while the next pages are fetched and
        # judged: SQLite runs without the GIL, so the two overlap. Batches are written in
        # order, each in its own transaction with its cursor.
        self.writer = writer
        self.writing: Future | None = None
        # Roll-ups are kept page by page while the sync has stored fewer rows than the cache
        # held when it began; past that (a first sync, a big backfill) they are left out of
        # step and rebuilt once at the end (`SyncEngine._rebuild_rollups`): one grouping of
        # every row costs less than keeping them for that many new ones.
        self.rows_at_start = cache.generation_count()
        self.stored = 0
        self.rollups = self.rows_at_start > 0
        self.bulk = False  # the query indexes are left out from the first bulk batch on
        self.scale = 1
        self._rescale()

    def _rescale(self) -> None:
        rows = self.rows_at_start + self.stored  # about the cache's size, revisions aside
        self.scale = max(1, min(BATCH_SCALE_MAX, rows // (BATCH_GROWS_EVERY * 2) * 2))

    def add(self, rows: list[tuple], bad: list[tuple[str | None, str, str]],
            cursor: str | None) -> None:
        self.rows += rows
        self.bad += bad
        self.cursor = cursor
        self.pages += 1

    def due(self) -> bool:
        return (len(self.rows) + len(self.bad) >= BATCH_RECORDS * self.scale
                or time.monotonic() - self.since >= BATCH_SECONDS * self.scale)

    def flush(self, *, wait: bool = False) -> None:
        """Start storing the waiting pages once the batch before them is stored (whose error,
        a full disk say, is raised here); `wait`: and wait until they are. Nothing waits
        afterwards, even when storing fails."""
        self.wait()
        if self.pages:
            rows, bad, cursor = self.rows, self.bad, self.cursor
            self.rows, self.bad, self.cursor, self.pages = [], [], None, 0
            # In time order the indexes take the rows near one another: a feed out of order
            # (a backfill) touched leaves all over six B-trees, ~15 % more of SQLite's time.
            # (Stable: two versions of a record keep their order; the revision decides anyway.)
            rows.sort(key=_CREATED_AT)
            self.stored += len(rows)
            if self.stored >= self.rows_at_start:
                self.rollups = False
            store = partial(self.cache.apply_page, rollups=self.rollups, turn=self.turn)
            if not self.rollups and not self.bulk:
                # the query indexes too, from here on: built again, sorted and packed, at the
                # feed's end (`SyncEngine._finish_bulk`); kept row by row in a feed's order
                # they cost more than half of SQLite's time (docs/performance.md)
                self.bulk = True
                store = partial(self._bulk_from_here, self.cache, self.turn)
            self._rescale()
            self.writing = self.writer.submit(store, rows, bad, cursor)
            self.since = time.monotonic()
        if wait:
            self.wait()

    @staticmethod
    def _bulk_from_here(cache: Cache, turn: threading.Lock | None, rows: list[tuple], bad: list,
                        cursor: str | None) -> int:
        db.drop_query_indexes(cache.conn)
        return cache.apply_page(rows, bad, cursor, rollups=False, turn=turn)

    def wait(self) -> None:
        """Wait for the batch being written, if any; raises what storing it raised."""
        writing, self.writing = self.writing, None
        if writing is not None:
            self.result.changed += writing.result()


# Pages fetched and decoded ahead of the one being stored, at most: the network and the
# decoding go on while the writer stores a batch, and memory stays bounded (a page is at most
# the client's byte cap; PAGE_OVER_LIMIT bounds its records).
PAGES_AHEAD = 8


def _in_turn(turn: threading.Lock, decode: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with turn:
        return decode(*args, **kwargs)


class _Prefetch:
    """Fetches and decodes the feed's pages on a thread of its own, up to PAGES_AHEAD ahead of
    the engine, in order; each from the cursor the page before it handed out.

    It stops after a page with nothing more to follow, a cursor that cannot be used (the
    engine decides what to say about it), an error (handed over in its place: it surfaces
    after the pages before it, as if fetched then), or `stop`. Fetching is only reading: pages
    fetched ahead and never stored are fetched again by the next sync.
    """

    def __init__(self, fetch: Callable[[str | None], tuple[Any, Any]], cursor: str | None,
                 depth: int = PAGES_AHEAD) -> None:
        self._pages: queue.Queue[tuple[Any, Any, BaseException | None]] = queue.Queue(depth)
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # stopping and starting a fetch: one or the other first
        self._fetching = False
        self._thread = threading.Thread(target=self._run, args=(fetch, cursor),
                                        name="lowdash-prefetch")
        self._thread.start()

    def _run(self, fetch: Callable[[str | None], tuple[Any, Any]],
             cursor: str | None) -> None:
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                self._fetching = True
            try:
                page, split = fetch(cursor)
            except BaseException as exc:  # noqa: BLE001 - handed to the engine, in order
                self._pages.put((None, None, exc))
                return
            finally:
                with self._lock:
                    self._fetching = False
            self._pages.put((page, split, None))
            if not page.has_more or cursor_problem(page.next_cursor) is not None:
                return
            cursor = page.next_cursor

    def next(self, check_cancel: Callable[[], None]) -> tuple[Any, Any]:
        """The next page and its records judged; raises what fetching it raised. Waits for
        it, checking `check_cancel` meanwhile (a cancel normally cuts the request too)."""
        while True:
            try:
                page, split, exc = self._pages.get(timeout=0.1)
            except queue.Empty:
                check_cancel()
                continue
            if exc is not None:
                raise exc
            return page, split

    def stop(self) -> bool:
        """Fetch nothing more and let the thread end: the pages waiting are dropped, which
        frees one blocked in handing a page over (it then sees `_stopping`). True when a
        request was in flight: the caller cuts it or waits for it."""
        with self._lock:
            self._stopping.set()
            busy = self._fetching
        while True:
            try:
                self._pages.get_nowait()
            except queue.Empty:
                return busy

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)


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
        full_resync: bool = False,
        deadline_s: float = SYNC_DEADLINE_S,
    ):
        self.client = client
        self.cache = cache
        self.page_limit = page_limit
        # read the feed from its start (the saved cursor was refused); cached rows are kept and
        # the newest revision of each still wins
        self.full_resync = full_resync
        self.deadline_s = deadline_s
        self._started = time.monotonic()
        self.on_progress = on_progress or (lambda p: None)
        self.cancel_event = cancel_event or client.cancel_event
        self.clock = clock or (lambda: datetime.now(UTC))

    def _check_cancel(self, result: SyncResult) -> None:
        if self.cancel_event.is_set():
            result.error_kind = "cancelled"
            raise SyncError("Sync stopped; everything received so far is saved.", result)

    def run(self) -> SyncResult:
        """Sync everything; raises SyncError (with partial result) on the first hard failure."""
        started = self._started = time.monotonic()
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
            if isinstance(exc, errors.RateLimited) and exc.retry_at is not None:
                result.retry_at = exc.retry_at
            self._fail(result, started, self._describe(exc, result), exc)
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
        if isinstance(exc, CursorRefused):
            return "cursor"
        if isinstance(exc, errors.RateLimited) and exc.retry_at is not None:
            return "waiting"
        if isinstance(exc, errors.MalformedResponse):
            return "malformed"
        if isinstance(exc, errors.NetworkError):
            return "offline"
        if isinstance(exc, errors.TlsError):
            return "tls"  # a certificate or CA bundle to correct: Preferences, not Retry
        return "error"

    @staticmethod
    def _describe(exc: errors.ApiError, result: SyncResult) -> str:
        stored = result.received
        kept = (
            f"The {result.received:,} records received before it are saved."
            if stored else "Nothing cached was changed."
        )
        if isinstance(exc, errors.AuthError):
            return f"The API key was refused: {_sentence(exc.message)} {kept}"
        if isinstance(exc, CursorRefused):
            return exc.message
        if isinstance(exc, errors.RateLimited) and exc.retry_at is not None:
            return f"Sync paused: {_sentence(exc.message)} {kept}"
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
        except errors.MalformedResponse as exc:
            if name == "account":  # who the cache belongs to: nothing goes on without it
                raise
            # reference data: the cached copy stays; the history already synced is kept
            log.warning("kept the cached %s: %s", name, exc.message)
            result.skipped[name] = exc.message
            result.notes.append(f"kept the cached {name} (the platform's answer was malformed)")
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
            invoices = self._bounded_invoices()
        except (errors.ScopeError, errors.NotFound) as exc:
            result.skipped["invoices"] = exc.message
            return
        except errors.MalformedResponse as exc:
            log.warning("kept the cached invoices: %s", exc.message)
            result.skipped["invoices"] = exc.message
            result.notes.append("kept the cached invoices (the platform's answer was malformed)")
            return
        self.cache.save_invoices(
            (inv.id, to_ms(inv.issued_at), inv.model_dump(mode="json")) for inv in invoices
        )
        result.snapshots.append("invoices")

    def _bounded_invoices(self) -> list[Any]:
        """Every invoice page, with the feed's guards: no loop, no endless paging."""
        invoices: list[Any] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(10_000):
            page = self.client.invoices_page(cursor)
            invoices.extend(page.data)
            if not page.has_more:
                return invoices
            problem = cursor_problem(page.next_cursor)
            if problem is None and page.next_cursor in seen:
                problem = "its next_cursor was already handed out"
            if problem is not None:
                raise errors.MalformedResponse(f"an invoice page is broken: {problem}")
            cursor = page.next_cursor
            seen.add(cursor)
            self._check_deadline()
        raise errors.MalformedResponse("the invoice list did not end after 10,000 pages")

    def _check_deadline(self) -> None:
        if time.monotonic() - self._started > self.deadline_s:
            raise errors.ApiError(
                f"it ran for more than {self.deadline_s / 60:.0f} minutes and was stopped; "
                "everything received so far is saved, and the next sync goes on from there.",
                code="sync_deadline",
            )

    def _feed(self, result: SyncResult) -> None:
        """The change feed from the saved cursor to its end.

        Pages are fetched and decoded ahead on a thread of their own (`_Prefetch`) while
        earlier ones are judged here and stored on the writer's thread, so the network, the
        platform's time, the decoding and SQLite overlap. Pages are still stored strictly in
        order, each batch with the cursor after its last page, so a stop at any instant
        resumes where the cache says.
        """
        now_ms = to_ms(self.clock())
        first_ms: int | None = None
        # Decoding a page and handing rows to SQLite one by one both need the GIL all along:
        # they take turns, so neither waits for the other at every row (docs/performance.md)
        turn = threading.Lock()
        fetch = partial(self._fetch_page, partial(self.client.generations_page,
                                                  fast=partial(_in_turn, turn, decode_page)),
                        self.page_limit)
        cursor = None if self.full_resync else self.cache.feed_cursor
        seen: dict[str, int] = {cursor: 1} if cursor else {}  # position -> times handed out
        empty_run = 0
        same_pages: dict[int, int] = {}  # the records' ids of a page -> times received
        with (self.cache.bulk_writes(),
              ThreadPoolExecutor(1, thread_name_prefix="lowdash-store") as writer):
            batch = _Batch(self.cache, result, writer, turn)
            ahead = _Prefetch(fetch, cursor)
            try:
                more = True
                while more:
                    self._check_cancel(result)
                    try:
                        page, split = ahead.next(partial(self._check_cancel, result))
                    except errors.HttpError as exc:
                        if cursor and result.pages == 0 and exc.status in (400, 410, 422):
                            raise self._cursor_refused(exc) from exc
                        raise
                    if len(page.data) > self.page_limit and not result.notes:
                        result.notes.append(
                            f"the platform sent pages larger than asked ({len(page.data)} "
                            f"records for a limit of {self.page_limit}); all were kept"
                        )
                    empty_run = 0 if page.data else empty_run + 1
                    problem = self._feed_problem(page, seen, empty_run)
                    if problem is None and page.has_more and page.data:
                        ids = hash(_page_ids(page))
                        same_pages[ids] = same_pages.get(ids, 0) + 1
                        if same_pages[ids] > MAX_SAME_PAGE:
                            problem = ("it keeps sending the same records under new positions, "
                                       "so it would never end")
                    if problem is not None:
                        # this page's records are kept; the saved position stays where it was
                        # (replaying a page is always valid), so nothing is skipped
                        first_ms = self._store_page(result, batch, page, split, now_ms,
                                                    first_ms, cursor)
                        batch.flush(wait=True)
                        raise errors.MalformedResponse(f"the platform's feed is broken: {problem}")
                    more = page.has_more
                    nxt = page.next_cursor if more else None
                    if not more and cursor_problem(page.next_cursor) is not None:
                        keep = cursor  # the last page's cursor is unusable: keep the old one
                        if page.next_cursor is not None:
                            result.notes.append(
                                "the platform's last feed position could not be saved "
                                f"({cursor_problem(page.next_cursor)}); the next sync reads "
                                "again from the last position saved")
                    else:
                        keep = page.next_cursor
                    first_ms = self._store_page(result, batch, page, split, now_ms, first_ms,
                                                keep)
                    if not more:
                        batch.flush(wait=True)
                        self._finish_bulk(rollups=not batch.rollups)
                    elif batch.due():
                        batch.flush()
                    if nxt is not None:
                        seen[nxt] = seen.get(nxt, 0) + 1
                        cursor = nxt
                    self._check_deadline()
            except BaseException:
                if ahead.stop():
                    self.client.cancel()  # the sync stops here: cut the page fetched ahead
                # what was received is saved, with its cursor, however the sync stops
                batch.flush(wait=True)
                raise
            finally:
                ahead.stop()
                ahead.join()

    def _finish_bulk(self, rollups: bool) -> None:
        """At the feed's end: the query indexes a bulk write left out (or a sync before this
        one, stopped before its end), then the roll-ups it left out of step."""
        try:
            db.ensure_indexes(self.cache.conn)
        except sqlite3.Error as exc:  # the window builds them at its next start
            log.info("query indexes left for later: %s", exc)
        if rollups:
            self._rebuild_rollups()

    def _rebuild_rollups(self) -> None:
        """Rebuild the roll-ups left out of step by a big sync (seconds at a million rows,
        without the GIL). One that cannot be rebuilt now is rebuilt by the window's workers,
        which find it out of step; the figures come from the rows meanwhile."""
        for roll_up in rollup.ALL:
            try:
                if rollup.exists(self.cache.conn, roll_up):
                    rollup.rebuild(self.cache.conn, roll_up)
            except sqlite3.Error as exc:
                log.info("roll-up %s left for a later rebuild: %s", roll_up.table, exc)

    @staticmethod
    def _feed_problem(page: Any, seen: dict[str, int], empty_run: int) -> str | None:
        """Why the feed cannot go on after this page, or None."""
        if not page.has_more:
            return None
        problem = cursor_problem(page.next_cursor)
        if problem is not None:
            return problem
        steps_back = sum(seen.values()) - len(seen)
        if seen.get(page.next_cursor, 0) >= MAX_CURSOR_VISITS or steps_back >= MAX_STEPS_BACK:
            return (
                "it keeps handing back positions it had already given in this sync, so it "
                "would never end"
            )
        if empty_run >= MAX_EMPTY_PAGES:
            return f"it sent {empty_run} empty pages in a row and still said more would follow"
        return None

    @staticmethod
    def _cursor_refused(exc: errors.ApiError) -> CursorRefused:
        return CursorRefused(
            f"The platform no longer accepts the saved position in its feed (HTTP {exc.status}: "
            f"{exc.message}). A full resync reads the feed again from its start and keeps every "
            "cached row: run `lowdash sync --full-resync`, or choose \"Resync from the start\" "
            "in the window.",
            status=exc.status,
        )

    @staticmethod
    def _fetch_page(get: Callable[..., Any], limit: int, cursor: str | None) -> tuple[Any, Any]:
        """One feed page and its records judged (`split_page`), on the prefetch thread: the
        Python work of validating a page overlaps SQLite storing the one before (which runs
        without the GIL) instead of following it."""
        page = get(cursor, limit=limit)
        if len(page.data) > max(PAGE_OVER_LIMIT * limit, 1000):
            raise errors.MalformedResponse(
                f"a feed page holds {len(page.data):,} records for a limit of {limit}"
            )
        rows = getattr(page, "rows", None)  # decided from its bytes (fastpath.decode_page)
        return page, ((rows, []) if rows is not None else split_page(page.data))

    def _store_page(
        self, result: SyncResult, batch: _Batch, page: Any,
        split: tuple[list[tuple], list[tuple[str | None, str, str]]], now_ms: int,
        first_ms: int | None, cursor: str | None,
    ) -> int | None:
        """Queue one judged page (with `cursor`) in `batch` and report it; returns the first
        time seen. The caller flushes the batch."""
        rows, bad = split
        batch.add(rows, bad, cursor)
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
