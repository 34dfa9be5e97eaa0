"""The cache: upserts keep the highest revision, pages are atomic, damage is handled."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from lowdash_desktop.api.models import Generation
from lowdash_desktop.store import queries
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.db import SQLITE_MAGIC, schema_version
from lowdash_desktop.store.rows import generation_row, rfc3339, to_ms
from lowdash_desktop.store.schema import LATEST_VERSION

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def gen(i: int, revision: int = 1, cost: str = "0.001000", model: str = "mistral/small") -> tuple:
    return generation_row(Generation.model_validate({
        "id": f"gen_{i:05d}", "seq": i, "revision": revision,
        "created_at": (T0 + timedelta(minutes=i)).isoformat(),
        "model": "lowrouter/auto", "resolved_model": model, "provider": "scaleway",
        "region": "fr-par", "tokens": {"prompt": 10 * i, "completion": i, "total": 11 * i},
        "cost": {"amount": cost, "currency": "EUR"},
        "eco": {"energy_wh": {"value": 0.4, "low": 0.2, "high": 0.6},
                "carbon_g": {"value": 0.02, "low": 0.01, "high": 0.03},
                "methodology_version": "eco-test", "confidence": "verified"},
    }))


def test_new_cache_is_wal_and_at_latest_schema(cache):
    assert cache.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(cache.conn) == LATEST_VERSION


def test_highest_revision_wins_whatever_the_order(cache):
    cache.apply_page([gen(1, revision=2, cost="0.002")], [], "c1")
    cache.apply_page([gen(1, revision=1, cost="0.001")], [], "c2")  # an old replayed page
    assert cache.revisions() == {"gen_00001": 2}
    assert cache.generation("gen_00001")["cost"] == "0.002"
    cache.apply_page([gen(1, revision=3, cost="0.003")], [], "c3")
    assert cache.generation("gen_00001")["cost"] == "0.003"
    assert cache.feed_cursor == "c3"


def test_page_and_cursor_are_one_transaction(cache):
    cache.apply_page([gen(1)], [], "after-1")
    bad_rows = [gen(2), ("broken",)]  # the second row cannot be inserted
    with pytest.raises(sqlite3.Error):
        cache.apply_page(bad_rows, [], "after-2")
    assert cache.feed_cursor == "after-1"
    assert set(cache.revisions()) == {"gen_00001"}


def test_quarantined_records_are_kept_with_reason(cache):
    cache.apply_page([gen(1)], [("gen_x", "tokens.prompt: negative", '{"id": "gen_x"}')], "c")
    assert cache.quarantine_count() == 1
    row = cache.conn.execute("SELECT record_id, reason FROM quarantine").fetchone()
    assert row == ("gen_x", "tokens.prompt: negative")


def test_queries_filter_sort_and_window(cache):
    rows = [gen(i, cost=f"0.{i:06d}", model="a" if i % 2 else "b") for i in range(1, 101)]
    cache.apply_page(rows, [], "c")
    conn = cache.conn
    everything = queries.HistoryFilter()
    assert queries.count(conn, everything) == 100
    only_a = everything.with_(model="a")
    assert queries.count(conn, only_a) == 50
    top = queries.window(conn, only_a, "cost", descending=True, offset=0, limit=3)
    assert [r[0] for r in top] == ["gen_00099", "gen_00097", "gen_00095"]
    last = queries.window(conn, everything, "created_at", descending=True, offset=99, limit=10)
    assert [r[0] for r in last] == ["gen_00001"]
    window = everything.with_(start_ms=to_ms(T0 + timedelta(minutes=10)),
                              end_ms=to_ms(T0 + timedelta(minutes=20)))
    assert queries.count(conn, window) == 10
    assert queries.count(conn, everything.with_(text="0004")) == 11  # gen_00004, gen_00040..49


def test_garbage_cache_is_moved_aside_and_rebuilt(tmp_path):
    path = tmp_path / "cache.sqlite3"
    cache, _ = Cache.open(path)
    cache.apply_page([gen(1)], [], "c")
    cache.close()
    data = bytearray(path.read_bytes())
    data[:100] = b"\x00garbage" * 12 + b"gggg"
    path.write_bytes(bytes(data))
    cache, report = Cache.open(path)
    assert report.moved_aside is not None and report.moved_aside.exists()
    assert "damaged" in report.notes[0]
    assert cache.generation_count() == 0 and cache.feed_cursor is None
    cache.close()


def test_truncated_cache_is_detected(tmp_path):
    path = tmp_path / "cache.sqlite3"
    cache, _ = Cache.open(path)
    cache.apply_page([gen(i) for i in range(500)], [], "c")
    cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cache.close()
    data = path.read_bytes()
    assert data.startswith(SQLITE_MAGIC)
    path.write_bytes(data[: len(data) // 3])
    cache, report = Cache.open(path)
    assert report.moved_aside is not None
    cache.close()


def test_older_schema_migrates_with_safety_copy(tmp_path, monkeypatch):
    from lowdash_desktop.store import db, schema

    path = tmp_path / "cache.sqlite3"
    cache, _ = Cache.open(path)
    cache.apply_page([gen(1)], [], "c")
    cache.close()
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, "CREATE TABLE extra(x);"])
    monkeypatch.setattr(db, "MIGRATIONS", schema.MIGRATIONS)
    monkeypatch.setattr(db, "LATEST_VERSION", LATEST_VERSION + 1)
    cache, report = Cache.open(path)
    assert report.migrated_from == LATEST_VERSION
    assert report.safety_copy is not None and report.safety_copy.exists()
    copy = sqlite3.connect(report.safety_copy)
    assert copy.execute("SELECT count(*) FROM generations").fetchone()[0] == 1
    copy.close()
    assert schema_version(cache.conn) == LATEST_VERSION + 1
    assert cache.generation_count() == 1
    cache.close()


def test_rfc3339_round_trip():
    moment = datetime(2026, 11, 24, 13, 5, 7, 123000, tzinfo=UTC)
    assert rfc3339(to_ms(moment)) == "2026-11-24T13:05:07.123Z"


def test_windows_read_from_the_far_end_match_plain_offsets(cache):
    rows = [gen(i, cost=f"0.{(i * 37) % 100:06d}") for i in range(1, 301)]
    cache.apply_page(rows, [], "c")
    conn = cache.conn
    flt = queries.HistoryFilter()
    for key, desc in (("created_at", True), ("cost", False), ("cost", True)):
        for offset, limit in ((0, 7), (149, 10), (151, 10), (290, 10), (295, 10), (299, 1)):
            plain = queries.window(conn, flt, key, desc, offset, limit)
            fast = queries.window(conn, flt, key, desc, offset, limit, total=300)
            assert fast == plain, (key, desc, offset, limit)


def test_quarantine_counts_only_records_still_missing(cache):
    cache.apply_page([], [("gen_00001", "cost: bad", "{}"), (None, "id: missing", "{}"),
                          ("gen_00002", "cost: bad", "{}")], "c1")
    assert cache.unresolved_quarantine_count() == 3
    cache.apply_page([gen(1)], [], "c2")  # the readable copy of gen_00001 arrived later
    assert cache.unresolved_quarantine_count() == 2
    assert cache.quarantine_count() == 3, "what was set aside is kept for inspection"


# -- query indexes: new caches get them at once, big old ones in the background ---------------
def test_a_new_cache_has_every_query_index_and_filters_use_them(cache):
    from lowdash_desktop.store import db

    assert db.missing_indexes(cache.conn) == []
    for column, index in (
        ("provider", "gen_provider_created"),
        ("region", "gen_region_created"),
        ("key_id", "gen_key_created"),
    ):
        flt = queries.HistoryFilter(**{column: "x"})
        where, params = flt.where()
        plan = " ".join(
            str(row)
            for row in cache.conn.execute(
                f"EXPLAIN QUERY PLAN SELECT count(*) FROM generations{where}", params
            )
        )
        assert index in plan, plan


def test_a_big_cache_opens_without_building_indexes_then_builds_them(tmp_path, monkeypatch):
    from lowdash_desktop.store import db

    path = tmp_path / "big.sqlite3"
    first, _ = Cache.open(path)
    first.apply_page([gen(i) for i in range(1, 40)], [], "c")
    for name in db.QUERY_INDEXES:  # as a cache written before these indexes existed
        first.conn.execute(f"DROP INDEX {name}")
    first.close()
    monkeypatch.setattr(db, "BUILD_AT_OPEN_MAX_ROWS", 10)
    again, _ = Cache.open(path)
    assert sorted(db.missing_indexes(again.conn)) == sorted(db.QUERY_INDEXES)
    assert queries.count(again.conn, queries.HistoryFilter(provider="scaleway")) == 39
    assert sorted(db.ensure_indexes(again.conn)) == sorted(db.QUERY_INDEXES)
    assert db.missing_indexes(again.conn) == []
    assert queries.count(again.conn, queries.HistoryFilter(provider="scaleway")) == 39
    again.close()


# -- integrity: whole check at open for a small cache, later and off the UI for a big one -------
def _damaged_inside(path) -> None:
    """Scribble over table pages in the middle of the file; the header stays intact."""
    cache, _ = Cache.open(path)
    cache.apply_page([gen(i) for i in range(1, 800)], [], "c")
    cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = cache.conn.execute("PRAGMA page_size").fetchone()[0]
    cache.close()
    data = bytearray(path.read_bytes())
    middle = (len(data) // page_size // 2) * page_size
    data[middle:middle + 3 * page_size] = b"\xa5" * (3 * page_size)
    path.write_bytes(bytes(data))


def test_a_big_damaged_cache_opens_then_the_full_check_sets_it_aside_next_time(
    tmp_path, monkeypatch
):
    from lowdash_desktop.store import db

    path = tmp_path / "cache.sqlite3"
    _damaged_inside(path)
    monkeypatch.setattr(db, "QUICK_CHECK_AT_OPEN_MAX_BYTES", 0)  # as for a big cache
    cache, report = Cache.open(path)
    assert report.moved_aside is None, "the open itself only reads the header and schema"
    assert db.integrity_check_due(path, cache.conn, now_ms=1)
    checker = db.connect(path)
    problem = db.integrity_check(path, checker, now_ms=1)
    checker.close()
    assert problem and "integrity check failed" in problem
    assert db.damaged_marker(path).read_text() == problem
    cache.close()
    again, report = Cache.open(path)
    assert report.moved_aside is not None and report.moved_aside.exists()
    assert "damaged" in report.notes[0] and "integrity check failed" in report.notes[0]
    assert not db.damaged_marker(path).exists()
    assert again.generation_count() == 0 and again.feed_cursor is None
    again.close()


def test_a_small_damaged_cache_is_set_aside_at_open(tmp_path):
    path = tmp_path / "cache.sqlite3"
    _damaged_inside(path)
    cache, report = Cache.open(path)
    assert report.moved_aside is not None
    assert "integrity check failed" in report.notes[0] or "cannot read" in report.notes[0]
    cache.close()


def test_a_big_cut_off_cache_is_caught_by_its_header_at_open(tmp_path, monkeypatch):
    from lowdash_desktop.store import db

    monkeypatch.setattr(db, "QUICK_CHECK_AT_OPEN_MAX_BYTES", 0)
    path = tmp_path / "cache.sqlite3"
    cache, _ = Cache.open(path)
    cache.apply_page([gen(i) for i in range(500)], [], "c")
    cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cache.close()
    path.write_bytes(path.read_bytes()[:9000])
    cache, report = Cache.open(path)
    assert report.moved_aside is not None and "cut off" in report.notes[0]
    cache.close()


def test_a_healthy_big_cache_is_checked_at_most_once_a_day(tmp_path, monkeypatch):
    from lowdash_desktop.store import db

    monkeypatch.setattr(db, "QUICK_CHECK_AT_OPEN_MAX_BYTES", 0)
    path = tmp_path / "cache.sqlite3"
    cache, _ = Cache.open(path)
    cache.apply_page([gen(i) for i in range(1, 50)], [], "c")
    day = db.INTEGRITY_CHECK_EVERY_MS
    assert db.integrity_check_due(path, cache.conn, now_ms=10 * day)
    checker = db.connect(path)
    assert db.integrity_check(path, checker, now_ms=10 * day) is None
    checker.close()
    assert not db.damaged_marker(path).exists()
    assert not db.integrity_check_due(path, cache.conn, now_ms=11 * day - 1)
    assert db.integrity_check_due(path, cache.conn, now_ms=11 * day)
    monkeypatch.setattr(db, "QUICK_CHECK_AT_OPEN_MAX_BYTES", 1 << 40)
    assert not db.integrity_check_due(path, cache.conn, now_ms=99 * day), "checked at open"
    cache.close()


def test_a_damage_note_about_a_deleted_cache_does_not_condemn_the_new_one(tmp_path):
    from lowdash_desktop.store import db

    path = tmp_path / "cache.sqlite3"
    db.damaged_marker(path).write_text("integrity check failed (old file)")
    cache, report = Cache.open(path)  # the damaged file itself is gone
    cache.apply_page([gen(1)], [], "c")
    cache.close()
    assert not db.damaged_marker(path).exists()
    again, report = Cache.open(path)
    assert report.moved_aside is None and again.generation_count() == 1
    again.close()


def test_saving_a_snapshot_says_whether_the_answer_changed(cache):
    assert cache.save_snapshot("models", [{"id": "a"}]) is True
    assert cache.save_snapshot("models", [{"id": "a"}]) is False
    assert cache.save_snapshot("models", [{"id": "b"}]) is True
    assert cache.snapshot("models")[0] == [{"id": "b"}]


def test_a_schema_1_cache_migrates_to_2_without_the_unused_model_index(tmp_path):
    from lowdash_desktop.store import queries

    from .test_compact_schema import write_old_cache

    path = tmp_path / "cache.sqlite3"
    # a cache written by a Lowdash at schema 1
    write_old_cache(path, 1, [gen(i, model=f"m{i % 3}") for i in range(300)], "c1")
    old = sqlite3.connect(path)
    assert old.execute("SELECT 1 FROM sqlite_master WHERE name = 'gen_model_created'").fetchone()
    old.close()
    cache, report = Cache.open(path)
    assert report.migrated_from == 1 and report.safety_copy and report.safety_copy.exists()
    assert schema_version(cache.conn) == LATEST_VERSION >= 2
    assert not cache.conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'gen_model_created'").fetchone()
    assert cache.generation_count() == 300 and cache.feed_cursor == "c1"
    filtered = queries.HistoryFilter(model="m1")
    assert queries.count(cache.conn, filtered) == 100
    cache.apply_page([gen(300, model="m1")], [], "c2")  # and it is written as before
    assert queries.count(cache.conn, filtered) == 101
    assert cache.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    cache.close()


def test_a_page_waits_for_its_turn_to_hand_rows_over_and_gives_it_back(cache):
    """The writer hands rows to SQLite one by one only while it holds `turn` (the sync's page
    decoding holds it too: the two would otherwise wait for the GIL at every row), and lets go
    of it before the statements that need no GIL; a failed page lets go too."""
    import threading

    turn = threading.Lock()
    done = threading.Event()
    turn.acquire()
    worker = threading.Thread(
        target=lambda: (cache.apply_page([gen(1), gen(2)], [], "c1", turn=turn), done.set()))
    worker.start()
    assert not done.wait(0.3), "stored without its turn"
    turn.release()
    assert done.wait(10)
    worker.join()
    assert not turn.locked() and cache.generation_count() == 2
    with pytest.raises(sqlite3.Error):
        cache.apply_page([gen(3), ("broken",)], [], "c2", turn=turn)
    assert not turn.locked() and cache.generation_count() == 2 and cache.feed_cursor == "c1"
