"""Streamed CSV export of the cached history (Qt-free): chunks from SQLite, atomic rename."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ..store.queries import HistoryFilter
from ..store.rows import to_ms
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


TEXT_COLUMNS = frozenset(
    {"id", "key_id", "model", "resolved_model", "provider", "region", "cost", "currency",
     "methodology_version"}
)
REAL_COLUMNS = frozenset({"energy_wh", "carbon_g"})
# RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled
_NEEDS_QUOTES = "'*[\",' || char(10) || char(13) || ']*'"


def _field_sql(column: str) -> str:
    """SQL that renders one column as its CSV field text (SQLite does the formatting)."""
    if column == "created_at":
        # RFC 3339 UTC with milliseconds, from integer ms (exact, no float rounding)
        return (
            "strftime('%Y-%m-%dT%H:%M:%S', created_at / 1000, 'unixepoch') || '.' || "
            "substr('00' || (created_at % 1000), -3) || 'Z'"
        )
    if column in TEXT_COLUMNS:
        return (
            f"CASE WHEN {column} IS NULL THEN '' WHEN {column} GLOB {_NEEDS_QUOTES} "
            f"THEN '\"' || replace({column}, '\"', '\"\"') || '\"' ELSE {column} END"
        )
    if column in REAL_COLUMNS:
        return f"ifnull(CAST({column} AS TEXT), '')"
    return f"ifnull({column}, '')"


LINE_SQL = " || ',' || ".join(f"({_field_sql(c)})" for c in CSV_COLUMNS)


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
    written = 0
    with atomic_output(target, "x", encoding="utf-8", newline="") as fh:
        fh.write(",".join(CSV_COLUMNS) + "\r\n")
        cursor = conn.execute(
            f"SELECT {LINE_SQL} FROM generations{where} ORDER BY created_at, rowid", params
        )
        if progress:
            progress(0, total)
        while True:
            if cancelled is not None and cancelled():
                raise ExportCancelled()
            rows = cursor.fetchmany(chunk_rows)
            if not rows:
                break
            fh.write("".join([row[0] + "\r\n" for row in rows]))
            written += len(rows)
            if progress:
                progress(written, total)
        cursor.close()
    return written
