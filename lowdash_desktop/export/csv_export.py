"""Streamed CSV export of the cached history (Qt-free): chunks from SQLite, atomic rename.

SQLite renders every line. The fast path is one `printf()` per row (dates come from a small
temporary table of day strings); a chunk whose text shows a quote, a line break or an extra comma
has those rows re-rendered field by field with RFC 4180 quoting (`LINE_SQL`). Large exports are
split into ranges of (created_at, rowid) that threads render at once, each on its own connection
pinned to the same snapshot (SQLite releases the GIL while it steps)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ..safe_text import csv_text_cell, is_decimal
from ..store.db import pinned_readers, verify_read_count
from ..store.queries import HistoryFilter, count
from ..store.rows import to_ms
from ..store.schema import NAME_OF, implied_cost, number_column
from .atomic import atomic_output

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "created_at",
    "key_id",
    "model",
    "resolved_model",
    "provider",
    "region",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost",
    "currency",
    "energy_wh",
    "carbon_g",
    "methodology_version",
    "revision",
)
CHUNK_ROWS = 2000
PARALLEL_MIN_ROWS = 50_000  # below this one thread is as fast

Progress = Callable[[int, int], None]  # (rows written, rows in total)


class ExportCancelled(Exception):
    """The export was cancelled; nothing was left at the target path."""


def day_filter(
    start: date | None = None,
    end: date | None = None,
    model: str | None = None,
    provider: str | None = None,
) -> HistoryFilter:
    """A filter over whole UTC days, `end` inclusive."""
    start_ms = to_ms(datetime(start.year, start.month, start.day, tzinfo=UTC)) if start else None
    end_ms = None
    if end is not None and end < date.max:  # up to 9999-12-31 inclusive: no upper bound
        after = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
        end_ms = to_ms(after)
    return HistoryFilter(start_ms=start_ms, end_ms=end_ms, model=model, provider=provider)


TEXT_COLUMNS = frozenset(
    {
        "id",
        "key_id",
        "model",
        "resolved_model",
        "provider",
        "region",
        "cost",
        "currency",
        "methodology_version",
    }
)
# Numbers stay numbers (a negative cost or figure is not a formula); `cost` is a number when it
# is a plain decimal string, as the cache stores it. Any other text in any column is a platform
# string: safe_text.csv_text_cell makes it visible, never a formula, quoted.
NUMBER_COLUMNS = frozenset(
    {"latency_ms", "prompt_tokens", "completion_tokens", "total_tokens", "energy_wh", "carbon_g",
     "revision"}
)


def _time_cell(ms: object) -> str:
    """RFC 3339 UTC with milliseconds from integer ms; floor division keeps times before 1970
    on their own side of the epoch (-500 ms is 1969-12-31T23:59:59.500Z)."""
    if not isinstance(ms, int):
        return csv_text_cell("" if ms is None else str(ms))
    seconds, milli = divmod(ms, 1000)
    try:
        m = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:  # outside years 1-9999: not a time any record can have
        return str(ms)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:"
            f"{m.second:02d}.{milli:03d}Z")


def _cell(column: str, kind: str, raw: bytes | None) -> str:
    if raw is None or kind == "null":
        return ""
    text = raw.decode("utf-8", "replace")
    if kind in ("integer", "real") and column in NUMBER_COLUMNS:
        return text  # as SQLite prints it, the same text as the fast line's printf()
    if column == "cost" and is_decimal(text):
        return text
    return csv_text_cell(text)


# the careful rendering: every value as bytes (NUL and all), judged and quoted in Python
_CAREFUL_SELECT = ", ".join(
    "g.created_at" if c == "created_at" else f"typeof(g.{c}), CAST(g.{c} AS BLOB)"
    for c in CSV_COLUMNS
)


def _careful_line(row: tuple) -> str:
    cells: list[str] = []
    i = 0
    for column in CSV_COLUMNS:
        if column == "created_at":
            cells.append(_time_cell(row[i]))
            i += 1
        else:
            cells.append(_cell(column, row[i], row[i + 1]))
            i += 2
    return ",".join(cells)


# -- the fast line: one printf() per row -------------------------------------------------------
_DAYS = "temp.lowdash_csv_days"  # (day INTEGER PRIMARY KEY, day_text 'YYYY-MM-DD')
_FIELDS = len(CSV_COLUMNS)
_MIN_MS = -62135596800000  # 0001-01-01T00:00:00.000Z
_MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_MS = 86_400_000
_MAX_DAY_SPAN = 40_000  # about 110 years of day strings, made in ~40 ms


_NAMES = "temp.lowdash_csv_names"  # (nid INTEGER PRIMARY KEY, cell): each name's CSV field


def _fast_value(column: str) -> str:
    """SQL of a column's value on the fast line, from `gen g` (schema 3): a name as its CSV
    field made once in Python (`_fill_names`), the cost's text, a number as SQLite prints it."""
    if column in NAME_CELLS:
        return f"n_{column}.cell"
    if column == "cost":
        return f"coalesce(g.cost, {implied_cost('g.cost_nanos')})"
    return f"g.{column}"


