"""The local cache of one account: writes from sync, reads for the UI and exports."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import faults, rollup
from .db import OpenReport, connect, open_cache
from .rows import GENERATION_COLUMNS
from .schema import FEED_CURSOR

_INSERT_GENERATION = (
    f"INSERT INTO generations ({', '.join(GENERATION_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in GENERATION_COLUMNS)}) "
    "ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in GENERATION_COLUMNS if c != "id")
    + " WHERE excluded.revision > generations.revision"
)

LAST_SYNC_AT = "last_sync_at"
LAST_SYNC_ERROR = "last_sync_error"

log = logging.getLogger(__name__)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Cache:
    """One SQLite cache file. Create one per thread (connections are not shared)."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path) -> tuple[Cache, OpenReport]:
        """Open for writing, repairing or migrating first (see store.db.open_cache)."""
        conn, report = open_cache(path)
        return cls(conn, path), report

    @classmethod
    def open_reader(cls, path: Path) -> Cache:
        """Another connection to an already-opened cache (e.g. for a second thread)."""
        return cls(connect(path), path)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. A full disk, a read-only folder or an I/O error raises
        `faults.DiskFault` and damage `faults.CacheDamaged` (both `CacheError`s with the
        sentence to show); the transaction is rolled back, nothing committed is touched."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._raise_translated(exc)
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:  # SQLite may have rolled back itself (a full disk)
                try:
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error as rollback_exc:
                    log.info("rollback failed: %s", rollback_exc)
            if isinstance(exc, sqlite3.Error):
                self._raise_translated(exc)
            raise

    def _raise_translated(self, exc: sqlite3.Error):
        translated = faults.translate(exc, self.path)
        if translated is exc:
            raise exc
        raise translated from exc

    # -- meta -------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def _set_meta(self, conn: sqlite3.Connection, key: str, value: str | None) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction() as conn:
            self._set_meta(conn, key, value)

    @property
    def feed_cursor(self) -> str | None:
        return self.get_meta(FEED_CURSOR)

    @property
    def last_sync_ms(self) -> int | None:
        value = self.get_meta(LAST_SYNC_AT)
        return int(value) if value else None

    # -- writes from sync -------------------------------------------------------------------
    def apply_page(
        self,
        rows: Sequence[tuple],
        quarantined: Iterable[tuple[str | None, str, str]],
        next_cursor: str | None,
        *,
        rollups: bool = True,
    ) -> int:
        """Store one feed page and its cursor atomically; returns rows inserted or updated.

        `rollups=False` leaves the roll-ups as they are, and so out of step (their stamps lag
        the cursor): for a sync that brings more rows than the cache held, rebuilding them
        once at its end (`rollup.rebuild`) costs less than keeping them page by page."""
        changed = 0
        with self.transaction() as conn:

            def upsert() -> None:
                nonlocal changed
                before = conn.total_changes
                conn.executemany(_INSERT_GENERATION, rows)
                changed = conn.total_changes - before

            if rollups:
                kept = rollup.apply_page(conn, [row[0] for row in rows], upsert)
            else:
                upsert()
                kept = []
            received = now_ms()
            conn.executemany(
                "INSERT INTO quarantine(received_at, record_id, reason, record) "
                "VALUES (?, ?, ?, ?)",
                [(received, rid, reason, raw) for rid, reason, raw in quarantined],
            )
            if next_cursor:
                self._set_meta(conn, FEED_CURSOR, next_cursor)
            rollup.stamp(conn, kept)
        return changed

    @contextmanager
    def bulk_writes(self, cache_mb: int = 64, wal_pages: int = 16_384) -> Iterator[None]:
        """A page cache big enough for a sync's indexes (SQLite's default is 2 MB) and fewer
        checkpoints while it writes; as before afterwards (the memory goes back)."""
        conn = self.conn
        old_cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        old_wal = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = {-1024 * int(cache_mb)}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {int(wal_pages)}")
        try:
            yield
        finally:
            try:
                conn.execute(f"PRAGMA cache_size = {int(old_cache)}")
                conn.execute(f"PRAGMA wal_autocheckpoint = {int(old_wal)}")
            except sqlite3.Error as exc:  # a closed or broken connection: nothing to give back
                log.info("could not restore the cache's settings: %s", exc)

    def mark_synced(self, error: str | None = None) -> None:
        """Record a finished sync, or a failed one's message. A failure that cannot be recorded
        (a full disk) is only logged: the failure itself is what the user must hear about."""
        try:
            with self.transaction() as conn:
                if error is None:
                    self._set_meta(conn, LAST_SYNC_AT, str(now_ms()))
                self._set_meta(conn, LAST_SYNC_ERROR, error)
        except faults.DiskFault as exc:
            if error is None:
                raise
            log.warning("sync failure not recorded in the cache: %s", exc.kind)

    def save_snapshot(self, name: str, body: Any) -> bool:
        """Keep the latest answer of a reference endpoint (account, credits, models, ...).

        Returns True when the answer differs from the one kept before (or is the first).
        """
        text = json.dumps(body)
        with self.transaction() as conn:
            old = conn.execute("SELECT body FROM snapshots WHERE name=?", (name,)).fetchone()
            conn.execute(
                "INSERT INTO snapshots(name, body, fetched_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET body=excluded.body, fetched_at=excluded.fetched_at",
                (name, text, now_ms()),
            )
        return old is None or old[0] != text

    def snapshot(self, name: str) -> tuple[Any, int] | None:
        row = self.conn.execute(
            "SELECT body, fetched_at FROM snapshots WHERE name=?", (name,)
        ).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    def save_routing(self, gen_id: str, routing: dict[str, Any]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE generations SET routing=?, routing_fetched_at=? WHERE id=?",
                (json.dumps(routing), now_ms(), gen_id),
            )

    def save_invoices(self, invoices: Iterable[tuple[str, int, dict[str, Any]]]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO invoices(id, issued_at, body) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET issued_at=excluded.issued_at, body=excluded.body",
                [(i, at, json.dumps(body)) for i, at, body in invoices],
            )

    # -- reads ---------------------------------------------------------------------------
    def generation_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM generations").fetchone()[0]

    def quarantine_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]

    def unresolved_quarantine_count(self) -> int:
        """Malformed records whose good copy never arrived (or that carried no id at all)."""
        return self.conn.execute(
            "SELECT count(DISTINCT coalesce(record_id, 'q' || qid)) FROM quarantine q "
            "WHERE record_id IS NULL "
            "OR NOT EXISTS (SELECT 1 FROM generations g WHERE g.id = q.record_id)"
        ).fetchone()[0]

    def revisions(self) -> dict[str, int]:
        """Every cached id with its revision (for comparing against the platform)."""
        return dict(self.conn.execute("SELECT id, revision FROM generations"))

    def generation(self, gen_id: str) -> dict[str, Any] | None:
        """One cached generation as a column dict, with `routing` decoded if fetched."""
        cur = self.conn.execute("SELECT * FROM generations WHERE id=?", (gen_id,))
        row = cur.fetchone()
        if not row:
            return None
        record = dict(zip([d[0] for d in cur.description], row, strict=True))
        record["caveats"] = json.loads(record["caveats"]) if record["caveats"] else []
        record["routing"] = json.loads(record["routing"]) if record["routing"] else None
        return record

    def invoices(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT body FROM invoices ORDER BY issued_at DESC")
        return [json.loads(r[0]) for r in rows]


class CountAhead:
    """The number of cached generations, counted on a thread of its own.

    Started as soon as the cache is open at start-up: SQLite releases the GIL while it counts
    (30 ms at a million rows from the page cache, well over 100 ms from a cold disk), so the
    count is ready by the time the UI thread has imported and built the window.
    """

    def __init__(self, path: Path):
        self._count: int | None = None
        # Connected here: each statement of the set-up on the thread would wait for the GIL
        # while the UI thread imports (up to 5 ms a time; 30-50 ms for the connection's pragmas)
        try:
            conn = connect(path)
        except sqlite3.Error:
            conn = None  # the window counts for itself
        self._thread = threading.Thread(
            target=self._run, args=(conn,), name="count-ahead", daemon=True
        )
        self._thread.start()

    def _run(self, conn: sqlite3.Connection | None) -> None:
        if conn is None:
            return
        try:
            self._count = conn.execute("SELECT count(*) FROM generations").fetchone()[0]
        except sqlite3.Error:
            pass  # the window counts for itself
        finally:
            conn.close()

    def result(self) -> int | None:
        """The count (waiting for it if need be), or None if it could not be taken."""
        self._thread.join()
        return self._count
