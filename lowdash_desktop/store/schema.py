"""Numbered migrations of the cache schema. Append only; never edit a released step."""

from __future__ import annotations

import zlib

# meta key: the change feed's cursor after the last page stored (store/cache.py, store/rollup.py)
FEED_CURSOR = "feed_cursor"
# meta key (schema 3): how many generations `gen` holds, kept by every writer in its own
# transaction (Cache.apply_page from the rowids it added, the view's triggers): a count(*) of
# 10 M rows takes ~150 ms, on the UI thread at every table open and sync
GENERATION_COUNT = "generation_count"

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT
    );
    CREATE TABLE generations (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        seq INTEGER,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,          -- ms since the epoch, UTC
        key_id TEXT,
        model TEXT NOT NULL,
        resolved_model TEXT,
        provider TEXT,
        region TEXT,
        latency_ms INTEGER,
        finish_reason TEXT,
        streamed INTEGER,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        reasoning_tokens INTEGER NOT NULL DEFAULT 0,
        cached_tokens INTEGER NOT NULL DEFAULT 0,
        total_tokens INTEGER NOT NULL DEFAULT 0,
        cost TEXT NOT NULL,                   -- the exact decimal string from the platform
        cost_nanos INTEGER NOT NULL,          -- cost x 1e9, for exact SQL sums and sorting
        currency TEXT NOT NULL,
        energy_wh REAL,
        energy_wh_low REAL,
        energy_wh_high REAL,
        carbon_g REAL,
        carbon_g_low REAL,
        carbon_g_high REAL,
        grid_intensity REAL,
        methodology_version TEXT,
        confidence TEXT,
        caveats TEXT,                         -- JSON list
        routing TEXT,                         -- JSON, filled from GET /generations/{id}
        routing_fetched_at INTEGER
    );
    CREATE INDEX gen_created ON generations(created_at);
    CREATE INDEX gen_model_created ON generations(model, created_at);
    CREATE INDEX gen_resolved_created ON generations(resolved_model, created_at);
    CREATE INDEX gen_cost ON generations(cost_nanos);
    CREATE TABLE quarantine (
        qid INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,
        record_id TEXT,
        reason TEXT NOT NULL,
        record TEXT NOT NULL
    );
    CREATE TABLE snapshots (
        name TEXT PRIMARY KEY,                -- account, credits, models, keys, methodology, ...
        body TEXT NOT NULL,                   -- JSON as received
        fetched_at INTEGER NOT NULL
    );
    CREATE TABLE invoices (
        id TEXT PRIMARY KEY,
        issued_at INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    """,
    # 2: (model, created_at) served no query (the history filters on the resolved model, the
    # roll-ups and exports never filter on `model`); it cost 38 B a generation and an index
    # update per row stored (docs/performance.md)
    """
    DROP INDEX IF EXISTS gen_model_created;
    """,
]

# -- 3: the compact table ------------------------------------------------------------------------
# Names that repeat (keys, models, providers, regions, finish reasons, currencies, methodology
# versions, confidences, caveat lists) are stored once in `names` and by number in `gen`; the
# cost's text only when its nano-units do not give it back exactly (`IMPLIED_COST`). A view
# under the old name, `generations`, has the old columns, so every reader is unchanged; the
# writer (`store/cache.py`) writes `gen` itself. 484 -> ~290 B a generation for the table and
# its indexes (docs/performance.md).

# Columns of `gen` that hold a name's number instead of the name: (column, name column of the view)
NAME_COLUMNS: tuple[tuple[str, str], ...] = (
    ("key_n", "key_id"), ("model_n", "model"), ("resolved_n", "resolved_model"),
    ("provider_n", "provider"), ("region_n", "region"), ("finish_n", "finish_reason"),
    ("currency_n", "currency"), ("methodology_n", "methodology_version"),
    ("confidence_n", "confidence"), ("caveats_n", "caveats"),
)
NAME_OF = {column: name for column, name in NAME_COLUMNS}
_NUMBER_OF = {name: column for column, name in NAME_COLUMNS}

# The columns of `gen` in order, each with the view column it gives (rowid first, as before).
GEN_COLUMNS: tuple[str, ...] = (
    "rowid", "id", "seq", "revision", "created_at", "key_n", "model_n", "resolved_n",
    "provider_n", "region_n", "latency_ms", "finish_n", "streamed", "prompt_tokens",
    "completion_tokens", "reasoning_tokens", "cached_tokens", "total_tokens", "cost",
    "cost_nanos", "currency_n", "energy_wh", "energy_wh_low", "energy_wh_high", "carbon_g",
    "carbon_g_low", "carbon_g_high", "grid_intensity", "methodology_n", "confidence_n",
    "caveats_n", "routing", "routing_fetched_at",
)


def name_crc(nid: int, name: str) -> int:
    """The check kept beside each name: SQLite keeps no checksums, and a flipped bit in a name
    would change every generation that has it (`db.names_problem` reads them all at open)."""
    return zlib.crc32(f"{nid}\x00{name}".encode())


def implied_cost(nanos: str) -> str:
    """SQL: the plain decimal text of a cost given in nano-units (`nanos`, an integer >= 0),
    as the writer would have stored it: no trailing zeros, no point for whole amounts
    (98172 -> '0.000098172', 1500000000 -> '1.5', 0 -> '0'). Negative or non-integer: NULL."""
    return (
        f"CASE WHEN typeof({nanos}) <> 'integer' OR {nanos} < 0 THEN NULL "
        f"WHEN {nanos} % 1000000000 = 0 THEN CAST({nanos} / 1000000000 AS TEXT) "
        f"ELSE rtrim(printf('%d.%09d', {nanos} / 1000000000, {nanos} % 1000000000), '0') END"
    )


# The ends of the energy and carbon ranges, each with its central value: an end equal to the
# value (every figure the platform measured, ~80 % of realistic rows) is stored as NULL, and an
# end the platform left out as '' (4 x 8 B less a row for a measured one).
RANGE_ENDS: dict[str, str] = {
    "energy_wh_low": "energy_wh", "energy_wh_high": "energy_wh",
    "carbon_g_low": "carbon_g", "carbon_g_high": "carbon_g",
}


def stored_end(end: str, value: str) -> str:
    """SQL: what `gen` keeps of a range's end (NULL: the value itself; '': no end)."""
    return f"CASE WHEN {end} IS {value} THEN NULL WHEN {end} IS NULL THEN '' ELSE {end} END"


def range_end(end: str, value: str) -> str:
    """SQL: a range's end back from what `gen` keeps of it (`stored_end`)."""
    return (f"CASE WHEN {end} IS NULL THEN {value} WHEN typeof({end}) = 'text' THEN NULL "
            f"ELSE {end} END")


def stored_cost(cost: str, nanos: str) -> str:
    """SQL: what `gen.cost` keeps of a cost text: NULL when its nano-units give it back."""
    return f"CASE WHEN {cost} IS {implied_cost(nanos)} THEN NULL ELSE {cost} END"


def _view(name: str) -> str:
    """The old columns over `gen`, each name looked up by its own subquery (SQLite runs one
    only for a query that uses its column: `count(*)` reads `gen` alone, where joins would look
    up every name of every row), then the numbers themselves, for filters that use an index:
    `resolved_n = (SELECT nid FROM names WHERE name = ?)` (`name_filter`)."""
    columns = []
    for column in GEN_COLUMNS:
        if column in NAME_OF:
            columns.append(
                f"(SELECT name FROM names WHERE nid = g.{column}) AS {NAME_OF[column]}"
            )
        elif column == "cost":
            columns.append(f"coalesce(g.cost, {implied_cost('g.cost_nanos')}) AS cost")
        elif column in RANGE_ENDS:
            columns.append(f"{range_end(f'g.{column}', f'g.{RANGE_ENDS[column]}')} AS {column}")
        else:
            columns.append(f"g.{column} AS {column}")
    columns += [f"g.{column} AS {column}" for column, _ in NAME_COLUMNS]
    return f"CREATE VIEW {name} AS SELECT {', '.join(columns)} FROM gen AS g"


# The view's columns that are the old table's (without the names' numbers)
VIEW_COLUMNS: tuple[str, ...] = tuple(NAME_OF.get(c, c) for c in GEN_COLUMNS)


def number_column(name_column: str) -> str:
    """The column of `gen` holding the number of the view's name column."""
    return _NUMBER_OF[name_column]


def name_filter(name_column: str) -> str:
    """SQL testing a name column of the view against a parameter through its number (the
    index on the number is used; `model = ?` would look up every row's name)."""
    return f"{_NUMBER_OF[name_column]} = (SELECT nid FROM names WHERE name = ?)"


def _number(value: str) -> str:
    return f"(SELECT nid FROM names WHERE name = {value})"


def _gen_values(source: str) -> str:
    """The values of GEN_COLUMNS from a row of the old table or a view row (`source.` prefix)."""
    values = []
    for column in GEN_COLUMNS:
        if column in NAME_OF:
            values.append(_number(f"{source}.{NAME_OF[column]}"))
        elif column == "cost":
            values.append(stored_cost(f"{source}.cost", f"{source}.cost_nanos"))
        elif column in RANGE_ENDS:
            values.append(stored_end(f"{source}.{column}", f"{source}.{RANGE_ENDS[column]}"))
        elif column.endswith("_tokens"):  # the table's default, for a view INSERT without them
            values.append(f"coalesce({source}.{column}, 0)")
        else:
            values.append(f"{source}.{column}")
    return ", ".join(values)


def _new_names(source: str) -> str:
    picks = " UNION ALL ".join(f"SELECT {source}.{name} AS v" for _, name in NAME_COLUMNS)
    return f"INSERT OR IGNORE INTO names(name) SELECT v FROM ({picks}) WHERE v IS NOT NULL;"


_COMPACT = f"""
    ALTER TABLE generations RENAME TO generations_v2;
    CREATE TABLE names (
        nid INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        crc INTEGER                           -- name_crc(nid, name); NULL: written through the view
    );
    -- read from the table itself: an index that disagrees with it (damage quick_check does not
    -- see) would leave a name out, and its rows without it
    INSERT INTO names(name)
        SELECT DISTINCT v FROM ({" UNION ALL ".join(
            f"SELECT {name} AS v FROM generations_v2 NOT INDEXED" for _, name in NAME_COLUMNS)})
        WHERE v IS NOT NULL ORDER BY v;
    CREATE TABLE gen (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        seq INTEGER,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,          -- ms since the epoch, UTC
        key_n INTEGER,                        -- *_n: names.nid of the name
        model_n INTEGER NOT NULL,
        resolved_n INTEGER,
        provider_n INTEGER,
        region_n INTEGER,
        latency_ms INTEGER,
        finish_n INTEGER,
        streamed INTEGER,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        reasoning_tokens INTEGER NOT NULL DEFAULT 0,
        cached_tokens INTEGER NOT NULL DEFAULT 0,
        total_tokens INTEGER NOT NULL DEFAULT 0,
        cost TEXT,                            -- the platform's text, NULL when implied by cost_nanos
        cost_nanos INTEGER NOT NULL,
        currency_n INTEGER NOT NULL,
        energy_wh REAL,
        energy_wh_low REAL,                   -- the ends: NULL when the value, '' when none
        energy_wh_high REAL,
        carbon_g REAL,
        carbon_g_low REAL,
        carbon_g_high REAL,
        grid_intensity REAL,
        methodology_n INTEGER,
        confidence_n INTEGER,
        caveats_n INTEGER,                    -- a JSON list, as a name
        routing TEXT,
        routing_fetched_at INTEGER
    );
    INSERT INTO gen({", ".join(GEN_COLUMNS)})
        SELECT {_gen_values("o")} FROM generations_v2 AS o ORDER BY o.rowid;
    DROP TABLE generations_v2;
    INSERT INTO meta(key, value) VALUES ('generation_count', (SELECT count(*) FROM gen))
        ON CONFLICT(key) DO UPDATE SET value = excluded.value;
    -- the roll-ups keep numbers now (store/rollup.py): rebuilt from the rows when next needed
    DROP TABLE IF EXISTS spend_rollup;
    DROP TABLE IF EXISTS eco_rollup;
    DELETE FROM meta WHERE key IN ('rollup_cursor', 'eco_rollup_cursor');
    CREATE INDEX gen_created ON gen(created_at);
    CREATE INDEX gen_resolved_created ON gen(resolved_n, created_at);
    CREATE INDEX gen_cost ON gen(cost_nanos);
    {_view("generations")};
    -- for the export's cross-check (db.verify_read_count): the table without its indexes;
    -- its filters use the names' numbers, which `gen` has
    CREATE VIEW generations_scan AS SELECT * FROM gen NOT INDEXED;
    CREATE TRIGGER generations_insert INSTEAD OF INSERT ON generations BEGIN
        {_new_names("NEW")}
        INSERT INTO gen({", ".join(GEN_COLUMNS)}) VALUES ({_gen_values("NEW")});
        UPDATE meta SET value = value + 1 WHERE key = 'generation_count';
    END;
    CREATE TRIGGER generations_update INSTEAD OF UPDATE ON generations BEGIN
        {_new_names("NEW")}
        UPDATE gen SET ({", ".join(GEN_COLUMNS)}) = ({_gen_values("NEW")})
            WHERE rowid = OLD.rowid;
    END;
    -- the schema's number where a look at the file's header finds it (db.needs_upgrade)
    PRAGMA user_version = 3;
    CREATE TRIGGER generations_delete INSTEAD OF DELETE ON generations BEGIN
        DELETE FROM gen WHERE rowid = OLD.rowid;
        UPDATE meta SET value = value - changes() WHERE key = 'generation_count';
    END;
"""

MIGRATIONS.append(_COMPACT)

LATEST_VERSION = len(MIGRATIONS)