def _fast_line_sql(before_1970: bool = False) -> str:
    # SQLite's integer / and % truncate towards zero: before 1970 the time of day is taken
    # from the millisecond of the day counted from the floor (the day table's key likewise)
    tod = f"((g.created_at % {_DAY_MS}) + {_DAY_MS}) % {_DAY_MS}" if before_1970 else "g.created_at"
    formats: list[str] = []
    args: list[str] = []
    for column in CSV_COLUMNS:
        if column == "created_at":
            formats.append("%sT%02d:%02d:%02d.%03dZ")
            args += [
                "d.day_text",
                f"({tod} / 3600000) % 24",
                f"({tod} / 60000) % 60",
                f"({tod} / 1000) % 60",
                f"{tod} % 1000",
            ]
        else:
            formats.append("%s")  # NULL prints as an empty field; REAL as CAST(... AS TEXT)
            args.append(_fast_value(column))
    return f"printf('{','.join(formats)}', {', '.join(args)})"


# The export's name columns, each with the column of `gen` holding its number
_VIEW_NAMES = frozenset(NAME_OF.values())
NAME_CELLS = {c: number_column(c) for c in CSV_COLUMNS if c in _VIEW_NAMES}
_NAME_JOINS = "".join(
    f" LEFT JOIN {_NAMES} AS n_{c} ON n_{c}.nid = g.{number}" for c, number in NAME_CELLS.items()
)
FAST_LINE_SQL = _fast_line_sql()
_FAST_FROM = f" FROM gen g CROSS JOIN {_DAYS} d ON d.day = g.created_at / {_DAY_MS}{_NAME_JOINS}"
_FAST_FROM_BEFORE_1970 = (
    f" FROM gen g CROSS JOIN {_DAYS} d ON d.day = (g.created_at - "
    f"((g.created_at % {_DAY_MS}) + {_DAY_MS}) % {_DAY_MS}) / {_DAY_MS}{_NAME_JOINS}"
)
FastSql = tuple[str, str]  # the line and the FROM clause
_FAST: FastSql = (FAST_LINE_SQL, _FAST_FROM)
_FAST_BEFORE_1970: FastSql = (_fast_line_sql(before_1970=True), _FAST_FROM_BEFORE_1970)
# What the fast line cannot take as it is, per row (then its chunk is rendered carefully): an
# id or a cost text holding a NUL (printf() stops a text there), anything but printable ASCII,
# a quote, comma or semicolon, or a formula's first character. The names' fields are made
# already, by the careful rendering's own rule (`csv_text_cell`).
_SUSPECT_ROW = (
    "(instr(g.id, char(0)) > 0 OR g.id GLOB '*[^ -~]*' OR g.id GLOB '*[\"=;+@,]*' "
    "OR g.id GLOB '-*' OR g.id = '' "
    "OR (g.cost IS NOT NULL AND (instr(g.cost, char(0)) > 0 OR g.cost GLOB '*[^-0-9.]*')))"
)


