"""Keep the heap small: few malloc arenas, and freed pages handed back after bursts of work.

The dock figures, the eco panel and a sync allocate tens of MB on worker threads (SQLite
sorters, Python rows) and free them again; glibc keeps such pages in its per-thread arenas
until asked. `trim()` asks (Linux with glibc only; elsewhere it does nothing).
"""

from __future__ import annotations

import sys
from functools import cache


@cache
def _libc():
    """The C library, where it has glibc's malloc tuning calls (Linux); else None."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]  # musl has neither call
        libc.malloc_trim.restype = ctypes.c_int
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


M_ARENA_MAX = -8  # glibc's mallopt() parameter numbers
M_MMAP_THRESHOLD = -3


def _mallopt(param: int, value: int) -> bool:
    libc = _libc()
    return libc is not None and libc.mallopt(param, value) == 1


def limit_arenas(per_core: int = 2) -> bool:
    """Cap glibc's malloc arenas at `per_core` x cores (its default is 8 x cores).

    Every thread that allocates (the sync, its prefetch, the dock and eco queries, the CSV
    ranges) may otherwise get an arena of its own, and each keeps its high-water mark. Call
    it before the worker threads start. True when the C library took it.
    """
    import os

    return _mallopt(M_ARENA_MAX, max(1, per_core * (os.cpu_count() or 1)))


def fix_mmap_threshold(size: int = 1024 * 1024) -> bool:
    """Serve every block of `size` bytes or more with its own mapping, returned when freed.

    glibc starts at 128 KB but raises the threshold to the size of each large block freed, up
    to 32 MB; from then on big short-lived buffers (a window grab, a query's result, a TLS
    context) come from the heap and stay resident after they are freed until the next trim:
    8 MB at a million rows. A fixed threshold keeps them out of the heap. True when the C
    library took it.
    """
    return _mallopt(M_MMAP_THRESHOLD, size)


def trim() -> bool:
    """Release free heap memory; True when the C library could do it."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
