"""The compact cache (schema 3, issue 21): names stored once and by number, the cost's text only
when its nano-units do not give it back, the old columns through the `generations` view.

Invariants: every row reads back exactly as it was written (through the writer, through the
view's triggers, or carried over from an older cache by the migration); filters on a name use
its number's index; a count reads the table alone; a number is never taken from a page that
was rolled back.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowdash_desktop.api.models import Generation
from lowdash_desktop.demo.fastfeed import FastDemoPlatform
from lowdash_desktop.store import db, queries
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.db import schema_version
from lowdash_desktop.store.rows import GENERATION_COLUMNS, generation_row, nanos_to_money
from lowdash_desktop.store.schema import LATEST_VERSION, MIGRATIONS, implied_cost

OLD_QUERY_INDEXES = {  # as schema 2 caches have them (built at open by the Lowdash of then)
    "gen_provider_created": "generations(provider, created_at)",
    "gen_region_created": "generations(region, created_at)",
    "gen_key_created": "generations(key_id, created_at)",
}
ALL_COLUMNS = ("rowid", *GENERATION_COLUMNS, "routing", "routing_fetched_at")


def write_old_cache(path: Path, version: int, rows: list[tuple], cursor: str) -> None:
    """A cache as a Lowdash at schema `version` (< 3) left it: its table, indexes, rows."""
    conn = sqlite3.connect(path)
    conn.isolation_level = None
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    for script in MIGRATIONS[:version]:
        for statement in db._split(script):
            conn.execute(statement)
    for name, target in OLD_QUERY_INDEXES.items():
        conn.execute(f"CREATE INDEX {name} ON {target}")
    conn.executemany(
        f"INSERT INTO generations({', '.join(GENERATION_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in GENERATION_COLUMNS)})", rows)
    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(version),))
    conn.execute("INSERT INTO meta VALUES ('feed_cursor', ?)", (cursor,))
    conn.execute("COMMIT")
    conn.close()


@functools.cache
def _realistic(n: int, seed: int) -> tuple[tuple, ...]:
    platform = FastDemoPlatform(seed=seed, generations=max(n, 100), page_limit=n * 2)
    records = {}
    for idx, rev in platform._ordered_entries("shuffled"):
        record = platform._record(idx, rev)
        records[record["id"]] = record
    rows = [generation_row(Generation.model_validate(r)) for r in records.values()]
    return tuple(rows[:n])


def realistic_rows(n: int, seed: int = 3) -> list[tuple]:
    """Rows of the fast platform's realistic feed (long tail, odd names, continuous figures),
    each id at its highest revision."""
    return list(_realistic(n, seed))


def read_all(conn: sqlite3.Connection) -> dict[str, tuple]:
    return {row[1]: row for row in conn.execute(
        f"SELECT {', '.join(ALL_COLUMNS)} FROM generations")}


# -- the migration ----------------------------------------------------------------------------
@pytest.mark.parametrize("version", [1, 2])
def test_an_older_cache_is_carried_over_whole_with_a_safety_copy(tmp_path, version):
    rows = realistic_rows(1500)
    rows[0] = rows[0][:17] + ("0.00012000",) + rows[0][18:]  # the platform's own text, zeros
    path = tmp_path / "cache.sqlite3"
    write_old_cache(path, version, rows, "cursor-7")
    before = read_all(sqlite3.connect(path))

    cache, report = Cache.open(path)
    assert report.migrated_from == version and report.safety_copy.exists()
    assert schema_version(cache.conn) == LATEST_VERSION == 3
    assert read_all(cache.conn) == before, "every column of every row, rowids too"
    assert cache.generation(rows[0][0])["cost"] == "0.00012000"
    assert cache.feed_cursor == "cursor-7"
    assert cache.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    indexes = {r[0] for r in cache.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'gen'")}
    assert {"gen_created", "gen_resolved_created", "gen_cost", *OLD_QUERY_INDEXES} <= indexes
    # the safety copy is the old cache as it was
    assert read_all(sqlite3.connect(report.safety_copy)) == before
    # and the migrated cache is written as a new one is
    model = rows[5][6]
    flt = queries.HistoryFilter(model=model)
    had = queries.count(cache.conn, flt)
    cache.apply_page([rows[5][:0] + ("gen_new",) + rows[5][1:]], [], "cursor-8")
    assert queries.count(cache.conn, flt) == had + 1
    cache.close()


def test_a_migration_that_fails_leaves_the_old_cache_as_it_was(tmp_path, monkeypatch):
    rows = realistic_rows(300)
    path = tmp_path / "cache.sqlite3"
    write_old_cache(path, 2, rows, "c")
    before = read_all(sqlite3.connect(path))
    broken = MIGRATIONS[2].replace("DROP TABLE generations_v2;", "SELECT no_such_function();")
    monkeypatch.setattr(db, "MIGRATIONS", [*MIGRATIONS[:2], broken])
    with pytest.raises(sqlite3.Error):
        Cache.open(path)
    conn = sqlite3.connect(path)
    assert schema_version(conn) == 2 and read_all(conn) == before


# -- writing and reading back -----------------------------------------------------------------
_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
_amount = st.decimals(min_value=0, max_value=10**6, places=None, allow_nan=False,
                      allow_infinity=False).filter(lambda d: d.as_tuple().exponent >= -12)


@st.composite
def ranges(draw) -> dict:
    """A range as the platform sends one: each end the value itself, absent, or around it."""
    value = draw(st.floats(0, 1e3))
    out = {"value": value}
    for end, side in (("low", st.floats(0, value)), ("high", st.floats(value, 1e3))):
        choice = draw(st.sampled_from(["same", "none", "other"]))
        if choice == "same":
            out[end] = value
        elif choice == "other":
            out[end] = draw(side)
    return out


@st.composite
def records(draw, i: int = 0) -> dict:
    eco = draw(st.none() | st.fixed_dictionaries({
        "energy_wh": ranges(), "carbon_g": ranges(),
        "methodology_version": _text, "confidence": st.sampled_from(["verified", "estimated"]),
        "caveats": st.lists(_text, max_size=3),
    }))
    record = {
        "id": f"gen_{draw(st.integers(0, 10**9))}", "seq": draw(st.integers(0, 2**40)),
        "revision": draw(st.integers(1, 5)),
        "created_at": f"2026-{draw(st.integers(1, 12)):02d}-0{draw(st.integers(1, 9))}T"
                      f"{draw(st.integers(0, 23)):02d}:00:00.{draw(st.integers(0, 999)):03d}Z",
        "model": draw(_text), "resolved_model": draw(st.none() | _text),
        "provider": draw(st.none() | _text), "region": draw(st.none() | _text),
        "key_id": draw(st.none() | _text), "finish_reason": draw(st.none() | _text),
        "latency_ms": draw(st.none() | st.integers(0, 10**7)),
        "streamed": draw(st.none() | st.booleans()),
        "tokens": {"prompt": draw(st.integers(0, 10**6)), "completion": draw(st.integers(0, 10**6)),
                   "total": draw(st.integers(0, 10**7))},
        "cost": {"amount": str(draw(_amount)), "currency": draw(st.sampled_from(["EUR", "USD"]))},
    }
    if eco is not None:
        record["eco"] = eco
    return record


def _valid(record: dict) -> tuple | None:
    try:
        return generation_row(Generation.model_validate(record))
    except ValueError:
        return None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(records(), min_size=1, max_size=12))
def test_every_row_reads_back_exactly_as_written(tmp_path_factory, batch):
    rows = [r for r in map(_valid, batch) if r is not None]
    latest: dict[str, tuple] = {}
    for row in rows:
        if row[0] not in latest or row[2] > latest[row[0]][2]:
            latest[row[0]] = row
    path = tmp_path_factory.mktemp("rt") / "c.sqlite3"
    cache, _ = Cache.open(path)
    half = len(rows) // 2
    cache.apply_page(rows[:half], [], "a")
    cache.apply_page(rows[half:], [], "b")
    got = {r[1]: r[1:31] for r in read_all(cache.conn).values()}
    assert got == latest
    # a second writer on the same file (another Lowdash process) numbers the same names
    other = Cache.open_reader(path)
    other.apply_page([(*row[:0], row[0] + "_2", *row[1:]) for row in rows], [], "c")
    for ident, row in latest.items():
        assert cache.generation(ident + "_2")["model"] == row[5]
    other.close()
    cache.close()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**63 - 1))
def test_the_implied_cost_is_the_writers_text(nanos):
    conn = sqlite3.connect(":memory:")
    (sql_text,) = conn.execute(f"SELECT {implied_cost('?1')}", (nanos,)).fetchone()
    assert sql_text == format(nanos_to_money(nanos), "f")
    assert Decimal(sql_text) * 10**9 == nanos


def test_writes_through_the_view_keep_working(tmp_path):
    """The view's triggers: a tool (or an older test) writing `generations` directly."""
    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    row = realistic_rows(20)[3]
    conn = cache.conn
    conn.execute(f"INSERT INTO generations({', '.join(GENERATION_COLUMNS)}) "
                 f"VALUES ({', '.join('?' for _ in GENERATION_COLUMNS)})", row)
    assert read_all(conn)[row[0]][1:31] == row
    conn.execute("UPDATE generations SET provider = 'новый провайдер', cost = '0.50', "
                 "cost_nanos = 500000000 WHERE id = ?", (row[0],))
    got = cache.generation(row[0])
    assert got["provider"] == "новый провайдер" and got["cost"] == "0.50"
    conn.execute("DELETE FROM generations WHERE id = ?", (row[0],))
    assert cache.generation_count() == 0
    cache.close()


