"""Keep the heap small: few malloc arenas, and freed pages handed back after bursts of work.

The dock figures, the eco panel and a sync allocate tens of MB on worker threads (SQLite
sorters, Python rows) and free them again; glibc keeps such pages in its per-thread arenas
until asked. `trim()` asks (Linux with glibc only; elsewhere it does nothing).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        fn = ctypes.CDLL(None).malloc_trim  # glibc; musl has no such call
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


M_ARENA_MAX = -8  # glibc's mallopt() parameter number


def limit_arenas(per_core: int = 2) -> bool:
    """Cap glibc's malloc arenas at `per_core` x cores (its default is 8 x cores).

    Every thread that allocates (the sync, its prefetch, the dock and eco queries, the CSV
    ranges) may otherwise get an arena of its own, and each keeps its high-water mark. Call
    it before the worker threads start. True when the C library took it.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import os

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt(M_ARENA_MAX, max(1, per_core * (os.cpu_count() or 1))) == 1


def trim() -> bool:
    """Release free heap memory; True when the C library could do it."""
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True
