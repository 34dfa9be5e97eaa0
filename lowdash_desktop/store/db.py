"""Opening the cache: corruption check, safety copy, migrations, WAL."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import faults, rollup
from .faults import CacheError, damaged_marker
from .schema import LATEST_VERSION, MIGRATIONS, name_crc

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"


__all__ = ["CacheError", "damaged_marker"]  # defined in store.faults, used from here


@dataclass
class OpenReport:
    """What happened while opening: things the user should be told about."""

    path: Path
    moved_aside: Path | None = None
    safety_copy: Path | None = None
    migrated_from: int | None = None
    notes: list[str] = field(default_factory=list)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


class _Connection(sqlite3.Connection):
    """A cache connection that `interrupt_all()` can reach (plain ones take no weak reference)."""


_open_connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
_open_lock = threading.Lock()


def _tracked(database: str | Path, **kwargs) -> sqlite3.Connection:
    conn = sqlite3.connect(database, factory=_Connection, **kwargs)
    name = str(database)  # the file, for interrupt_all(of=...): "file:<path>?mode=ro" too
    conn.database = name[5:].split("?", 1)[0] if name.startswith("file:") else name
    with _open_lock:
        _open_connections.add(conn)
    return conn


def interrupt_all(of: str | Path | None = None) -> int:
    """Interrupt the statement running on every open cache connection (of the cache file
    `of` only, if given), on any thread.

    For quitting, or closing one account's window: a query of several seconds on a worker
    thread (the eco report of a big cache) stops at once with
    `sqlite3.OperationalError: interrupted`. Returns the connections reached.
    """
    with _open_lock:
        conns = [c for c in _open_connections if of is None or c.database == str(of)]
    for conn in conns:
        try:
            conn.interrupt()
        except sqlite3.ProgrammingError:  # closed meanwhile
            pass
    return len(conns)


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the pragmas every user of the cache wants.

    A full disk, a read-only folder or an unreadable file raises `faults.DiskFault` (still an
    `sqlite3.OperationalError`) with the sentence to show.
    """
    try:
        return _connect(path, readonly=readonly)
    except sqlite3.Error as exc:
        translated = faults.translate(exc, path)
        if translated is exc:
            raise
        raise translated from exc


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = _tracked(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = _tracked(path, check_same_thread=False)
    try:
        conn.isolation_level = None  # explicit BEGIN/COMMIT only
        conn.execute("PRAGMA busy_timeout = 5000")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    """0 for an empty database."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
    ).fetchone()
    if not row:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    return int(row[0]) if row else 0


# What is checked, when (sizes count the file and its WAL; measured warm on this machine):
# - `PRAGMA quick_check` reads every page and checks the b-trees' structure, but not that the
#   indexes agree with the table (3 ms per MB; 1.8 s for a million generations, 574 MB).
# - `PRAGMA integrity_check` checks that too: every row against every index (11-14 ms per MB
#   for a small cache, 22 s for a million generations). Only it sees a damaged index, which
#   silently drops or adds rows to anything read through that index.
# At open: the header and declared size always; up to FULL_CHECK_AT_OPEN_MAX_BYTES (about
# 3,500 generations, <= 20 ms) the full integrity_check; up to QUICK_CHECK_AT_OPEN_MAX_BYTES
# quick_check (<= 25 ms); above, the schema only. Every cache not fully checked at open gets the
# full check later, off the UI thread, at most once a day (`integrity_check`); damage found
# then is noted beside the file, and the next open moves the cache aside. A CSV export
# cross-checks its row count against a scan of the table that uses no index (0.1-0.35 s at a
# million rows), so a damaged index never yields a short export.
FULL_CHECK_AT_OPEN_MAX_BYTES = 2 * 1024 * 1024
QUICK_CHECK_AT_OPEN_MAX_BYTES = 8 * 1024 * 1024
INTEGRITY_CHECK_EVERY_MS = 24 * 60 * 60 * 1000
INTEGRITY_CHECKED_AT = "integrity_checked_at"


def cache_bytes(path: Path) -> int:
    """The cache's size on disk: the file and its write-ahead log (committed rows live there
    until a checkpoint)."""
    size = path.stat().st_size
    try:
        size += path.with_name(path.name + "-wal").stat().st_size
    except FileNotFoundError:
        pass
    return size


def _fully_checked_at_open(size: int) -> bool:
    return size <= QUICK_CHECK_AT_OPEN_MAX_BYTES and size <= FULL_CHECK_AT_OPEN_MAX_BYTES


def _header_problem(path: Path, size: int, wal: bool = False) -> str | None:
    with path.open("rb") as fh:
        header = fh.read(100)
    if header[:16] != SQLITE_MAGIC:
        return "the file is not an SQLite database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if len(header) < 100 or page_size < 512 or page_size & (page_size - 1):
        return "its header is damaged"
    pages = int.from_bytes(header[28:32], "big")
    # the declared size counts only when the change counter matches "version valid for", and
    # only without a WAL: a checkpoint cut short (a full disk) leaves page 1 written but the
    # file not yet grown, while the WAL still holds every page
    if pages and not wal and header[24:28] == header[92:96] and size < pages * page_size:
        return "the file is shorter than its header says: it was cut off"
    return None


def _quick_check(conn: sqlite3.Connection, *, full: bool = False) -> str | None:
    """SQLite's check of every page (`full`: and of every index against its table): None when
    healthy, else the first problem it names."""
    pragma = "integrity_check" if full else "quick_check"
    result = conn.execute(f"PRAGMA {pragma}(1)").fetchone()
    if result and result[0] == "ok":
        return None
    return f"integrity check failed ({result[0] if result else 'no answer'})"


def _looks_corrupt(path: Path) -> str | None:
    """A reason if the file is not a healthy SQLite database, else None.

    Only damage is a reason: a disk fault (full, read-only, unreadable, I/O error) or a busy
    lock raises `faults.DiskFault` / `CacheError` instead, and the cache stays where it is.
    """
    try:
        marker = damaged_marker(path)
        if marker.exists():
            reason = marker.read_text("utf-8", errors="replace").strip()
            return reason or "an integrity check found damage"
        size = path.stat().st_size
        if size == 0:
            return None  # an empty file is simply a new database
        checked = cache_bytes(path)
        problem = _header_problem(path, size, wal=checked > size)
        if problem:
            return problem
    except OSError as exc:
        raise faults.disk_fault(exc, path) from exc
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if checked <= QUICK_CHECK_AT_OPEN_MAX_BYTES:
                problem = _quick_check(conn, full=_fully_checked_at_open(checked))
                if problem:
                    return problem
            else:  # reads and parses the schema; every page is checked later, off the UI
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            schema_version(conn)
            problem = names_problem(conn)
            if problem:
                return problem
        finally:
            conn.close()
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        _raise_unless_damage(exc, path)
        return f"SQLite cannot read it ({exc})"
    return None


def names_problem(conn: sqlite3.Connection) -> str | None:
    """Whether a name no longer matches the check kept beside it (schema 3; ~1 ms for a few
    thousand names): None when every one does, else the damage to report."""
    has = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'names'")
    if has.fetchone() is None:
        return None
    try:
        rows = conn.execute("SELECT nid, name, crc FROM names WHERE crc IS NOT NULL").fetchall()
    except UnicodeDecodeError:
        return "a stored name is not valid text"
    for nid, name, crc in rows:
        if not isinstance(name, str) or name_crc(nid, name) != crc:
            return f"a stored name does not match its check (number {nid})"
    return None


def _raise_unless_damage(exc: BaseException, path: Path) -> None:
    """Raise what `exc` is when it is not damage (a disk fault, a busy lock, an interruption)."""
    kind = faults.classify(exc)
    if kind in faults.DISK_KINDS:
        raise faults.disk_fault(exc, path) from exc
    if kind == faults.BUSY:
        raise CacheError(
            f"The cache at {path} is locked by another program; nothing was changed. "
            "Close it and try again."
        ) from exc
    if kind == faults.INTERRUPTED:
        raise exc


def integrity_check_due(path: Path, conn: sqlite3.Connection, now_ms: int) -> bool:
    """True for a cache too big to be checked whole at open and not checked for a day."""
    try:
        if _fully_checked_at_open(cache_bytes(path)):
            return False
        row = conn.execute(
            "SELECT value FROM meta WHERE key = ?", (INTEGRITY_CHECKED_AT,)
        ).fetchone()
    except (OSError, sqlite3.Error):
        return False
    try:
        return not row or now_ms - int(row[0]) >= INTEGRITY_CHECK_EVERY_MS
    except ValueError:
        return True


def integrity_check(path: Path, conn: sqlite3.Connection, now_ms: int) -> str | None:
    """Check every page and every index of the cache; the reason when damaged, else None.

    Takes seconds on a big cache (22 s at a million generations): run it off the UI thread;
    `conn.interrupt()` stops it (the interruption is raised, not reported as damage; so is a
    disk fault, as `faults.DiskFault`). Damage is noted beside the file, so the next open moves
    the cache aside; a healthy result is stamped in meta.
    """
    try:
        problem = _quick_check(conn, full=True)
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        _raise_unless_damage(exc, path)
        problem = f"SQLite cannot read it ({exc})"
    if problem:
        faults.note_damage(path, problem)
        return problem
    try:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (INTEGRITY_CHECKED_AT, str(now_ms)),
        )
    except sqlite3.OperationalError as exc:  # busy for long: checked again next time
        log.info("integrity check not stamped: %s", exc)
    return None


def move_aside(path: Path, reason: str) -> Path:
    """Rename a bad cache (and its WAL files) out of the way, keeping it for inspection."""
    target = path.with_name(f"{path.name}.corrupt-{_stamp()}")
    try:
        path.rename(target)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(target.with_name(target.name + suffix))
        damaged_marker(path).unlink(missing_ok=True)
    except OSError as exc:
        fault = faults.disk_fault(exc, path)
        raise CacheError(
            f"The local cache is damaged ({reason}) and cannot be moved aside: {fault.message}"
        ) from exc
    log.warning("cache moved aside to %s: %s", target, reason)
    return target


def _safety_copy(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """A copy of the cache before it is migrated from `version`; the one an upgrade that was
    stopped (kill -9, a full disk, another process) made is used again if nothing was written
    to the cache since: copies of a big cache do not pile up on a disk that is filling."""
    earlier = _earlier_copy(conn, path, version)
    if earlier is not None:
        return earlier
    target = path.with_name(f"{path.name}.v{version}-backup-{_stamp()}")
    if target.exists():  # another process's copy of the same second
        target = target.with_name(f"{target.name}-{os.getpid()}")
    # renamed once whole; its own name, should another process copy at the same moment
    partial = target.with_name(f"{target.name}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        dest = sqlite3.connect(partial)
        try:
            dest.execute("PRAGMA journal_mode = OFF")  # a fresh file: nothing to roll back to
            conn.backup(dest)
            # one self-contained file (the copy came in WAL mode, as the cache is): opening
            # it later leaves no -wal or -shm beside it
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
        partial.replace(target)
    except BaseException as exc:
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            leftover.unlink(missing_ok=True)  # no half copy left behind (a full or read-only disk)
        if isinstance(exc, OSError):
            raise faults.disk_fault(exc, target) from exc
        raise
    return target


STOPPED_COPY_AGE_S = 600  # a copy being made is written to more often than this


def _fingerprint(conn: sqlite3.Connection) -> tuple:
    """What tells two caches of one schema apart: every page stored moves the feed cursor."""
    cursor = conn.execute("SELECT value FROM meta WHERE key = 'feed_cursor'").fetchone()
    rows = conn.execute("SELECT count(*), max(rowid) FROM generations").fetchone()
    return (schema_version(conn), cursor, *rows)


def _earlier_copy(conn: sqlite3.Connection, path: Path, version: int) -> Path | None:
    """A whole copy made from `version` by an upgrade that was stopped, holding what the cache
    holds now; the pieces of a copy that was cut short are removed."""
    try:
        for piece in path.parent.glob(f"{path.name}.v{version}-backup-*"):
            # a piece another process may still be writing is younger than that
            if (piece.name.endswith((".partial", ".partial-journal"))
                    and time.time() - piece.stat().st_mtime > STOPPED_COPY_AGE_S):
                piece.unlink(missing_ok=True)
        copies = sorted((c for c in path.parent.glob(f"{path.name}.v{version}-backup-*")
                         if not c.name.endswith(("-wal", "-shm", "-journal", ".partial"))),
                        key=lambda c: c.stat().st_mtime, reverse=True)
    except OSError:
        return None
    if not copies:
        return None
    try:
        mine = _fingerprint(conn)
        other = sqlite3.connect(f"file:{copies[0]}?mode=ro", uri=True)
        try:
            same = _fingerprint(other) == mine
        finally:
            other.close()
    except sqlite3.Error:
        return None
    return copies[0] if same else None


def migrate(conn: sqlite3.Connection, path: Path, report: OpenReport) -> None:
    """Bring the schema to the latest version, copying the file first if it holds data."""
    current = schema_version(conn)
    if current > LATEST_VERSION:
        raise CacheError(
            f"The cache at {path} was written by a newer Lowdash (schema {current}); "
            "update the app or choose another data folder."
        )
    if current == LATEST_VERSION:
        return
    if current > 0:
        report.safety_copy = _safety_copy(conn, path, current)
        report.migrated_from = current
        report.notes.append(
            f"The cache was upgraded from schema {current} to {LATEST_VERSION}; "
            f"a copy of the old file is at {report.safety_copy}."
        )
    for number in range(current + 1, LATEST_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(conn) >= number:  # another process migrated it meanwhile
                conn.execute("ROLLBACK")
                continue
            for statement in _split(MIGRATIONS[number - 1]):
                conn.execute(statement)
            if number == 3:  # the names' checks, which SQL cannot compute
                conn.executemany("UPDATE names SET crc = ? WHERE nid = ?", [
                    (name_crc(nid, name), nid)
                    for nid, name in conn.execute("SELECT nid, name FROM names").fetchall()])
            conn.execute(
                "INSERT INTO meta(key, value) VALUES('schema_version', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (str(number),),
            )
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
    if current > 0:
        _give_back_room(conn, path)


def _give_back_room(conn: sqlite3.Connection, path: Path) -> None:
    """After a migration that rewrote the tables (schema 3: 574 -> 703 MB at a million
    generations, the old table's pages left free inside the file), write the file again without
    them. A disk without room for that (VACUUM writes a copy first) leaves the free pages for
    later writes to reuse: the cache itself is already upgraded."""
    (free,) = conn.execute("PRAGMA freelist_count").fetchone()
    (total,) = conn.execute("PRAGMA page_count").fetchone()
    if not total or free <= total // 4:
        return
    try:
        conn.execute("VACUUM")
    except sqlite3.OperationalError as exc:
        log.warning("cache upgraded but not compacted (%s): %s", path, exc)


def needs_upgrade(path: Path) -> bool:
    """True when the cache at `path` holds data at an older schema (opening it migrates it:
    about a minute at a million generations for schema 3). Never raises.

    Asked at every start before the window: the header's user_version (set from schema 3 on)
    answers without opening the database (a connection parses the whole schema: ~2.5 ms)."""
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError:
        return False
    if len(header) == 100 and header[:16] == SQLITE_MAGIC:
        if int.from_bytes(header[60:64], "big") >= LATEST_VERSION:
            return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        return 0 < schema_version(conn) < LATEST_VERSION
    except (sqlite3.Error, ValueError):  # damage: the open that follows says so
        return False
    finally:
        conn.close()


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (SQLite ends one itself on a full disk)."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.info("rollback failed: %s", exc)


def _split(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit on its own)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        stripped = line.split("--", 1)[0]
        buffer += stripped
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


# Indexes that only make queries faster (filtering and listing providers, regions and keys at a
# million rows: ~0.8 s -> ~0.02 s; sorting by cost). A new or small cache gets them when it
# opens; on a big existing cache they are built in the background (seconds of work) and queries
# work meanwhile. A sync that brings more rows than the cache held leaves them out while it
# writes and builds them at its end (`drop_query_indexes`): kept row by row, in a feed's random
# order, they cost more than half of SQLite's time, and built at once they are sorted and packed.
QUERY_INDEXES: dict[str, str] = {
    "gen_provider_created": "gen(provider_n, created_at)",
    "gen_region_created": "gen(region_n, created_at)",
    "gen_key_created": "gen(key_n, created_at)",
    "gen_cost": "gen(cost_nanos)",
}
BUILD_AT_OPEN_MAX_ROWS = 50_000


def missing_indexes(conn: sqlite3.Connection) -> list[str]:
    have = {
        row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    return [name for name in QUERY_INDEXES if name not in have]


def drop_query_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the query indexes (one transaction) for a bulk write; `ensure_indexes` builds them
    again. Returns those dropped."""
    have = [name for name in QUERY_INDEXES if name not in missing_indexes(conn)]
    if have:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for name in have:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
    return have


def ensure_indexes(conn: sqlite3.Connection) -> list[str]:
    """Build the missing query indexes, one transaction each; returns those built."""
    built = []
    for name in missing_indexes(conn):
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {QUERY_INDEXES[name]}")
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        built.append(name)
    return built


def open_cache(path: Path, *, _again: bool = True) -> tuple[sqlite3.Connection, OpenReport]:
    """Open (creating, repairing or migrating as needed) the cache at `path`.

    Raises `CacheError` with a plain sentence when it can't: `faults.DiskFault` for a full disk,
    a read-only or unreadable folder (the cache is left where it is, untouched). Only damage
    moves a cache aside.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            damaged_marker(path).unlink(missing_ok=True)  # about a file no longer there
    except OSError as exc:
        raise faults.disk_fault(exc, path) from exc
    report = OpenReport(path=path)
    if path.exists():
        reason = _looks_corrupt(path)
        if reason:
            report.moved_aside = move_aside(path, reason)
            report.notes.append(
                f"The local cache was damaged ({reason}). It was moved aside to "
                f"{report.moved_aside.name} and a fresh copy will be downloaded."
            )
    conn = connect(path)
    try:
        migrate(conn, path, report)
        missing_rollups = [r for r in rollup.ALL if not rollup.exists(conn, r)]
        if missing_indexes(conn) or missing_rollups:
            rows = conn.execute("SELECT max(rowid) FROM generations").fetchone()[0] or 0
            if rows <= BUILD_AT_OPEN_MAX_ROWS:  # a big cache: the window builds them later
                ensure_indexes(conn)
                for roll_up in missing_rollups:
                    if roll_up.at_open or rows == 0:
                        rollup.rebuild(conn, roll_up)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error | UnicodeDecodeError) and not isinstance(exc, CacheError):
            _raise_unless_damage(exc, path)
            if faults.is_damage(exc) and _again:  # damage the checks at open did not see
                faults.note_damage(path, f"SQLite cannot read it ({exc})")
                conn, again = open_cache(path, _again=False)  # moves it aside
                again.notes[:0] = report.notes
                return conn, again
        raise
    return conn, report


# -- reads that must not come back short ------------------------------------------------------
def verify_read_count(conn: sqlite3.Connection, where: str, params: list, read: int) -> None:
    """Raise `faults.CacheDamaged` unless `read` rows is what a scan of the table finds.

    For exports: their rows come through an index (the filter's, the order's); a damaged index
    drops or adds rows without any error. The table scan uses no index (`NOT INDEXED`), so the
    two only agree when the index does. Call it in the snapshot the rows were read in. Costs
    0.1-0.35 s at a million generations (an integrity check of the table costs 22 s).
    """
    try:
        found = conn.execute(
            f"SELECT count(*) FROM generations_scan{where}", params
        ).fetchone()[0]
    except sqlite3.Error as exc:
        translated = faults.translate(exc, Path(database_file(conn) or "."))
        if translated is exc:
            raise
        raise translated from exc
    if found == read:
        return
    reason = f"an index is damaged: it gave {read} rows where the table holds {found}"
    path = database_file(conn)
    if path:
        faults.note_damage(Path(path), reason)
    raise faults.CacheDamaged(
        reason,
        f"The local cache is damaged ({reason}). It will be moved aside and downloaded again "
        "when Lowdash next opens it; your account on the platform is not affected.",
    )


# -- several threads, one snapshot ---------------------------------------------------------
def database_file(conn: sqlite3.Connection) -> str | None:
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return file or None
    return None


def pinned_readers(conn: sqlite3.Connection, count: int) -> list[sqlite3.Connection] | None:
    """`count` more read-only connections on the snapshot `conn` reads, or None.

    Opens a read transaction on `conn` (the caller ends it) and on each new connection (closing
    them ends theirs); all of them see the same committed state, so work split across them
    adds up as if it had been done on one.

    A writer lock held for a moment guarantees no commit lands between the snapshots. When it
    can't be had (a read-only file, a busy writer) the caller does its work on `conn` alone.
    """
    path = database_file(conn)
    if path is None or conn.in_transaction:
        return None
    readers: list[sqlite3.Connection] = []
    try:
        lock = sqlite3.connect(path, timeout=1.0, isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        lock.execute("BEGIN IMMEDIATE")
    except sqlite3.Error:
        lock.close()
        return None
    try:
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts
        for _ in range(count):
            reader = _tracked(
                f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
            readers.append(reader)
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return readers
    except sqlite3.Error:
        for reader in readers:
            reader.close()
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return None
    finally:
        lock.execute("ROLLBACK")
        lock.close()
