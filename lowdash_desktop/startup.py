"""Start-up tricks, each kept because a measurement pays for it (docs/performance.md).

They used to live inside the modules they affect (`api/__init__.py`, `app.py`, `cli.py`),
where a reader met them without the reason. Each function here says what it saves; each is
called from the one place that must run it first. Qt-free and import-free: importing this
module costs nothing, so the command line can call it before anything else loads.
"""

from __future__ import annotations

import gc
import sys


def keep_unused_imports_out() -> None:
    """Keep out two optional imports of httpx/httpcore the app never uses.

    httpx imports its command-line tool (click, rich, pygments: ~6 MB and ~0.1 s) whenever
    those happen to be installed, as they are beside pytest; httpcore loads trio (~4 MB,
    ~0.1 s) for async clients, and ours is synchronous. A None entry in sys.modules makes
    each optional import fail the way they expect when the package is absent. Measured: RSS
    158 -> 150 MB and 0.2 s less background import after the first paint (performance.md,
    "What changed"); loading the client alone, 491 -> 316 modules and 43 -> 34 MB peak RSS
    (issue 18). Nothing before the first paint: httpx loads after it (instructions to the
    paint unchanged without this, 1,222 vs 1,221 M). Called when `lowdash_desktop.api`
    loads, before httpx can.
    """
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]


def skip_pyside_source_scan() -> bool:
    """Stop PySide6 reading the source of every module imported after it.

    PySide6's import hook looks for `from __feature__ import ...` by calling
    `inspect.getsource()` on each newly imported module, and linecache then keeps every
    source line for the life of the process. Lowdash uses no `__feature__` switch, so every
    module keeps PySide's default behaviour. Measured: imports 0.17-0.18 s -> 0.14 s, RSS
    182 -> 158 MB (performance.md); without it the start runs 13 M more instructions to the
    first paint (1,235 vs 1,221 M, callgrind, 100k cache, issue 18). The frozen app ships no
    sources, so there the scan already finds nothing. Call it once PySide6 is imported,
    before the window's modules. Returns False when this PySide6 has no such hook.
    """
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = lambda _module: False
    return True


def pause_collector() -> None:
    """No automatic garbage collection until the window's first paint (`tune_gc` resumes it).

    A start creates ~30k objects that live as long as the app (modules, classes, enums, Qt
    wrappers) and next to no garbage (420 unreachable objects at the paint); each collection
    walks them all again. Measured: ~45 collections, ~10 ms, before the first paint -> none
    (performance.md, "Start-up: no garbage collection before the first paint"); without it
    the start runs 19 M more instructions to the first paint (1,241 vs 1,221 M, callgrind,
    100k cache, issue 18).
    """
    gc.disable()


def resume_collector() -> None:
    """Collect again, without freezing: no first paint came (a sign-in dialog, an error)."""
    gc.enable()


def tune_gc() -> None:
    """After the first paint: move start-up objects out of the collector's sight, then let it
    run again.

    The sync thread allocates many short-lived objects; each full collection would otherwise
    walk every Qt wrapper and module object while holding the GIL, stalling the UI thread.
    Measured: longest UI gap of a 30k sync 80 ms -> 37 ms (performance.md).
    """
    gc.freeze()
    gc.enable()
