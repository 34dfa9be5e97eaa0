"""Run one short blocking call (a network request) off the UI thread, answer by signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    done = Signal(object)
    error = Signal(object)


_IN_FLIGHT: set[_Task] = set()  # keeps each task (and its signals) alive until it has run


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals):
        super().__init__()
        self.fn = fn
        self.signals = signals

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
