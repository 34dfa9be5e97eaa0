"""heap.trim(): freed memory goes back to the OS where the C library allows it."""

from __future__ import annotations

import platform
import sys

import pytest

from lowdash_desktop import heap

# trim() and limit_arenas() are glibc calls; elsewhere (macOS, Windows, musl) they do nothing
GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
needs_glibc = pytest.mark.skipif(not GLIBC, reason="malloc_trim and mallopt are glibc calls")


# Each test runs a script in a fresh interpreter: in the test process, memory freed by earlier
# tests makes the heap's growth (and what trim gives back) depend on the test order.
_PRELUDE = r"""
import ctypes, os, sys, tempfile, threading
from lowdash_desktop import heap

def rss_mb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) / 1024 for l in fh if l.startswith("VmRSS:"))

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
"""


def _run(script: str, mode: str) -> list[str]:
    """What `script` (after the prelude) prints, run with `mode` as its argument."""
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", _PRELUDE + script, mode],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


_TRIM = r"""
pins = []

def churn():
    # what a dock query leaves behind on its worker: many mid-sized blocks (below glibc's mmap
    # threshold, so they come from the thread's arena), all freed, under one small block still
    # in use, as the next query's would be. glibc cannot give that space back by itself (the
    # arena's top is in use); only trim() can.
    blocks = [libc.malloc(64 * 1024) for _ in range(1200)]
    for block in blocks:
        ctypes.memset(block, 1, 64 * 1024)  # resident, as a query's pages are
    pins.append(libc.malloc(4096))
    for block in blocks:
        libc.free(block)

if sys.argv[1] == "trim":
    heap.trim()
before = rss_mb()
worker = threading.Thread(target=churn)
worker.start()
worker.join()
grown = rss_mb()
took = heap.trim() if sys.argv[1] == "trim" else True
print(before, grown, rss_mb(), took)
"""


@needs_glibc
def test_trim_returns_memory_freed_on_a_worker_thread():
    def run(mode: str) -> tuple[float, float, float]:
        before, grown, after, took = _run(_TRIM, mode)
        assert took == "True"
        return float(before), float(grown), float(after)

    before, grown, after = run("trim")
    assert grown - before > 20, "the churn should have grown the heap"
    released = grown - after
    assert released > 0.8 * (grown - before), f"trim gave back {released:.1f} MB"
    before, grown, after = run("no-trim")
    assert grown - after < 5, "without trim() the freed blocks stay resident"


def test_trim_and_the_arena_cap_say_whether_the_c_library_took_them():
    assert heap.trim() is GLIBC
    assert heap.limit_arenas() is GLIBC
    assert heap.fix_mmap_threshold() is GLIBC


_MMAP = r"""
if sys.argv[1] == "fixed":
    assert heap.fix_mmap_threshold()
libc.free(libc.malloc(16 << 20))  # a big block freed: glibc raises its threshold past 8 MB
pin = libc.malloc(64)
before = rss_mb()
block = libc.malloc(8 << 20)  # then a window grab's worth of pixels, say
ctypes.memset(block, 1, 8 << 20)
libc.free(block)
print(before, rss_mb())
"""


@needs_glibc
def test_a_fixed_mmap_threshold_gives_big_freed_buffers_back_at_once():
    def kept_mb(mode: str) -> float:
        before, after = map(float, _run(_MMAP, mode))
        return after - before

    assert kept_mb("fixed") < 1
    assert kept_mb("default") > 6, "glibc's moving threshold keeps the freed block resident"


_ARENAS = r"""
if sys.argv[1] == "limit":
    assert heap.limit_arenas(per_core=1)
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
    def arenas(mode: str) -> tuple[int, int]:
        heaps, cores = _run(_ARENAS, mode)
        return int(heaps), int(cores)

    limited, cores = arenas("limit")
    default, _ = arenas("default")
    assert limited <= cores
    assert default > limited, "without the cap, threads spread over more arenas"