def _fill_names(conn: sqlite3.Connection) -> None:
    """Each name's CSV field, made once for the fast line (a few hundred names, not a lookup
    and a check of every row's names)."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {_NAMES}(nid INTEGER PRIMARY KEY, cell TEXT)")
    conn.execute(f"DELETE FROM {_NAMES}")
    names = conn.execute("SELECT nid, name FROM names").fetchall()
    conn.executemany(f"INSERT INTO {_NAMES} VALUES (?, ?)",
                     [(nid, csv_text_cell(name)) for nid, name in names])


def _fill_days(conn: sqlite3.Connection, where: str, params: list) -> FastSql | None:
    """Create the day-string table for the filtered range; returns the fast line's SQL, or
    None when the fast path can't serve."""
    low, high = conn.execute(
        f"SELECT min(created_at), max(created_at) FROM generations{where}", params
    ).fetchone()
    if low is None:
        return None
    if low < _MIN_MS or high > _MAX_MS:  # the day strings cover 0001-9999 CE
        return None
    first, last = low // _DAY_MS, high // _DAY_MS
    if last - first < _MAX_DAY_SPAN:
        days: Iterable[int] = range(first, last + 1)
    else:  # a record in year 1 and one in 9999: only the days that hold rows, not 3.6M
        floor = f"(created_at - ((created_at % {_DAY_MS}) + {_DAY_MS}) % {_DAY_MS}) / {_DAY_MS}"
        days = [d for (d,) in conn.execute(
            f"SELECT DISTINCT {floor} FROM generations{where}", params
        )]
    epoch = date(1970, 1, 1).toordinal()
    conn.execute(f"CREATE TABLE IF NOT EXISTS {_DAYS}(day INTEGER PRIMARY KEY, day_text TEXT)")
    conn.execute(f"DELETE FROM {_DAYS}")
    conn.executemany(
        f"INSERT INTO {_DAYS} VALUES (?, ?)",
        ((d, date.fromordinal(epoch + d).isoformat()) for d in days),
    )
    _fill_names(conn)
    return _FAST if low >= 0 else _FAST_BEFORE_1970


def _drop_days(conn: sqlite3.Connection) -> None:
    try:
        conn.execute(f"DROP TABLE IF EXISTS {_DAYS}")
        conn.execute(f"DROP TABLE IF EXISTS {_NAMES}")
    except sqlite3.Error:
        pass


Key = tuple[int, int]  # (created_at, rowid): the export's order, unique per row
_ORDER = " ORDER BY g.created_at, g.rowid"


def _and(where: str, clause: str) -> str:
    return f"{where} AND {clause}" if where else f" WHERE {clause}"


def _between(
    where: str, params: list, low: Key | None, low_op: str, high: Key | None, high_op: str
) -> tuple[str, list]:
    out = list(params)
    if low is not None:
        where = _and(where, f"(g.created_at, g.rowid) {low_op} (?, ?)")
        out += low
    if high is not None:
        where = _and(where, f"(g.created_at, g.rowid) {high_op} (?, ?)")
        out += high
    return where, out


