"""Numbered migrations of the cache schema. Append only; never edit a released step."""

from __future__ import annotations

# meta key: the change feed's cursor after the last page stored (store/cache.py, store/rollup.py)
FEED_CURSOR = "feed_cursor"

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

LATEST_VERSION = len(MIGRATIONS)
