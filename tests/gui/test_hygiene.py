"""The leak check of tests/conftest.py: each kind of leftover is reported, named by the line
that created it, and cleaned up (so this test's own teardown, which runs the same check, passes).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, QThread, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from tests import hygiene
from tests.conftest import qt_leftovers

HERE = "test_hygiene.py"


def leftovers(windows_before=()) -> list[str]:
    return qt_leftovers(list(windows_before), [])


def only(problems: list[str], kind: str) -> str:
    assert len(problems) == 1, problems
    assert problems[0].startswith(kind), problems[0]
    assert HERE in problems[0], "named by the line that created it"
    return problems[0]


def test_a_parentless_running_qthread_is_reported_and_stopped(qtbot):
    thread = QThread()
    thread.start()
    qtbot.waitUntil(thread.isRunning)
    only(leftovers(), "QThread still running")
    assert thread.isFinished()
    assert leftovers() == []


def test_a_parentless_active_qtimer_is_reported_and_stopped(qtbot):
    timer = QTimer()
    timer.start(60_000)
    text = only(leftovers(), "QTimer still active")
    assert "(no parent)" in text
    assert not timer.isActive()


def test_a_qtimer_under_a_parentless_object_is_reported(qtbot):
    owner = QObject()
    timer = QTimer(owner)
    timer.start(60_000)
    text = only(leftovers(), "QTimer still active")
    assert "in QObject" in text
    assert not timer.isActive()


def test_a_pending_single_shot_is_reported_and_cancelled(qtbot):
    fired = []
    QTimer.singleShot(60_000, lambda: fired.append(1))
    (shot,) = hygiene.pending_shots()
    only(leftovers(), "QTimer.singleShot(60000) still pending")
    assert shot.cancelled and hygiene.pending_shots() == []
    assert not any(t() is not None and t().isActive() for t in shot.timers), "its timer stopped"
    assert fired == []
    assert leftovers() == []


def test_a_short_pending_single_shot_is_reported_then_run_out(qtbot):
    fired = []
    QTimer.singleShot(300, lambda: fired.append(1))
    only(leftovers(), "QTimer.singleShot(300) still pending")
    assert fired == [1], "a chain of short calls is not left stuck for the next test"


def test_a_single_shot_that_ran_or_lost_its_receiver_is_not_a_leak(qtbot):
    fired = []
    QTimer.singleShot(0, lambda: fired.append(1))
    qtbot.waitUntil(lambda: fired == [1])
    # one due on the next turn of the event loop is run at teardown, as a deleteLater() is
    QTimer.singleShot(0, lambda: QTimer.singleShot(0, lambda: fired.append(3)))
    owner = QObject()
    QTimer.singleShot(60_000, owner, lambda: fired.append(2))
    shiboken6.delete(owner)  # Qt drops the call with its receiver
    assert leftovers() == []
    assert fired == [1, 3]


def test_a_hidden_top_level_widget_is_reported_and_closed(qtbot):
    before = QApplication.topLevelWidgets()
    widget = QWidget()
    widget.setObjectName("forgotten")
    only(leftovers(before), "top-level widget left hidden")
    assert widget not in QApplication.topLevelWidgets() or not shiboken6.isValid(widget)


def test_a_test_with_qapp_but_no_qtbot_is_checked_too(qapp, request):
    assert "isolated_qt" in request.fixturenames
    timer = QTimer()
    timer.start(60_000)
    only(leftovers(), "QTimer still active")
