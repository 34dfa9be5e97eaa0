"""Quitting: background work is stopped before Python tears down the objects it uses."""

from __future__ import annotations

import sqlite3
import threading
import time

from lowdash_desktop.app import let_workers_finish
from lowdash_desktop.store import db
from lowdash_desktop.ui.background import BackgroundCall

ENDLESS = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 50000000000) "
           "SELECT count(*) FROM c")


def test_quitting_interrupts_cache_queries_and_waits_for_other_calls(qtbot, tmp_path):
    db.connect(tmp_path / "cache.sqlite3").close()
    outcomes: list[str] = []
    query_running, work_running = threading.Event(), threading.Event()

    def long_query():
        conn = db.connect(tmp_path / "cache.sqlite3")
        try:
            query_running.set()
            conn.execute(ENDLESS).fetchone()
            outcomes.append("query ran to its end")
        except sqlite3.OperationalError as exc:
            outcomes.append(f"query {exc}")
        finally:
            conn.close()

    def short_work():
        work_running.set()
        time.sleep(0.2)  # an import, say: it cannot be interrupted, only waited for
        outcomes.append("short work done")

    calls = [BackgroundCall(long_query), BackgroundCall(short_work)]
    for call in calls:
        call.start()
    # both running (one not yet started would be dropped from the queue, as at a real quit)
    assert query_running.wait(30) and work_running.wait(30)
    assert let_workers_finish(timeout_ms=60_000)
    assert sorted(outcomes) == ["query interrupted", "short work done"]


def test_interrupt_all_reaches_only_open_connections(tmp_path):
    path = tmp_path / "cache.sqlite3"
    kept = db.connect(path)
    db.connect(path).close()
    assert db.interrupt_all() >= 1
    assert kept.execute("SELECT 1").fetchone() == (1,), "an idle connection is unharmed"
    kept.close()
