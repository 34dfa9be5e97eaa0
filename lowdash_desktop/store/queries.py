"""History queries done in SQL: filter, sort, count and windows of rows for the table."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from typing import Any

from .schema import GENERATION_COUNT, name_filter


@dataclass(frozen=True)
class HistoryFilter:
    """What the history table (and exports) show. Times are UTC epoch ms, end exclusive."""

    start_ms: int | None = None
    end_ms: int | None = None
    model: str | None = None  # the resolved model
    provider: str | None = None
    region: str | None = None
    key_id: str | None = None
    text: str | None = None  # part of a generation id

    def with_(self, **changes: Any) -> HistoryFilter:
        return replace(self, **changes)

    def where(self) -> tuple[str, list[Any]]:
        """SQL WHERE clause (possibly empty) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.start_ms is not None:
            clauses.append("created_at >= ?")
            params.append(self.start_ms)
        if self.end_ms is not None:
            clauses.append("created_at < ?")
            params.append(self.end_ms)
        for column, value in (
            ("resolved_model", self.model),
            ("provider", self.provider),
            ("region", self.region),
            ("key_id", self.key_id),
        ):
            if value:
                clauses.append(name_filter(column))
                params.append(value)
        if self.text and self.text.strip():
            clauses.append("instr(id, ?) > 0")
            params.append(self.text.strip())
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


# Table columns: (header, SQL expression used for sorting)
SORT_KEYS: dict[str, str] = {
    "created_at": "created_at",
    "model": "resolved_model",
    "provider": "provider",
    "region": "region",
    "key_id": "key_id",
    "prompt_tokens": "prompt_tokens",
    "completion_tokens": "completion_tokens",
    "total_tokens": "total_tokens",
    "cost": "cost_nanos",
    "carbon_g": "carbon_g",
}

ROW_COLUMNS = (
    "id", "created_at", "resolved_model", "provider", "region", "key_id", "prompt_tokens",
    "completion_tokens", "total_tokens", "cost", "currency", "carbon_g",
)


def stored_count(conn: sqlite3.Connection) -> int:
    """Every generation, as the writers keep the count (schema 3); counted when it is not kept."""
    row = conn.execute(f"SELECT value FROM meta WHERE key = '{GENERATION_COUNT}'").fetchone()
    if row is not None and row[0] is not None:
        return int(row[0])
    return conn.execute("SELECT count(*) FROM gen").fetchone()[0]


def count(conn: sqlite3.Connection, flt: HistoryFilter) -> int:
    where, params = flt.where()
    if not where:
        return stored_count(conn)
    return conn.execute(f"SELECT count(*) FROM generations{where}", params).fetchone()[0]


def order_clause(sort_key: str, descending: bool) -> str:
    column = SORT_KEYS.get(sort_key, "created_at")
    direction = "DESC" if descending else "ASC"
    # rowid breaks ties so windows are stable across queries
    return f" ORDER BY {column} {direction}, rowid {direction}"


def window(
    conn: sqlite3.Connection,
    flt: HistoryFilter,
    sort_key: str = "created_at",
    descending: bool = True,
    offset: int = 0,
    limit: int = 200,
    total: int | None = None,
) -> list[tuple]:
    """Rows [offset, offset+limit) of the filtered, sorted history (ROW_COLUMNS order).

    With `total` (the filtered count) a window in the second half is read from the other
    end, so the last rows cost as little as the first (OFFSET walks every skipped row).
    """
    where, params = flt.where()
    backwards = total is not None and offset > total // 2
    if backwards:
        end = min(total, offset + limit)
        offset, limit = total - end, end - offset
        descending = not descending
    sql = (
        f"SELECT {', '.join(ROW_COLUMNS)} FROM generations{where}"
        f"{order_clause(sort_key, descending)} LIMIT ? OFFSET ?"
    )
    rows = conn.execute(sql, [*params, max(0, limit), offset]).fetchall()
    return rows[::-1] if backwards else rows
