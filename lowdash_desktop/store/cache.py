"""The local cache of one account: writes from sync, reads for the UI and exports."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from . import faults, rollup
from .db import OpenReport, connect, open_cache
from .queries import stored_count
from .rows import GENERATION_COLUMNS
from .schema import (
    FEED_CURSOR,
    GEN_COLUMNS,
    GENERATION_COUNT,
    NAME_COLUMNS,
    NAME_OF,
    RANGE_ENDS,
    VIEW_COLUMNS,
    name_crc,
    stored_cost,
    stored_end,
)

# The writer fills `gen` itself (the view `generations` is for readers): the names as their
# numbers in `names` (looked up in Python, new ones added in the page's transaction), the cost's
# text only when its nano-units do not give it back (decided in SQL, by the view's own formula).
_WRITE_COLUMNS = GEN_COLUMNS[1 : 1 + len(GENERATION_COLUMNS)]
assert [NAME_OF.get(c, c) for c in _WRITE_COLUMNS] == list(GENERATION_COLUMNS)
_COST = GENERATION_COLUMNS.index("cost")


def _stored(i: int) -> str:
    """SQL of the value stored from parameter i + 1 (the row's value i)."""
    column = GENERATION_COLUMNS[i]
    if i == _COST:
        return stored_cost(f"?{i + 1}", f"?{i + 2}")
    if column in RANGE_ENDS:
        return stored_end(f"?{i + 1}", f"?{GENERATION_COLUMNS.index(RANGE_ENDS[column]) + 1}")
    return f"?{i + 1}"


_ONE_GENERATION = f"SELECT {', '.join(VIEW_COLUMNS)} FROM generations WHERE id=?"
# The staging table: the rows as the writer numbered them, in order, nothing checked or indexed
_STAGE_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS gen_stage("
    + ", ".join(f"c{i + 1}" for i in range(len(_WRITE_COLUMNS))) + ")"
)
_STAGE_ROW = (
    f"INSERT INTO temp.gen_stage VALUES ({', '.join('?' for _ in _WRITE_COLUMNS)})"
)
_INSERT_STAGED = (
    f"INSERT INTO gen ({', '.join(_WRITE_COLUMNS)}) SELECT "
    + ", ".join(_stored(i).replace("?", "s.c") for i in range(len(_WRITE_COLUMNS)))
    + " FROM temp.gen_stage AS s WHERE true ORDER BY s.rowid ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in _WRITE_COLUMNS if c != "id")
    + " WHERE excluded.revision > gen.revision"
)
_NAME_SLOTS = tuple(GENERATION_COLUMNS.index(name) for _, name in NAME_COLUMNS)
_names_of_row = itemgetter(*_NAME_SLOTS)


def _numbered(rows: Sequence[tuple], nid: dict) -> list[tuple]:
    """The rows with each name as its number (`nid` knows every name in them, and None)."""
    return [
        (r[0], r[1], r[2], r[3], nid[r[4]], nid[r[5]], nid[r[6]], nid[r[7]], nid[r[8]], r[9],
         nid[r[10]], r[11], r[12], r[13], r[14], r[15], r[16], r[17], r[18], nid[r[19]], r[20],
         r[21], r[22], r[23], r[24], r[25], r[26], nid[r[27]], nid[r[28]], nid[r[29]])
        for r in rows
    ]


assert _NAME_SLOTS == (4, 5, 6, 7, 8, 10, 19, 27, 28, 29)  # as _numbered reads them

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
        # name -> number of every name committed in `names` (they are never renumbered or
        # removed); loaded at the first write
        self._nids: dict[str | None, int | None] | None = None
        self._staging = False  # temp.gen_stage made on this connection

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
        turn: AbstractContextManager | None = None,
    ) -> int:
        """Store one feed page and its cursor atomically; returns rows inserted or updated.

        `turn`: held while the page's rows are handed to SQLite one by one (see below).

        `rollups=False` leaves the roll-ups as they are, and so out of step (their stamps lag
        the cursor): for a sync that brings more rows than the cache held, rebuilding them
        once at its end (`rollup.rebuild`) costs less than keeping them page by page."""
        changed = 0
        added: dict[str, int] = {}
        with self.transaction() as conn:
            # The rows go to a staging table first, the only part that runs Python for each
            # row (sqlite3 gives the GIL back and takes it again around every row: beside a
            # thread decoding pages, each row waited for it, up to 15x the write's own time).
            # `turn` (held by that thread while it decodes) keeps them apart. The upsert into
            # the table and its indexes, the roll-ups and the count are then single statements
            # that run without the GIL, while the next pages are decoded.
            with turn if turn is not None else nullcontext():
                numbered = self._with_numbers(conn, rows, added)
                if not self._staging:
                    conn.execute(_STAGE_TABLE)
                    self._staging = True
                conn.executemany(_STAGE_ROW, numbered)

            def upsert() -> None:
                nonlocal changed
                (top,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM gen").fetchone()
                before = conn.total_changes
                conn.execute(_INSERT_STAGED)
                changed = conn.total_changes - before
                # a row added takes the next rowid; a revision or a replay takes none
                conn.execute(
                    "UPDATE meta SET value = value + (SELECT coalesce(max(rowid), 0) FROM gen) "
                    f"- ? WHERE key = '{GENERATION_COUNT}'", (top,))

            try:
                kept = rollup.apply_page(conn, None, upsert) if rollups else []
                if not rollups:
                    upsert()
            finally:
                conn.execute("DELETE FROM temp.gen_stage")
            received = now_ms()
            conn.executemany(
                "INSERT INTO quarantine(received_at, record_id, reason, record) "
                "VALUES (?, ?, ?, ?)",
                [(received, rid, reason, raw) for rid, reason, raw in quarantined],
            )
            if next_cursor:
                self._set_meta(conn, FEED_CURSOR, next_cursor)
            rollup.stamp(conn, kept)
        if added and self._nids is not None:  # committed: numbers from now on
            self._nids.update(added)
        return changed

    def _with_numbers(
        self, conn: sqlite3.Connection, rows: Sequence[tuple], added: dict[str, int]
    ) -> list[tuple]:
        """`rows` with their names as numbers, numbering new names inside the transaction
        (into `added`, which joins the known numbers only once it commits: a rolled-back
        number may be given to another name later)."""
        if self._nids is None:
            known: dict[str | None, int | None] = dict(
                conn.execute("SELECT name, nid FROM names").fetchall()
            )
            known[None] = None
            self._nids = known
        nids = self._nids
        width = len(GENERATION_COLUMNS)
        if any(len(row) != width for row in rows):  # as executemany would have refused them
            raise sqlite3.ProgrammingError(f"a row without the {width} values of a generation")
        new = set(chain.from_iterable(map(_names_of_row, rows))).difference(nids)
        if not new:
            return _numbered(rows, nids)
        for name in sorted(new):
            conn.execute("INSERT INTO names(name) VALUES (?) ON CONFLICT(name) DO NOTHING", (name,))
            (nid,) = conn.execute("SELECT nid FROM names WHERE name = ?", (name,)).fetchone()
            conn.execute("UPDATE names SET crc = ? WHERE nid = ? AND crc IS NULL",
                         (name_crc(nid, name), nid))
            added[name] = nid
        return _numbered(rows, {**nids, **added})

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
                "UPDATE gen SET routing=?, routing_fetched_at=? WHERE id=?",
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
        """How many generations the cache holds (kept by the writers: no count of the rows)."""
        return stored_count(self.conn)

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
        cur = self.conn.execute(_ONE_GENERATION, (gen_id,))
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
