"""Requests, tokens and cost per quarter hour and model, kept beside the generations.

The spend dock and the top-models dock add up 30 days of history. At a million generations
that is ~700k rows for SQLite to sort into (quarter hour, model) groups: about 2 s of work
after every sync that brings anything. The roll-up holds those groups already (~70k rows for
the same 30 days), so reading them takes milliseconds.

It is derived data, kept exact by the only writer of generations, `Cache.apply_page`: inside
the page's transaction it takes out what the page's ids contributed before the upsert and
puts back what they contribute after it, so revised rows move between groups and replayed
ones cancel out. Triggers would do the same without code, but any trigger on `generations`
makes every upsert ~25 us slower (docs/performance.md). A roll-up that disagrees with the
table's row count (rows written some other way, a cache from before the roll-up) is not
used: the figures are computed from the rows, and the roll-up is rebuilt.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from .schema import FEED_CURSOR

TABLE = "spend_rollup"
BUCKET_MS = 15 * 60 * 1000  # every real UTC offset is a multiple of 15 minutes

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    bucket INTEGER NOT NULL,       -- created_at // BUCKET_MS
    model TEXT NOT NULL,           -- resolved_model, '' when unknown
    requests INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    cost_nanos INTEGER NOT NULL,
    PRIMARY KEY (bucket, model)
) WITHOUT ROWID
"""

_GROUPS = (
    f"SELECT created_at / {BUCKET_MS}, coalesce(resolved_model, ''), {{sign}} * count(*), "
    f"{{sign}} * coalesce(sum(total_tokens), 0), {{sign}} * coalesce(sum(cost_nanos), 0) "
    "FROM generations {where} GROUP BY 1, 2"
)

_ADD = (
    f"INSERT INTO {TABLE}(bucket, model, requests, tokens, cost_nanos) {{groups}} "
    "ON CONFLICT(bucket, model) DO UPDATE SET requests = requests + excluded.requests, "
    "tokens = tokens + excluded.tokens, cost_nanos = cost_nanos + excluded.cost_nanos"
)

_PAGE_IDS = "WHERE id IN (SELECT value FROM json_each(?))"

# The feed cursor the roll-up was last kept in step at. Every version of the app moves the feed
# cursor with each page it stores; only one that keeps the roll-up moves this one with it, so
# pages stored by an older Lowdash (revisions too, which leave the row count alone) show.
_STAMP = (
    "INSERT INTO meta(key, value) VALUES ('rollup_cursor', "
    f"(SELECT value FROM meta WHERE key = '{FEED_CURSOR}')) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
)
_STAMPED = (
    "SELECT (SELECT value FROM meta WHERE key = 'rollup_cursor') "
    f"IS (SELECT value FROM meta WHERE key = '{FEED_CURSOR}')"
)


def exists(conn: sqlite3.Connection) -> bool:
    return conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
    ).fetchone() is not None


def _add_page(conn: sqlite3.Connection, ids_json: str, sign: int) -> None:
    groups = _GROUPS.format(sign=sign, where=_PAGE_IDS)
    conn.execute(_ADD.format(groups=groups), (ids_json,))


def apply_page(conn: sqlite3.Connection, ids: Sequence[str], upsert) -> None:
    """Run `upsert()` (the page's write) with the roll-up kept in step; inside a transaction.

    Call `stamp()` after the page's feed cursor is saved, in the same transaction.
    """
    if not ids or not exists(conn):
        upsert()
        return
    ids_json = json.dumps(list(ids))
    _add_page(conn, ids_json, -1)  # what these ids counted for before
    upsert()
    _add_page(conn, ids_json, +1)  # and what they count for now


def stamp(conn: sqlite3.Connection) -> None:
    """Note that the roll-up is in step with the saved feed cursor (inside the write)."""
    if exists(conn):
        conn.execute(_STAMP)


def in_step(conn: sqlite3.Connection) -> bool:
    """True when the roll-up exists, was kept by the last page stored, and accounts for every
    generation (read in one snapshot)."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")  # both sums from one snapshot, while a sync may commit
    try:
        if not exists(conn):
            return False
        if not conn.execute(_STAMPED).fetchone()[0]:
            return False
        (rolled,) = conn.execute(f"SELECT coalesce(sum(requests), 0) FROM {TABLE}").fetchone()
        (rows,) = conn.execute("SELECT count(*) FROM generations").fetchone()
        return rolled == rows
    finally:
        if own:
            conn.execute("COMMIT")


def rebuild(conn: sqlite3.Connection) -> bool:
    """(Re)fill the roll-up from every generation; False when a write came in between.

    The groups are computed from a read snapshot into a temporary table (seconds on a big
    cache, without holding the write lock a sync needs), then copied in a short write
    transaction, if the cache has not changed meanwhile.
    """
    scratch = "temp.spend_rollup_build"
    conn.execute(f"DROP TABLE IF EXISTS {scratch}")
    # any commit by another connection from here on changes data_version: then the groups
    # below may miss a revision, and they are thrown away
    (version,) = conn.execute("PRAGMA data_version").fetchone()
    conn.execute("BEGIN")
    try:
        conn.execute(f"CREATE TABLE {scratch} AS " + _GROUPS.format(sign=1, where=""))
    finally:
        conn.execute("COMMIT")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA data_version").fetchone()[0] != version:
                conn.execute("ROLLBACK")
                return False
            conn.execute(_CREATE)
            conn.execute(f"DELETE FROM {TABLE}")
            conn.execute(
                f"INSERT INTO {TABLE}(bucket, model, requests, tokens, cost_nanos) "
                f"SELECT * FROM {scratch}"
            )
            conn.execute(_STAMP)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {scratch}")
    return True


def ensure(conn: sqlite3.Connection) -> bool:
    """Rebuild the roll-up if it is missing or out of step; True when it is usable now.

    Takes seconds on a big cache (run it off the UI thread). A write meanwhile, a writer
    holding the cache past the busy timeout or a read-only file leave it as it is: the
    figures are then computed from the rows, and the next call tries again.
    """
    if in_step(conn):
        return True
    try:
        return rebuild(conn)
    except sqlite3.OperationalError:
        return False


def spend_rows(
    conn: sqlite3.Connection, start_ms: int, end_ms: int, model: str | None
) -> list[tuple[int, str | None, int, int, int]] | None:
    """(bucket, model, requests, tokens, cost nanos) for [start_ms, end_ms), as the scan
    over generations gives them; None when the roll-up cannot answer (then scan)."""
    if start_ms % BUCKET_MS or end_ms % BUCKET_MS or not in_step(conn):
        return None
    sql = (
        f"SELECT bucket, nullif(model, ''), requests, tokens, cost_nanos FROM {TABLE} "
        "WHERE bucket >= ? AND bucket < ? AND requests <> 0"
    )
    params: list = [start_ms // BUCKET_MS, end_ms // BUCKET_MS]
    if model:
        sql += " AND model = ?"
        params.append(model)
    return conn.execute(sql, params).fetchall()
