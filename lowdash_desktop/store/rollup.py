"""Roll-ups: generations added up ahead of time, kept beside them, exact.

Two docks add up 30 days of history, which at a million generations is ~700k rows for SQLite
to sort into groups after every sync that brings anything:

- spend (`SPEND`): requests, tokens and cost per quarter hour and model, for the spend and
  top-models docks (2 s of grouping; ~70k roll-up rows for the same 30 days);
- eco (`ECO`): per UTC day, model, provider, region, latency-per-token bin and the platform's
  methodology version, confidence and caveats, the sums the eco figures are made of (5 s of
  grouping; ~50k roll-up rows for 30 days).

They are derived data, kept exact by the only writer of generations, `Cache.apply_page`:
inside the page's transaction it takes out what the page's ids contributed before the upsert
and puts back what they contribute after it, so revised rows move between groups and replayed
ones cancel out. Triggers would do the same without code, but any trigger on `generations`
makes every upsert ~25 us slower (docs/performance.md). A roll-up that disagrees with the
table's row count (rows written some other way, a cache from before the roll-up) or whose
stamp lags the feed cursor (pages stored by a Lowdash that did not keep it) is not used: the
figures are computed from the rows, and the roll-up is rebuilt.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from .queries import stored_count
from .schema import FEED_CURSOR, range_end

BUCKET_MS = 15 * 60 * 1000  # every real UTC offset is a multiple of 15 minutes
DAY_MS = 86_400_000
BIN_BITS = 4  # significant bits kept of the latency per token (in microseconds)

_PAGE_IDS = "WHERE id IN (SELECT value FROM json_each(?))"
_STAGED_IDS = "WHERE id IN (SELECT c1 FROM temp.gen_stage)"  # the writer's staged page


class RollUp:
    """One roll-up table: its groups over generations and the meta key of its stamp.

    `groups` is a SELECT giving the key columns then the value columns, in the table's order,
    with `{sign}` before each value and `{where}` for the rows it adds up; `count` is the
    value column holding the number of generations. `at_open`: quick enough to add up on the
    UI thread when a smallish cache is opened without it (else its reader's worker builds it).
    """

    def __init__(self, table: str, create: str, key: Sequence[str], values: Sequence[str],
                 count: str, groups: str, stamp_key: str, at_open: bool,
                 view: str, names: dict[str, str]) -> None:
        self.table = table
        # The readers' side: `view` has the key columns as names ('' when unknown) in place of
        # the numbers the table keeps (`names`: key column -> its name column in the view).
        self.view = view
        shown = [
            f"coalesce((SELECT name FROM names WHERE nid = {column}), '') AS {names[column]}"
            if column in names else column
            for column in [*key, *values]
        ]
        self.create = (
            create,
            f"CREATE VIEW IF NOT EXISTS {view} AS SELECT {', '.join(shown)} FROM {table}",
        )
        self.groups = groups
        self.count = count
        self.at_open = at_open
        columns = ", ".join([*key, *values])
        sums = ", ".join(f"{v} = {v} + excluded.{v}" for v in values)
        self.add = (
            f"INSERT INTO {table}({columns}) {{groups}} "
            f"ON CONFLICT({', '.join(key)}) DO UPDATE SET {sums}"
        )
        # The feed cursor the roll-up was last kept in step at. Every version of the app moves
        # the feed cursor with each page it stores; only one that keeps this roll-up moves this
        # stamp with it, so pages stored by an older Lowdash (revisions too, which leave the
        # row count alone) show.
        self.stamp = (
            f"INSERT INTO meta(key, value) VALUES ('{stamp_key}', "
            f"(SELECT value FROM meta WHERE key = '{FEED_CURSOR}')) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        )
        self.stamped = (
            f"SELECT (SELECT value FROM meta WHERE key = '{stamp_key}') "
            f"IS (SELECT value FROM meta WHERE key = '{FEED_CURSOR}')"
        )

    def __repr__(self) -> str:
        return f"RollUp({self.table})"


# The roll-ups keep names as their numbers in `names` (0: unknown) and group the compact table
# `gen` itself: integer keys sort faster and take less room than the names (schema 3).
SPEND = RollUp(
    "spend_sums",
    """
CREATE TABLE IF NOT EXISTS spend_sums (
    bucket INTEGER NOT NULL,       -- created_at // BUCKET_MS
    model_n INTEGER NOT NULL,      -- resolved_model's number, 0 when unknown
    requests INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    cost_nanos INTEGER NOT NULL,
    PRIMARY KEY (bucket, model_n)
) WITHOUT ROWID
""",
    key=("bucket", "model_n"),
    values=("requests", "tokens", "cost_nanos"),
    count="requests",
    groups=(
        f"SELECT created_at / {BUCKET_MS}, coalesce(resolved_n, 0), {{sign}} * count(*), "
        "{sign} * coalesce(sum(total_tokens), 0), {sign} * coalesce(sum(cost_nanos), 0) "
        "FROM gen {where} GROUP BY 1, 2"
    ),
    stamp_key="rollup_cursor",
    at_open=True,
    view="spend_rollup",
    names={"model_n": "model"},
)


def bin_sql(x: str) -> str:
    """SQL keeping the top `BIN_BITS` significant bits of a non-negative integer column.

    Values below 2**BIN_BITS stay as they are; a value with bit length k + 1 (k >= BIN_BITS)
    loses its low k - BIN_BITS + 1 bits; from 2**40 on it stays whole. The bit length is found
    by bisection (about six comparisons a row instead of up to 36).
    """

    def level(low: int, high: int) -> str:  # x lies in [2**low, 2**high), low >= BIN_BITS
        if high - low == 1:
            shift = low - BIN_BITS + 1
            return f"(({x} >> {shift}) << {shift})"
        mid = (low + high) // 2
        return f"CASE WHEN {x} < {1 << mid} THEN {level(low, mid)} ELSE {level(mid, high)} END"

    return (
        f"CASE WHEN {x} < {1 << BIN_BITS} THEN {x} WHEN {x} >= {1 << 40} THEN {x} "
        f"ELSE {level(BIN_BITS, 40)} END"
    )


def day_index_sql(column: str, bounds: list[int]) -> str:
    """SQL: the index i of the day [bounds[i], bounds[i + 1]) that holds `column` (ms), or -1.

    Found by bisection: about five comparisons a row for 30 days instead of fifteen.
    """

    def pick(low: int, high: int) -> str:  # column lies in [bounds[low], bounds[high])
        if high - low == 1:
            return str(low)
        mid = (low + high) // 2
        return f"CASE WHEN {column} < {bounds[mid]} THEN {pick(low, mid)} ELSE {pick(mid, high)} END"

    return (f"CASE WHEN {column} < {bounds[0]} OR {column} >= {bounds[-1]} THEN -1 "
            f"ELSE {pick(0, len(bounds) - 1)} END")


# What eco_rows reads of a generation, from the view `generations` (names, '' read as unknown)
# or from `gen` itself (the names' numbers, for the roll-up's groups).
ECO_FROM_VIEW = {
    "m": "nullif(resolved_model, '')", "p": "nullif(provider, '')", "r": "nullif(region, '')",
    "v": "nullif(methodology_version, '')", "conf": "nullif(confidence, '')",
    "cav": "nullif(caveats, '')", "el": "energy_wh_low", "eh": "energy_wh_high",
    "cl": "carbon_g_low", "ch": "carbon_g_high", "source": "generations",
}
ECO_FROM_GEN = {
    "m": "resolved_n", "p": "provider_n", "r": "region_n", "v": "methodology_n",
    "conf": "confidence_n", "cav": "caveats_n",
    "el": range_end("energy_wh_low", "energy_wh"), "eh": range_end("energy_wh_high", "energy_wh"),
    "cl": range_end("carbon_g_low", "carbon_g"), "ch": range_end("carbon_g_high", "carbon_g"),
    "source": "gen",
}


def eco_rows(where: str, keys: bool = True, source: dict[str, str] = ECO_FROM_VIEW) -> str:
    """SQL of the generations picked by `where`, as the eco figures see them: text keys with ''
    read as unknown (NULL), and the latency-per-token bin (-1: no completion tokens, -2: no
    usable latency). Without `keys`, leaves out the day and the methodology version,
    confidence and caveats (the eco roll-up's other keys), which the grouping over all days
    does not need: 20 % faster at 716k rows.

    Each "LIMIT -1" (no limit) keeps SQLite from flattening a subquery into the one around
    it, which would evaluate lpt and bin again at every use: 7.2 s -> 5.2 s over 716k rows.
    """
    outer = "day, m, p, r, t, lat, e, el, eh, c, cl, ch, g, v, conf, cav" if keys else (
        "m, p, r, t, lat, e, el, eh, c, cl, ch, g")
    f = source  # ECO_FROM_VIEW or ECO_FROM_GEN
    inner = (
        f"created_at / {DAY_MS} AS day, {f['v']} AS v, {f['conf']} AS conf, {f['cav']} AS cav,"
        if keys else ""
    )
    return f"""
SELECT {outer},
       CASE WHEN t <= 0 THEN -1 WHEN lpt IS NULL OR lpt < 0 THEN -2
            ELSE {bin_sql("lpt")} END AS bin
FROM (
    SELECT {inner} {f['m']} AS m,
           {f['p']} AS p, {f['r']} AS r, completion_tokens AS t,
           latency_ms AS lat, energy_wh AS e, {f['el']} AS el, {f['eh']} AS eh,
           carbon_g AS c, {f['cl']} AS cl, {f['ch']} AS ch, grid_intensity AS g,
           CASE WHEN completion_tokens > 0 THEN latency_ms * 1000 / completion_tokens
           END AS lpt
    FROM {f['source']} {where}
    LIMIT -1
)
LIMIT -1
"""


# The sums of one group of `eco_rows`, in ECO's value order (`{sign}` before each).
ECO_SUMS = (
    "{sign} * count(*), {sign} * coalesce(sum(t), 0), "
    "{sign} * coalesce(sum(CASE WHEN bin >= 0 THEN lat ELSE 0 END), 0), "
    "{sign} * coalesce(sum(t = 0), 0), "
    "{sign} * coalesce(sum(e), 0), {sign} * coalesce(sum(el), 0), "
    "{sign} * coalesce(sum(eh), 0), {sign} * coalesce(sum(c), 0), "
    "{sign} * coalesce(sum(cl), 0), {sign} * coalesce(sum(ch), 0), "
    "{sign} * sum(e IS NULL), {sign} * coalesce(sum(CASE WHEN e IS NULL THEN t ELSE 0 END), 0), "
    "{sign} * coalesce(sum(g), 0), {sign} * count(g)"
)

ECO = RollUp(
    "eco_sums",
    """
CREATE TABLE IF NOT EXISTS eco_sums (
    day INTEGER NOT NULL,              -- created_at // DAY_MS: UTC days
    model_n INTEGER NOT NULL,          -- the names' numbers, 0 when unknown
    provider_n INTEGER NOT NULL,
    region_n INTEGER NOT NULL,
    bin INTEGER NOT NULL,              -- latency per token (us), BIN_BITS kept; -1, -2: none
    version_n INTEGER NOT NULL,        -- methodology_version
    confidence_n INTEGER NOT NULL,
    caveats_n INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    tokens INTEGER NOT NULL,           -- completion tokens
    latency_ms INTEGER NOT NULL,       -- of the rows with a bin >= 0
    zero_tokens INTEGER NOT NULL,      -- rows without completion tokens
    energy_wh REAL NOT NULL,
    energy_wh_low REAL NOT NULL,
    energy_wh_high REAL NOT NULL,
    carbon_g REAL NOT NULL,
    carbon_g_low REAL NOT NULL,
    carbon_g_high REAL NOT NULL,
    no_energy INTEGER NOT NULL,        -- rows the platform sent without eco figures
    no_energy_tokens INTEGER NOT NULL,
    grid_sum REAL NOT NULL,            -- grid intensities stored with the rows, and how many
    grid_n INTEGER NOT NULL,
    PRIMARY KEY (day, model_n, provider_n, region_n, bin, version_n, confidence_n, caveats_n)
) WITHOUT ROWID
""",
    key=("day", "model_n", "provider_n", "region_n", "bin", "version_n", "confidence_n",
         "caveats_n"),
    values=("requests", "tokens", "latency_ms", "zero_tokens", "energy_wh", "energy_wh_low",
            "energy_wh_high", "carbon_g", "carbon_g_low", "carbon_g_high", "no_energy",
            "no_energy_tokens", "grid_sum", "grid_n"),
    count="requests",
    groups=(
        "SELECT day, coalesce(m, 0), coalesce(p, 0), coalesce(r, 0), bin, coalesce(v, 0), "
        f"coalesce(conf, 0), coalesce(cav, 0), {ECO_SUMS} "
        f"FROM ({eco_rows('{where}', source=ECO_FROM_GEN)}) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
    ),
    stamp_key="eco_rollup_cursor",
    at_open=False,  # ~10x the spend roll-up's work: eco.impact.report_from_cache builds it
    view="eco_rollup",
    names={"model_n": "model", "provider_n": "provider", "region_n": "region",
           "version_n": "version", "confidence_n": "confidence", "caveats_n": "caveats"},
)

ALL = (SPEND, ECO)


def exists(conn: sqlite3.Connection, roll_up: RollUp = SPEND) -> bool:
    return conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (roll_up.table,)
    ).fetchone() is not None


def _groups(roll_up: RollUp, sign: int, where: str) -> str:
    return roll_up.groups.format(sign=sign, where=where)


def _add_page(conn: sqlite3.Connection, roll_up: RollUp, where: str, params: tuple,
              sign: int) -> None:
    conn.execute(roll_up.add.format(groups=_groups(roll_up, sign, where)), params)


def apply_page(conn: sqlite3.Connection, ids: Sequence[str] | None, upsert) -> list[RollUp]:
    """Run `upsert()` (the page's write) with the roll-ups kept in step; inside a transaction.

    `ids`: the page's generation ids; None: the ids staged in `temp.gen_stage` (the writer's).

    Returns the roll-ups kept: those in step with the feed cursor before the page. One that
    lags it (pages stored by a Lowdash that did not keep it) stays as it is, for a rebuild:
    adding this page to it would not make it right. Pass them to `stamp()` after the page's
    feed cursor is saved, in the same transaction.
    """
    kept = [r for r in ALL if exists(conn, r) and conn.execute(r.stamped).fetchone()[0]]
    if not kept or (ids is not None and not ids):
        upsert()
        return kept
    if ids is None:
        where, params = _STAGED_IDS, ()
    else:
        where, params = _PAGE_IDS, (json.dumps(list(ids)),)
    for roll_up in kept:
        _add_page(conn, roll_up, where, params, -1)  # what these ids counted for before
    upsert()
    for roll_up in kept:
        _add_page(conn, roll_up, where, params, +1)  # and what they count for now
    return kept


def stamp(conn: sqlite3.Connection, kept: Sequence[RollUp]) -> None:
    """Note that the roll-ups `apply_page` kept are in step with the saved feed cursor."""
    for roll_up in kept:
        conn.execute(roll_up.stamp)


def in_step(conn: sqlite3.Connection, roll_up: RollUp = SPEND) -> bool:
    """True when the roll-up exists, was kept by the last page stored, and accounts for every
    generation (read in one snapshot)."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")  # both sums from one snapshot, while a sync may commit
    try:
        if not exists(conn, roll_up):
            return False
        if not conn.execute(roll_up.stamped).fetchone()[0]:
            return False
        (rolled,) = conn.execute(
            f"SELECT coalesce(sum({roll_up.count}), 0) FROM {roll_up.table}"
        ).fetchone()
        return rolled == stored_count(conn)  # kept by every writer (a count(*): 10 M rows)
    finally:
        if own:
            conn.execute("COMMIT")


def rebuild(conn: sqlite3.Connection, roll_up: RollUp = SPEND) -> bool:
    """(Re)fill the roll-up from every generation; False when a write came in between.

    The groups are computed from a read snapshot into a temporary table (seconds on a big
    cache, without holding the write lock a sync needs), then copied in a short write
    transaction, if the cache has not changed meanwhile.
    """
    scratch = f"temp.{roll_up.table}_build"
    conn.execute(f"DROP TABLE IF EXISTS {scratch}")
    # any commit by another connection from here on changes data_version: then the groups
    # below may miss a revision, and they are thrown away
    (version,) = conn.execute("PRAGMA data_version").fetchone()
    conn.execute("BEGIN")
    try:
        conn.execute(f"CREATE TABLE {scratch} AS " + _groups(roll_up, 1, ""))
    finally:
        conn.execute("COMMIT")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA data_version").fetchone()[0] != version:
                conn.execute("ROLLBACK")
                return False
            for statement in roll_up.create:
                conn.execute(statement)
            conn.execute(f"DELETE FROM {roll_up.table}")
            conn.execute(f"INSERT INTO {roll_up.table} SELECT * FROM {scratch}")
            conn.execute(roll_up.stamp)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {scratch}")
    return True


def ensure(conn: sqlite3.Connection, roll_up: RollUp = SPEND) -> bool:
    """Rebuild the roll-up if it is missing or out of step; True when it is usable now.

    Takes seconds on a big cache (run it off the UI thread). A write meanwhile, a writer
    holding the cache past the busy timeout or a read-only file leave it as it is: the
    figures are then computed from the rows, and the next call tries again.
    """
    if in_step(conn, roll_up):
        return True
    try:
        return rebuild(conn, roll_up)
    except sqlite3.OperationalError:
        return False


def spend_rows(
    conn: sqlite3.Connection, bounds: list[int], model: str | None
) -> list[tuple[int, str | None, int, int, int]] | None:
    """(day index, model, requests, tokens, cost nanos) for the days between `bounds` (ms, on
    quarter hours), as the scan over generations gives them; None when the roll-up cannot
    answer (then scan)."""
    if any(b % BUCKET_MS for b in bounds) or not in_step(conn):
        return None
    sql = (
        f"SELECT {day_index_sql(f'bucket * {BUCKET_MS}', bounds)}, "
        "nullif((SELECT name FROM names WHERE nid = model_n), ''), "
        f"sum(requests), sum(tokens), sum(cost_nanos) FROM {SPEND.table} "
        "WHERE bucket >= ? AND bucket < ? AND requests <> 0"
    )
    params: list = [bounds[0] // BUCKET_MS, bounds[-1] // BUCKET_MS]
    if model:
        sql += " AND model_n = (SELECT nid FROM names WHERE name = ?)"
        params.append(model)
    return conn.execute(sql + " GROUP BY 1, model_n", params).fetchall()
