"""Hand freed heap pages back to the operating system after bursts of background work.

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


def trim() -> bool:
    """Release free heap memory; True when the C library could do it."""
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True
