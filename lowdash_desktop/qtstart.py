"""Load PySide6, then at once stop its import hook reading the source of every later module.

Imported first by `app`, before any other module of the window: each module imported between
PySide6 and the switch costs a read of its source (about 0.4 ms each; 50 modules, 20 ms of a
start, when the switch came after the app's own imports).
"""

from __future__ import annotations

import sys

import PySide6.QtCore  # noqa: F401  (this import installs shiboken's import hook)


def skip_pyside_source_scan() -> bool:
    """Stop PySide6 reading the source of every module imported after it.

    PySide6's import hook looks for `from __feature__ import ...` by calling
    `inspect.getsource()` on each newly imported module, and linecache then keeps every
    source line for the life of the process: time at start-up and several MB here.
    Lowdash uses no `__feature__` switch, so every module keeps PySide's default behaviour.
    (The frozen app ships no sources, so there the scan already finds nothing.)
    Returns False when this PySide6 has no such hook.
    """
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = lambda _module: False
    return True


skip_pyside_source_scan()