class _Part:
    """Renders the rows with keys in [low, high) chunk by chunk.

    Each chunk is one statement: SQLite renders and joins its lines in a single step, so the
    GIL is released for the whole chunk and several parts can render at once.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        where: str,
        params: list,
        chunk_rows: int,
        fast: FastSql | None,
        low: Key | None = None,
        high: Key | None = None,
    ):
        self.conn = conn
        self.where, self.params = where, params
        self.chunk_rows = chunk_rows
        self.fast = fast
        self.low, self.high = low, high
        self.written = 0

    def chunks(self, stop: Callable[[], bool]) -> Iterator[str]:
        """CRLF-terminated text, one chunk at a time, until the range or `stop()` ends it."""
        low, low_op = self.low, ">="
        while not stop():
            where, params = _between(self.where, self.params, low, low_op, self.high, "<")
            last = self.conn.execute(
                f"SELECT g.created_at, g.rowid FROM generations g{where}{_ORDER} LIMIT 1 OFFSET ?",
                [*params, self.chunk_rows - 1],
            ).fetchone()
            high, high_op = (tuple(last), "<=") if last else (self.high, "<")
            where, params = _between(self.where, self.params, low, low_op, high, high_op)
            text, rows = self._render(where, params)
            if rows:
                self.written += rows
                yield text + "\r\n"
            if last is None:
                break
            low, low_op = tuple(last), ">"

    def _render(self, where: str, params: list) -> tuple[str, int]:
        if self.fast is not None:
            line_sql, from_sql = self.fast
            text, rows, suspect = self.conn.execute(
                f"SELECT group_concat(line, char(13, 10)), count(*), max(suspect) FROM "
                f"(SELECT {line_sql} AS line, {_SUSPECT_ROW} AS suspect"
                f"{from_sql}{where}{_ORDER})",
                params,
            ).fetchone()
            if not rows or not suspect:
                return text or "", rows
        # cell by cell for this chunk (or for every chunk off the fast path)
        rows = self.conn.execute(
            f"SELECT {_CAREFUL_SELECT} FROM generations g{where}{_ORDER}", params
        ).fetchall()
        return "\r\n".join(map(_careful_line, rows)), len(rows)


def _ranges(
    conn: sqlite3.Connection, where: str, params: list, total: int, parts: int
) -> list[tuple[Key | None, Key | None]]:
    """Key ranges [low, high) splitting the filtered, ordered rows into `parts` runs."""
    bounds: list[Key | None] = [None]
    for k in range(1, parts):
        row = conn.execute(
            f"SELECT g.created_at, g.rowid FROM generations g{where}{_ORDER} LIMIT 1 OFFSET ?",
            [*params, total * k // parts],
        ).fetchone()
        bounds.append(tuple(row))
    bounds.append(None)
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def export_csv(
    conn: sqlite3.Connection,
    target: str | os.PathLike[str],
    flt: HistoryFilter | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    threads: int | None = None,
    parallel_min_rows: int = PARALLEL_MIN_ROWS,
) -> int:
    """Write the filtered history to `target` (oldest first); returns the number of rows."""
    flt = flt or HistoryFilter()
    threads = _workers() if threads is None else max(1, threads)
    readers: list[sqlite3.Connection] = []
    own_snapshot = not conn.in_transaction
    if own_snapshot and threads > 1:
        # more threads are worth a writer lock only for a big export; finding out stops at
        # the parallel_min_rows-th row instead of counting them all (the count comes next)
        if _at_least(conn, flt, parallel_min_rows):
            readers = pinned_readers(conn, threads - 1) or []
    if own_snapshot and not conn.in_transaction:
        conn.execute("BEGIN")  # count and rows from one snapshot while a sync may write
    try:
        return _write(conn, readers, Path(target), flt, chunk_rows, progress, cancelled)
    finally:
        for reader in readers:
            reader.close()
        _drop_days(conn)
        if own_snapshot and conn.in_transaction:
            conn.execute("ROLLBACK")


def _at_least(conn: sqlite3.Connection, flt: HistoryFilter, rows: int) -> bool:
    """True when the filter matches `rows` rows or more."""
    if rows <= 0:
        return True
    where, params = flt.where()
    return conn.execute(
        f"SELECT 1 FROM generations{where} LIMIT 1 OFFSET ?", [*params, rows - 1]
    ).fetchone() is not None


def _write(
    conn: sqlite3.Connection,
    readers: list[sqlite3.Connection],
    target: Path,
    flt: HistoryFilter,
    chunk_rows: int,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> int:
    where, params = flt.where()
    total = count(conn, flt)
    fast = _fill_days(conn, where, params) if total > 0 else None
    for reader in readers:
        if fast is not None and _fill_days(reader, where, params) is None:
            fast = None
    ranges = _ranges(conn, where, params, total, len(readers) + 1) if readers else [(None, None)]
    stop = threading.Event()
    with atomic_output(target, "x", encoding="utf-8", newline="") as fh:
        fh.write(",".join(CSV_COLUMNS) + "\r\n")
        if progress:
            progress(0, total)
        mine = _Part(conn, where, params, chunk_rows, fast, *ranges[0])
        helpers: list[_Helper] = []
        try:
            for reader, rng in zip(readers, ranges[1:], strict=True):
                helpers.append(
                    _Helper(_Part(reader, where, params, chunk_rows, fast, *rng), target, stop)
                )
            for helper in helpers:
                helper.start()

            def written() -> int:
                return mine.written + sum(h.part.written for h in helpers)

            def should_stop() -> bool:
                if stop.is_set():
                    return True
                if cancelled is not None and cancelled():
                    stop.set()
                    raise ExportCancelled()
                return False

            flusher = _WriteBack(fh)
            for text in mine.chunks(should_stop):
                fh.write(text)
                flusher.wrote(len(text))
                if progress:
                    progress(written(), total)
            for helper in helpers:
                while not helper.finished.wait(0.1):
                    should_stop()
                    if progress:
                        progress(written(), total)
            for helper in helpers:  # a helper's own error first, then a stop
                if helper.error is not None:
                    raise helper.error
            if stop.is_set():
                raise ExportCancelled()
            for helper in helpers:
                fh.flush()
                helper.append_to(fh.buffer)
            if helpers and progress:
                progress(written(), total)
            # a damaged index reads short without an error: no file appears at `target` then
            verify_read_count(conn, where, params, written())
        except BaseException:
            stop.set()
            raise
        finally:
            for helper in helpers:
                if helper.ident is not None:  # started: let it see the stop and finish
                    helper.finished.wait()
                helper.discard()
    return mine.written + sum(h.part.written for h in helpers)


class _WriteBack:
    """Starts the kernel writing finished parts of the file to disk while the export goes on,
    so the final fsync waits for the last few MB instead of the whole file (Linux)."""

    STEP = 32 << 20

    def __init__(self, fh):
        self.fh = fh
        self.pending = 0
        self.advise = getattr(os, "posix_fadvise", None)

    def wrote(self, chars: int) -> None:
        if self.advise is None:
            return
        self.pending += chars
        if self.pending >= self.STEP:
            self.pending = 0
            self.fh.flush()
            try:
                self.advise(self.fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                self.advise = None


class _Helper(threading.Thread):
    """Renders one range into a temporary file next to the target."""

    def __init__(self, part: _Part, target: Path, stop: threading.Event):
        super().__init__(name="csv-export", daemon=True)
        self.part = part
        self.stop = stop
        self.finished = threading.Event()
        self.error: BaseException | None = None
        self.file = tempfile.NamedTemporaryFile(
            "w",
            encoding="utf-8",
            newline="",
            dir=target.parent,
            prefix=f".{target.name}.",
            suffix=".part",
            delete=False,
        )

    def run(self) -> None:
        try:
            for text in self.part.chunks(self.stop.is_set):
                self.file.write(text)
            self.file.flush()
        except BaseException as exc:  # handed to the exporting thread
            self.error = exc
            self.stop.set()
        finally:
            self.finished.set()

    def append_to(self, sink) -> None:
        with open(self.file.name, "rb") as part:
            size = os.fstat(part.fileno()).st_size
            copy_range = getattr(os, "copy_file_range", None)
            if copy_range is not None:  # in-kernel copy (Linux)
                try:
                    while size > 0:
                        sent = copy_range(part.fileno(), sink.fileno(), size)
                        if sent <= 0:
                            break
                        size -= sent
                    if size == 0:
                        return
                except OSError:
                    pass  # e.g. across file systems on old kernels: copy through Python
                sink.seek(0, os.SEEK_END)
            shutil.copyfileobj(part, sink, 4 << 20)

    def discard(self) -> None:
        self.file.close()
        try:
            os.unlink(self.file.name)
        except FileNotFoundError:
            pass
