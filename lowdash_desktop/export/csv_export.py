"""Streamed CSV export of the cached history (Qt-free): chunks from SQLite, atomic rename."""

from __future__ import annotations

import csv
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ..store.queries import HistoryFilter
from ..store.rows import rfc3339, to_ms
from .atomic import discard, temp_path_for

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
CREATED_AT = CSV_COLUMNS.index("created_at")
CHUNK_ROWS = 2000

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
    if end is not None:
        after = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
        end_ms = to_ms(after)
    return HistoryFilter(start_ms=start_ms, end_ms=end_ms, model=model, provider=provider)


def _cell(value: object) -> object:
    # None becomes an empty field; floats keep Python's shortest round-trip repr
    return "" if value is None else value


def export_csv(
    conn: sqlite3.Connection,
    target: str | os.PathLike[str],
    flt: HistoryFilter | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Write the filtered history to `target` (oldest first); returns the number of rows."""
    flt = flt or HistoryFilter()
    own_snapshot = not conn.in_transaction
    if own_snapshot:
        conn.execute("BEGIN")  # count and rows from one snapshot while a sync may write
    try:
        return _write(conn, Path(target), flt, chunk_rows, progress, cancelled)
    finally:
        if own_snapshot:
            conn.execute("ROLLBACK")


def _write(
    conn: sqlite3.Connection,
    target: Path,
    flt: HistoryFilter,
    chunk_rows: int,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> int:
    where, params = flt.where()
    total = conn.execute(f"SELECT count(*) FROM generations{where}", params).fetchone()[0]
    tmp_name = temp_path_for(target)
    written = 0
    try:
        with open(tmp_name, "x", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS)
            cursor = conn.execute(
                f"SELECT {', '.join(CSV_COLUMNS)} FROM generations{where}"
                " ORDER BY created_at, rowid",
                params,
            )
            if progress:
                progress(0, total)
            while True:
                if cancelled is not None and cancelled():
                    raise ExportCancelled()
                rows = cursor.fetchmany(chunk_rows)
                if not rows:
                    break
                for row in rows:
                    cells = [_cell(v) for v in row]
                    cells[CREATED_AT] = rfc3339(row[CREATED_AT])
                    writer.writerow(cells)
                written += len(rows)
                if progress:
                    progress(written, total)
            cursor.close()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        discard(tmp_name)
        raise
    return written