def test_a_rolled_back_page_gives_no_number_away(tmp_path):
    path = tmp_path / "c.sqlite3"
    first, _ = Cache.open(path)
    second = Cache.open_reader(path)
    rows = realistic_rows(40)
    first.apply_page(rows[:10], [], "a")
    broken = [(*rows[10][:5], "a model first seen here", *rows[10][6:]), ("broken",)]
    with pytest.raises(sqlite3.Error):
        first.apply_page(broken, [], "b")
    # the number the rolled-back page took goes to another name of another writer
    second.apply_page([(*rows[11][:5], "another new model", *rows[11][6:])], [], "c")
    first.apply_page([(*rows[12][:5], "a model first seen here", *rows[12][6:])], [], "d")
    assert first.generation(rows[11][0])["model"] == "another new model"
    assert first.generation(rows[12][0])["model"] == "a model first seen here"
    first.close()
    second.close()


# -- the query plans ----------------------------------------------------------------------------
def _plan(conn: sqlite3.Connection, sql: str, params=()) -> str:
    return " | ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def test_filters_use_the_numbers_index_and_counts_read_the_table_alone(tmp_path):
    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    cache.apply_page(realistic_rows(400), [], "a")
    conn = cache.conn
    assert "names" not in _plan(conn, "SELECT count(*) FROM generations")
    for field, index in (("model", "gen_resolved_created"), ("provider", "gen_provider_created"),
                         ("region", "gen_region_created"), ("key_id", "gen_key_created")):
        flt = queries.HistoryFilter(**{field: "x"})
        where, params = flt.where()
        plan = _plan(conn, f"SELECT count(*) FROM generations{where}", params)
        assert f"INDEX {index}" in plan, plan
        window = _plan(conn, f"SELECT {', '.join(queries.ROW_COLUMNS)} FROM generations{where}"
                       f"{queries.order_clause('created_at', True)} LIMIT 50", params)
        assert f"INDEX {index}" in window and "TEMP B-TREE" not in window, window
    cache.close()


