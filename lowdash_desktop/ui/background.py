"""Run one short blocking call (a network request) off the UI thread, answer by signal."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    done = Signal(object)
    error = Signal(object)


_IN_FLIGHT: set[_Task] = set()  # keeps each task (and its signals) alive until it has run
# set by the tests' hygiene check (tests/conftest.py): each call then keeps the stack that
# created it, so work left running after a test is named by where it started
TRACE_ORIGINS = False


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals):
        super().__init__()
        self.fn = fn
        self.signals = signals
        self.origin = "".join(traceback.format_stack(limit=6)[:-2]) if TRACE_ORIGINS else ""
        self.ended = threading.Event()

    def describe(self) -> str:
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        return f"{name}\n{self.origin}" if self.origin else name

    def run(self) -> None:
        try:
            try:
                value = self.fn()
            except Exception as exc:  # delivered to the UI as a value, never lost
                self.signals.error.emit(exc)
            else:
                self.signals.done.emit(value)
        except RuntimeError:
            pass  # the receiver was closed while the call ran: nobody is waiting any more
        finally:
            _IN_FLIGHT.discard(self)
            self.ended.set()


class BackgroundCall(QObject):
    """`BackgroundCall(fn).start()`; connect `done(value)` and `error(exception)` first."""

    done = Signal(object)
    error = Signal(object)

    def __init__(self, fn: Callable[[], Any], parent: QObject | None = None):
        super().__init__(parent)
        self._signals = _Signals()
        self._signals.done.connect(self.done)
        self._signals.error.connect(self.error)
        self._task = _Task(fn, self._signals)
        self._task.setAutoDelete(False)

    def start(self) -> None:
        _IN_FLIGHT.add(self._task)
        QThreadPool.globalInstance().start(self._task)

    def in_flight(self) -> bool:
        return self._task in _IN_FLIGHT

    def drop_if_queued(self) -> bool:
        """Take the call off the pool's queue if no thread has started it; True if taken."""
        if self.in_flight() and QThreadPool.globalInstance().tryTake(self._task):
            _IN_FLIGHT.discard(self._task)
            self._task.ended.set()
            return True
        return False


def finish(owner: QObject, interrupt: Callable[[], object], timeout_ms: int = 3000) -> bool:
    """End the calls `owner` and its children started: the queued ones are dropped, the running
    ones are waited for while `interrupt()` (cutting their cache queries) runs every 50 ms.

    For a window closing while its figures are computed: nothing it started outlives it, so
    no call reads a cache that is closed or delivers to a widget that is gone. False if some
    were still running after `timeout_ms` (a platform request that ignores the interrupt).
    """
    calls = [c for c in owner.findChildren(BackgroundCall) if not c.drop_if_queued()]
    running = [c._task for c in calls if c.in_flight()]
    deadline = time.monotonic() + timeout_ms / 1000
    while running:
        interrupt()
        running = [t for t in running if not t.ended.wait(0.05)]
        if time.monotonic() > deadline:
            return False
    return True


def in_flight() -> list[str]:
    """The calls started and not finished: each named by its function (and, with
    TRACE_ORIGINS, the stack that started it)."""
    return [task.describe() for task in list(_IN_FLIGHT)]
