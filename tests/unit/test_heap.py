"""heap.trim(): freed memory goes back to the OS where the C library allows it."""

from __future__ import annotations

import platform
import sqlite3
import sys

import pytest

from lowdash_desktop import heap

# trim() and limit_arenas() are glibc calls; elsewhere (macOS, Windows, musl) they do nothing
GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
needs_glibc = pytest.mark.skipif(not GLIBC, reason="malloc_trim and mallopt are glibc calls")


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@needs_glibc
def test_trim_returns_memory_freed_on_a_worker_thread():
    import threading

    assert heap.trim()

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


def test_trim_and_the_arena_cap_say_whether_the_c_library_took_them():
    assert heap.trim() is GLIBC
    assert heap.limit_arenas() is GLIBC


_ARENAS = r"""
import ctypes, os, sys, tempfile, threading
from lowdash_desktop import heap
if sys.argv[1] == "limit":
    assert heap.limit_arenas(per_core=1)
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
go = threading.Barrier(12)
def work():
    go.wait()  # all at once, so each would want an arena of its own
    blocks = [bytearray(4096) for _ in range(2000)]
    del blocks
threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads: t.start()
for t in threads: t.join()
path = tempfile.mktemp()
fp = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, fp)
libc.fclose(fp)
print(open(path).read().count("<heap nr="), os.cpu_count())
os.unlink(path)
"""


@needs_glibc
def test_limit_arenas_caps_the_heaps_threads_spread_over():
    import subprocess

    def arenas(mode: str) -> tuple[int, int]:
        out = subprocess.run(
            [sys.executable, "-c", _ARENAS, mode], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr[-2000:]
        heaps, cores = out.stdout.split()
        return int(heaps), int(cores)

    limited, cores = arenas("limit")
    default, _ = arenas("default")
    assert limited <= cores
    assert default > limited, "without the cap, threads spread over more arenas"