def test_a_realistic_generation_takes_less_room(tmp_path):
    """The table and its indexes per generation, against the same rows in schema 2."""
    rows = realistic_rows(4000)
    old = tmp_path / "old.sqlite3"
    write_old_cache(old, 2, rows, "c")
    new, _ = Cache.open(tmp_path / "new.sqlite3")
    new.apply_page(rows, [], "c")
    new.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def room(path: Path, tables: tuple[str, ...]) -> int:
        conn = sqlite3.connect(path)
        conn.execute("CREATE VIRTUAL TABLE temp.s USING dbstat(main)")
        (size,) = conn.execute(
            "SELECT sum(pgsize) FROM temp.s WHERE name IN (SELECT name FROM sqlite_master "
            f"WHERE tbl_name IN ({', '.join('?' for _ in tables)}))", tables).fetchone()
        return size

    before = room(old, ("generations",))
    after = room(tmp_path / "new.sqlite3", ("gen", "names"))
    new.close()
    assert after < 0.75 * before, (before / len(rows), after / len(rows))


def test_the_command_line_says_why_an_older_cache_takes_a_while(tmp_path, capsys, data_dir):
    from lowdash_desktop import accounts
    from lowdash_desktop.cli import main

    entry = accounts.remember(data_dir, "https://up.test/v1", "acct_up", "ops@up.test", "Ops")
    path = entry.cache_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_old_cache(path, 2, realistic_rows(300), "c")
    out = tmp_path / "all.csv"
    assert main(["export", "csv", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Upgrading the local cache" in err and "Traceback" not in err
    assert len(out.read_text("utf-8").splitlines()) == 301
    assert main(["export", "csv", "--out", str(out)]) == 0
    assert "Upgrading" not in capsys.readouterr().err, "once"


def test_a_damaged_name_is_damage_not_a_thousand_wrong_rows(tmp_path, data_dir, capsys):
    """A flipped bit in a stored name would change every generation with that name: each name
    keeps a check, read at every open, and a mismatch moves the cache aside."""
    from lowdash_desktop import accounts
    from lowdash_desktop.cli import main

    entry = accounts.remember(data_dir, "https://dmg.test/v1", "acct_d", "ops@dmg.test", "Ops")
    path = entry.cache_path(data_dir)
    cache, _ = Cache.open(path)
    rows = realistic_rows(300)
    cache.apply_page(rows, [], "c")
    cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cache.close()
    data = bytearray(path.read_bytes())
    name = rows[0][6].encode()  # a resolved model shared by many rows
    at = data.find(name)
    assert at > 0
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    code = main(["export", "csv", "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code == 1 and "damaged" in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()
    assert list(path.parent.glob(path.name + ".corrupt-*")), "moved aside, downloaded again"


def test_the_stored_count_follows_every_writer(tmp_path):
    """The count the table and the sync read (no count(*) of 10 M rows on the UI thread) is
    kept exact by the writer (new rows, revisions, replays) and through the view."""
    cache, _ = Cache.open(tmp_path / "c.sqlite3")
    conn = cache.conn

    def truth() -> int:
        return conn.execute("SELECT count(*) FROM gen").fetchone()[0]

    rows = realistic_rows(500)
    cache.apply_page(rows[:300], [], "a")
    assert cache.generation_count() == truth() == 300
    revised = [(*r[:2], r[2] + 1, *r[3:]) for r in rows[100:200]]
    cache.apply_page(revised + rows[250:400] + rows[250:260], [], "b")  # revisions, replays
    assert cache.generation_count() == truth() == 400
    assert queries.count(conn, queries.HistoryFilter()) == 400
    conn.execute("DELETE FROM generations WHERE rowid % 4 = 0")
    assert cache.generation_count() == truth()
    conn.execute(f"INSERT INTO generations({', '.join(GENERATION_COLUMNS)}) "
                 f"VALUES ({', '.join('?' for _ in GENERATION_COLUMNS)})",
                 (*rows[450][:1], "gen_by_hand", *rows[450][1:])[1:])
    assert cache.generation_count() == truth()
    cache.apply_page(rows[400:], [], "c")
    assert cache.generation_count() == truth()
    cache.close()


def test_two_processes_opening_an_older_cache_at_once_both_get_it_upgraded(tmp_path):
    """The second waits for the first's upgrade and then finds it done (it crashed with
    'view generations may not be altered')."""
    import threading

    rows = realistic_rows(1500)
    path = tmp_path / "cache.sqlite3"
    write_old_cache(path, 2, rows, "c")
    before = read_all(sqlite3.connect(path))
    results: list = []

    def open_it() -> None:
        try:
            cache, report = Cache.open(path)
            results.append((read_all(cache.conn), report.migrated_from))
            cache.close()
        except Exception as exc:  # noqa: BLE001 - what the test looks for
            results.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 2 and all(isinstance(r, tuple) for r in results), results
    assert all(r[0] == before for r in results)
    assert len(list(tmp_path.glob("cache.sqlite3.v2-backup-*"))) <= 2


def test_a_stopped_upgrade_s_copy_is_used_again_and_no_piece_is_left(tmp_path, monkeypatch):
    rows = realistic_rows(300)
    path = tmp_path / "cache.sqlite3"
    write_old_cache(path, 2, rows, "c")
    broken = MIGRATIONS[2].replace("DROP TABLE generations_v2;", "SELECT no_such_function();")
    with monkeypatch.context() as patch:
        patch.setattr(db, "MIGRATIONS", [*MIGRATIONS[:2], broken])
        with pytest.raises(sqlite3.Error):
            Cache.open(path)
    stale = tmp_path / "cache.sqlite3.v2-backup-x.partial"
    stale.write_bytes(b"cut short")  # a kill -9 long ago
    os.utime(stale, (1, 1))
    cache, report = Cache.open(path)
    cache.close()
    copies = sorted(p.name for p in tmp_path.glob("cache.sqlite3.v2-backup-*"))
    assert len(copies) == 1 and report.safety_copy.name == copies[0], copies


def test_an_upgrade_keeps_every_name_when_an_index_disagrees_with_the_table(tmp_path,
                                                                          monkeypatch):
    """Damage quick_check does not see (a key index missing a row's entry) must not blank
    that row's key: the names are read from the table itself. (A cache this small gets the
    full check at open, which would move it aside: as for a bigger one, it gets quick_check.)"""
    monkeypatch.setattr(db, "FULL_CHECK_AT_OPEN_MAX_BYTES", 0)
    rows = realistic_rows(600)
    path = tmp_path / "cache.sqlite3"
    write_old_cache(path, 2, rows, "c")
    conn = sqlite3.connect(path)
    before = read_all(conn)
    whole = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'gen_key_created'"
                         ).fetchone()[0]
    key = rows[0][4]
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'gen_key_created'",
                 (f"{whole} WHERE key_id <> '{key}'",))
    conn.commit()
    conn.close()
    conn = sqlite3.connect(path)
    conn.execute("REINDEX gen_key_created")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'gen_key_created'", (whole,))
    conn.commit()
    conn.close()
    cache, _ = Cache.open(path)
    assert read_all(cache.conn) == before
    cache.close()
