"""Create PySide6's Python classes on the UI thread, a slice at a time, before worker imports.

PySide6 (6.8 and later) creates each Qt class, with its enums, on first use: module attribute
lookups and C++-to-Python conversions both do it. That creation is not safe on two threads at
once: it runs Python code (the enums), so the GIL can pass to another thread half-way, and
shiboken's tables of types are shared. pyqtgraph's import touches every attribute of QtCore,
QtGui and QtWidgets; run on the warm-up thread while the UI thread painted, it crashed the app
in about one start in twenty on this machine (a segfault on the UI thread, in the event loop).

So, after the first paint, `Materializer` creates every class of the Qt modules the warm-up
imports will touch, on the UI thread, in slices of a few milliseconds with the event loop
running in between; the warm-up imports start once it is done and create no Qt class.
"""

from __future__ import annotations

import importlib
import time
from collections import deque
from types import ModuleType

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

# QtCore, QtGui and QtWidgets, whose every attribute pyqtgraph copies at import; and the modules
# pyqtgraph imports besides them (a module's import creates some classes, too)
MODULES = (
    "PySide6.QtCore",
    "PySide6.QtGui",
    "PySide6.QtWidgets",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtSvg",
    "PySide6.QtTest",
)
# Imported only: pyqtgraph uses none of its classes at import, and all of them cost 2 MB
IMPORT_ONLY = frozenset({"PySide6.QtOpenGL"})

SLICE_S = 0.008  # UI-thread time per turn of the event loop (one class can take ~15 ms)


def viewport(area: QAbstractScrollArea) -> QWidget:
    """`area.viewport()`, without making PySide6 create some sixty widget classes first.

    A C++ widget reaching Python for the first time as a `QWidget*` (as `viewport()` returns
    it) is matched against every subclass of QWidget, and PySide6 creates each of those
    classes (QWizard, QMdiArea, QCalendarWidget, ... and their enums) to do so: 56 M
    instructions, ~14 ms, which the first call before the first paint paid. `findChild` with
    the class given returns it as that class and creates none. The viewport is the area's
    direct child of that name since Qt 4; `viewport()` stays the answer if it ever is not.
    """
    found = area.findChild(
        QWidget, "qt_scrollarea_viewport", Qt.FindChildOption.FindDirectChildrenOnly
    )
    return found if found is not None else area.viewport()


def unresolved(module: ModuleType) -> list[str]:
    """The module's attributes PySide6 has not created yet (listed, but not in its dict)."""
    return sorted(set(dir(module)) - set(vars(module)))


class Materializer(QObject):
    """`Materializer(parent).start()`; `finished` once every class of `modules` exists."""

    finished = Signal()

    def __init__(self, parent: QObject | None = None, modules: tuple[str, ...] = MODULES,
                 slice_s: float = SLICE_S):
        super().__init__(parent)
        self.slice_s = slice_s
        self.turns = 0  # event-loop turns used (for tests and profiling)
        self._modules = deque(modules)
        self._module: ModuleType | None = None
        self._names: deque[str] = deque()
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self._step)

    def start(self) -> None:
        self._timer.start()

    def _step(self) -> None:
        self.turns += 1
        deadline = time.perf_counter() + self.slice_s
        while True:
            while not self._names:
                if not self._next_module():
                    self.finished.emit()
                    return
            getattr(self._module, self._names.popleft())
            if time.perf_counter() >= deadline:
                break
        self._timer.start()

    def _next_module(self) -> bool:
        """Import the next module (one that is missing is skipped); False when none is left."""
        while self._modules:
            name = self._modules.popleft()
            try:
                self._module = importlib.import_module(name)
            except ImportError:
                continue
            self._names = deque(() if name in IMPORT_ONLY else unresolved(self._module))
            return True
        return False
