"""The spend roll-up: kept exact by the sync's page writes, not trusted when anything else wrote."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from lowdash_desktop.api.models import Generation
from lowdash_desktop.store import aggregates, rollup
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.queries import HistoryFilter
from lowdash_desktop.store.rows import generation_row, to_ms

NOW = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
MODELS = ["a/one", "b/two", "c/three", None]


def row(i: int, revision: int, rng: random.Random) -> tuple:
    """Generation i at some revision: each revision may move it in time, model and cost."""
    return generation_row(Generation.model_validate({
        "id": f"gen_{i:05d}", "revision": revision,
        "created_at": (NOW - timedelta(minutes=rng.randrange(0, 40 * 24 * 60))).isoformat(),
        "model": "lowrouter/auto", "resolved_model": rng.choice(MODELS),
        "provider": "ovh", "region": "fr-par", "key_id": "key_a",
        "tokens": {"prompt": rng.randrange(500), "completion": 7, "total": 0},
        "cost": {"amount": f"0.{rng.randrange(10**6):06d}", "currency": "EUR"},
    }))


def from_scratch(conn) -> set[tuple]:
    return set(conn.execute(
        f"SELECT created_at / {rollup.BUCKET_MS}, coalesce(resolved_model, ''), count(*), "
        "sum(total_tokens), sum(cost_nanos) FROM generations GROUP BY 1, 2"
    ))


def rolled(conn) -> set[tuple]:
    return set(conn.execute(f"SELECT * FROM {rollup.SPEND.view} WHERE requests <> 0"))


def test_pages_with_revisions_replays_and_moves_keep_the_roll_up_exact(cache):
    rng = random.Random(7)
    revision = {}
    for page in range(30):
        rows = []
        for i in rng.sample(range(400), 40):  # new ids, revisions, and stale replays
            if i in revision and rng.random() < 0.3:
                rows.append(row(i, revision[i], rng))  # a replay: no newer revision
                continue
            revision[i] = revision.get(i, 0) + 1
            rows.append(row(i, revision[i], rng))
        cache.apply_page(rows, [], f"c{page}")
        assert rolled(cache.conn) == from_scratch(cache.conn), f"after page {page}"
        assert rollup.in_step(cache.conn)
    assert len(revision) > 200


def _figures(conn, **scope):
    query = aggregates.DashboardQuery(
        now_ms=to_ms(NOW), utc=scope.pop("utc"), scope=HistoryFilter(**scope)
    )
    return aggregates.dashboard(conn, query)


@pytest.mark.parametrize("utc", [True, False])
@pytest.mark.parametrize("model", [None, "b/two"])
def test_dock_figures_from_the_roll_up_equal_those_from_the_rows(cache, utc, model):
    rng = random.Random(3)
    for page in range(5):
        cache.apply_page([row(page * 200 + i, 1, rng) for i in range(200)], [], f"c{page}")
    assert rollup.in_step(cache.conn)
    reads = []
    cache.conn.set_trace_callback(reads.append)
    from_roll_up = _figures(cache.conn, utc=utc, model=model)
    answered = f"FROM {rollup.SPEND.table} WHERE bucket"
    assert any(answered in sql for sql in reads), "the roll-up answered"
    cache.conn.execute(f"DROP TABLE {rollup.SPEND.table}")
    reads.clear()
    from_rows = _figures(cache.conn, utc=utc, model=model)
    assert not any(answered in sql for sql in reads)
    cache.conn.set_trace_callback(None)
    assert from_roll_up == from_rows
    assert sum(from_rows.spend.requests) > 0


def test_rows_written_another_way_are_noticed_and_the_roll_up_rebuilt(cache):
    rng = random.Random(5)
    cache.apply_page([row(i, 1, rng) for i in range(100)], [], "c1")
    assert rollup.in_step(cache.conn)
    with cache.transaction() as conn:  # not through apply_page
        conn.execute("DELETE FROM generations WHERE rowid % 3 = 0")
    assert not rollup.in_step(cache.conn)
    start, end = to_ms(NOW - timedelta(days=40)), to_ms(NOW + timedelta(days=1))
    start -= start % rollup.BUCKET_MS
    end -= end % rollup.BUCKET_MS
    assert rollup.spend_rows(cache.conn, [start, end], None) is None, "not trusted: scan"
    assert rollup.ensure(cache.conn)
    assert rollup.in_step(cache.conn) and rolled(cache.conn) == from_scratch(cache.conn)


def test_pages_stored_by_an_older_lowdash_are_noticed(cache):
    rng = random.Random(9)
    cache.apply_page([row(i, 1, rng) for i in range(50)], [], "c1")
    with cache.transaction() as conn:  # an older version: revises a cost, moves the cursor
        conn.execute("UPDATE generations SET cost_nanos = cost_nanos + 5, revision = 2 "
                     "WHERE id = 'gen_00007'")
        conn.execute("UPDATE meta SET value = 'c2' WHERE key = 'feed_cursor'")
    assert not rollup.in_step(cache.conn), "same row count, yet out of step"
    assert rollup.ensure(cache.conn) and rolled(cache.conn) == from_scratch(cache.conn)


def test_pages_after_an_older_lowdash_s_do_not_make_a_stale_roll_up_look_right(cache):
    rng = random.Random(4)
    cache.apply_page([row(i, 1, rng) for i in range(50)], [], "c1")
    with cache.transaction() as conn:  # an older version revises a cost and moves the cursor
        conn.execute("UPDATE generations SET cost_nanos = cost_nanos + 5, revision = 2 "
                     "WHERE id = 'gen_00007'")
        conn.execute("UPDATE meta SET value = 'c2' WHERE key = 'feed_cursor'")
    cache.apply_page([row(i, 1, rng) for i in range(50, 60)], [], "c3")  # then this one
    cache.apply_page([], [], "c4")
    for roll_up in rollup.ALL:
        assert not rollup.in_step(cache.conn, roll_up), roll_up
    assert rollup.spend_rows(cache.conn, [0, 10 * rollup.BUCKET_MS], None) is None
    for roll_up in rollup.ALL:
        assert rollup.ensure(cache.conn, roll_up)
    assert rolled(cache.conn) == from_scratch(cache.conn)
    cache.apply_page([row(i, 2, rng) for i in range(55, 65)], [], "c5")
    assert rollup.in_step(cache.conn) and rolled(cache.conn) == from_scratch(cache.conn)


def test_a_big_cache_from_before_the_roll_up_opens_without_it_then_gets_it(
    tmp_path, monkeypatch
):
    from lowdash_desktop.store import db

    path = tmp_path / "old.sqlite3"
    first, _ = Cache.open(path)
    rng = random.Random(1)
    first.apply_page([row(i, 1, rng) for i in range(60)], [], "c")
    first.conn.execute(f"DROP TABLE {rollup.SPEND.table}")  # as written before the roll-up
    first.apply_page([row(i, 2, rng) for i in range(40, 80)], [], "c2")  # still writes fine
    first.close()
    monkeypatch.setattr(db, "BUILD_AT_OPEN_MAX_ROWS", 10)
    again, _ = Cache.open(path)
    assert not rollup.exists(again.conn), "a big cache is not held up at open"
    assert rollup.ensure(again.conn)
    assert rolled(again.conn) == from_scratch(again.conn)
    again.close()
    monkeypatch.setattr(db, "BUILD_AT_OPEN_MAX_ROWS", 50_000)
    small, _ = Cache.open(path)
    assert rollup.in_step(small.conn)
    small.close()


def test_a_rebuild_gives_up_when_a_page_lands_while_it_adds_up(cache, monkeypatch):
    rng = random.Random(2)
    cache.apply_page([row(i, 1, rng) for i in range(50)], [], "c1")
    cache.conn.execute(f"DROP TABLE {rollup.SPEND.table}")
    other = Cache.open_reader(cache.path)
    landed = []

    def land_a_page(bucket: int) -> int:  # called while the groups are being added up
        if not landed:
            landed.append(True)
            other.apply_page([row(900, 1, rng)], [], "c2")
        return bucket

    cache.conn.create_function("land", 1, land_a_page)
    adding_up = rollup.SPEND.groups.replace(
        f"SELECT created_at / {rollup.BUCKET_MS}", f"SELECT land(created_at / {rollup.BUCKET_MS})"
    )
    with monkeypatch.context() as patched:
        patched.setattr(rollup.SPEND, "groups", adding_up)
        assert rollup.rebuild(cache.conn) is False
    assert landed and not rollup.exists(cache.conn)
    assert rollup.rebuild(cache.conn) is True
    assert rolled(cache.conn) == from_scratch(cache.conn)
    other.close()
