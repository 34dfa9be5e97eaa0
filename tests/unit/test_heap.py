"""heap.trim(): freed memory goes back to the OS where the C library allows it."""

from __future__ import annotations

import sqlite3
import sys

import pytest

from lowdash_desktop import heap


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim")
def test_trim_returns_memory_freed_on_a_worker_thread():
    import threading

    if not heap.trim():
        pytest.skip("this C library has no malloc_trim (e.g. musl)")

    def churn() -> None:  # what a dock query leaves behind: a big SQLite sort, then close
        conn = sqlite3.connect(":memory:")
        conn.execute("PRAGMA cache_size = -200000")
        conn.execute("CREATE TABLE t(a, b)")
        conn.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 300000) "
            "INSERT INTO t SELECT i, randomblob(120) FROM s"
        )
        conn.execute("SELECT a, b FROM t ORDER BY b").fetchone()
        conn.close()

    heap.trim()
    before = _rss_mb()
    worker = threading.Thread(target=churn)
    worker.start()
    worker.join()
    grown = _rss_mb()
    assert heap.trim()
    after = _rss_mb()
    assert grown - before > 8, "the churn should have grown the heap"
    released = grown - after
    assert released > 0.6 * (grown - before), f"trim gave back {released:.1f} MB"


def test_trim_is_harmless_everywhere():
    assert heap.trim() in (True, False)
