"""What a GUI test leaves behind, and where each leftover was created.

Qt cannot tell which QTimer, QThread or window a test made, nor which `QTimer.singleShot` is
still waiting: a parentless object is invisible to findChildren(). So for the test session the
constructors of QTimer, QThread and the widget classes, and QTimer.singleShot, are wrapped to
keep a weak reference and the creating stack. install() runs once from conftest; start() and
leftovers() bracket each test (the autouse fixture in conftest.py).
"""

from __future__ import annotations

import traceback
import weakref
from dataclasses import dataclass, field

_HERE = __file__


def _stack() -> str:
    """The last frames that led here, the wrappers left out."""
    frames = [f for f in traceback.extract_stack()[:-1] if f.filename != _HERE]
    return "".join(traceback.format_list(frames[-6:])).rstrip()


@dataclass(eq=False)
class Created:
    ref: weakref.ref
    stack: str


@dataclass(eq=False)
class PendingShot:
    msec: int
    stack: str
    context: weakref.ref | None
    cancelled: bool = field(default=False)
    timers: list = field(default_factory=list)  # the QTimer PySide makes for it, if any

    def cancel(self) -> None:
        """It will do nothing if it comes due; its timer (when PySide made one) is stopped."""
        import shiboken6

        self.cancelled = True
        PENDING.discard(self)
        for ref in self.timers:
            timer = ref()
            if timer is not None and shiboken6.isValid(timer):
                timer.stop()


TIMERS: list[Created] = []
THREADS: list[Created] = []
WIDGETS: list[Created] = []  # only those made without a parent
PENDING: set[PendingShot] = set()
_installed = False
# PySide runs a singleShot on a QTimer of its own: that one is the pending call, not a leak
_capture: list | None = None
_firing: PendingShot | None = None  # a call queued by a queued call is named by the first


def _track(cls, registry, only_parentless=False):
    original = cls.__dict__["__init__"]

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if only_parentless and self.parent() is not None:
            return
        if _capture is not None and registry is TIMERS:
            _capture.append(weakref.ref(self))
            return
        registry.append(Created(weakref.ref(self), _stack()))

    cls.__init__ = __init__


def install() -> None:
    """Wrap the constructors and QTimer.singleShot (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from PySide6 import QtWidgets
    from PySide6.QtCore import QObject, QThread, QTimer

    _track(QTimer, TIMERS)
    _track(QThread, THREADS)
    for name in dir(QtWidgets):
        cls = getattr(QtWidgets, name)
        if (
            isinstance(cls, type)
            and issubclass(cls, QtWidgets.QWidget)
            and "__init__" in cls.__dict__
        ):
            _track(cls, WIDGETS, only_parentless=True)

    original = QTimer.singleShot

    def single_shot(msec, *rest):
        args = list(rest)
        functor = args[-1] if args else None
        if callable(functor) and not isinstance(functor, str):
            context = next((a for a in args[:-1] if isinstance(a, QObject)), None)
            owner = getattr(functor, "__self__", None)
            if context is None and isinstance(owner, QObject):
                # Qt drops a call whose receiver is gone; keep that by naming it the context
                context = owner
                args.insert(len(args) - 1, owner)
            stack = _stack()
            origin = _firing.origin if _firing is not None else stack
            if origin is not stack:
                stack += "\n  queued, in a chain, by the call made at:\n" + origin
            entry = PendingShot(
                int(msec), stack, weakref.ref(context) if context is not None else None
            )
            entry.origin = origin

            def fire(*fire_args):
                global _firing
                PENDING.discard(entry)
                if not entry.cancelled:
                    outer, _firing = _firing, entry
                    try:
                        functor(*fire_args)
                    finally:
                        _firing = outer

            args[-1] = fire
            PENDING.add(entry)
            global _capture
            _capture = entry.timers
            try:
                return original(msec, *args)
            finally:
                _capture = None
        return original(msec, *args)

    QTimer.singleShot = staticmethod(single_shot)


def start() -> None:
    """Forget what earlier tests made: leftovers() reports what this test made."""
    for registry in (TIMERS, THREADS, WIDGETS):
        registry.clear()
    for entry in list(PENDING):  # an earlier test's call: never let it fire here
        entry.cancel()


def _alive(created: Created):
    import shiboken6

    obj = created.ref()
    return obj if obj is not None and shiboken6.isValid(obj) else None


def where(obj) -> str:
    """The creating stack of a tracked object, or '' if it was made before the test or by Qt."""
    for registry in (TIMERS, THREADS, WIDGETS):
        for created in registry:
            if created.ref() is obj:
                return created.stack
    return ""


def active_timers():
    return [t for c in TIMERS if (t := _alive(c)) is not None and t.isActive()]


def running_threads():
    return [t for c in THREADS if (t := _alive(c)) is not None and t.isRunning()]


def pending_shots() -> list[PendingShot]:
    """singleShot calls still waiting whose receiver (if any) still exists."""
    import shiboken6

    waiting = []
    for entry in list(PENDING):
        context = entry.context() if entry.context is not None else None
        if entry.context is not None and (context is None or not shiboken6.isValid(context)):
            PENDING.discard(entry)  # Qt dropped it with its receiver
            continue
        waiting.append(entry)
    return waiting
