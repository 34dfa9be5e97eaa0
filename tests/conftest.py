"""Test isolation: offscreen Qt, temp settings/data dir, in-memory keyring, no leaked threads."""

from __future__ import annotations

import gc
import os
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring  # noqa: E402
import pytest  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402


class MemoryKeyring(KeyringBackend):
    """A secure-looking keyring that lives in memory for one test."""

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Every test gets its own data dir, and never sees a real API key."""
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("LOWDASH_DATA_DIR", str(path))
    monkeypatch.delenv("LOWDASH_API_KEY", raising=False)
    return path


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail a test that leaves a Python thread (other than daemon servers' workers) running."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    for thread in leaked:
        thread.join(timeout=2)
    leaked = [t for t in leaked if t.is_alive()]
    assert not leaked, f"test left threads running: {leaked}"


@pytest.fixture(scope="session")
def qapp_cls():
    from lowdash_desktop.app import LowdashApp

    return LowdashApp


@pytest.fixture(scope="session")
def qapp_args():
    return ["lowdash-tests"]


# Qt's own top-level widgets that outlive a test by design (created once, reused): the tooltip
# window QToolTip keeps for the next tooltip
QT_OWN_WINDOWS = ("QTipLabel",)
# a pending QTimer.singleShot this short is run out after it is reported; a longer one cancelled
SHORT_SHOT_S = 2.0


def _describe(obj) -> str:
    """'QTimer(interval=30000) in MainWindow "main_window"': a Qt object and where it lives."""
    chain = []
    parent = obj.parent() if hasattr(obj, "parent") else None
    while parent is not None:
        name = parent.objectName()
        chain.append(type(parent).__name__ + (f' "{name}"' if name else ""))
        parent = parent.parent()
    what = type(obj).__name__
    if hasattr(obj, "interval"):
        what += f"(interval={obj.interval()})"
    elif hasattr(obj, "title") and obj.title():  # a menu
        what += f' "{obj.title()}"'
    elif hasattr(obj, "windowTitle") and obj.windowTitle():
        what += f' "{obj.windowTitle()}"'
    if obj.objectName():
        what += f' "{obj.objectName()}"'
    return what + (" in " + " in ".join(chain) if chain else " (no parent)")


def _qt_objects(kind):
    """Every `kind` reachable from the application and its windows (hidden ones too)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    found = list(app.findChildren(kind))
    for window in QApplication.topLevelWidgets():
        found.extend(window.findChildren(kind))
    return found


def _flush_deletes() -> None:
    """Run the deleteLater()s of closed widgets (a deleted window deletes its children, whose
    own deleteLater()s follow), so what is left is what nobody will delete."""
    from PySide6.QtCore import QCoreApplication, QEvent

    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()


def _named(obj) -> str:
    """_describe() plus, when the test made it, the stack that created it."""
    from tests import hygiene

    stack = hygiene.where(obj)
    return _describe(obj) + ("\n  created at:\n" + stack if stack else "")


def qt_leftovers(windows_before, timers_before) -> list[str]:
    """Everything Qt-side the test left behind, each named with where it was created; what was
    left is stopped, cancelled or closed so the next test starts clean."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QThread, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from lowdash_desktop.store import db
    from lowdash_desktop.sync.worker import SyncController
    from lowdash_desktop.ui import background
    from tests import hygiene

    _flush_deletes()
    problems: list[str] = []

    pool = QThreadPool.globalInstance()
    if pool.activeThreadCount():
        calls = background.in_flight()
        problems.append(
            f"{pool.activeThreadCount()} thread-pool task(s) still running:\n"
            + "\n".join(calls or ["(not a BackgroundCall)"])
        )
        pool.clear()
        while not pool.waitForDone(50):  # a cache query left running is cut short
            db.interrupt_all()

    running = [c for c in list(SyncController.live) if c.thread_running()]
    for controller in running:
        problems.append("sync thread still running: " + _describe(controller))
        controller.shutdown()
    threads = hygiene.running_threads()
    threads += [t for t in _qt_objects(QThread) if t.isRunning() and t not in threads]
    for thread in threads:
        problems.append("QThread still running: " + _named(thread))
        thread.quit()
        thread.wait(2000)

    timers = hygiene.active_timers()
    timers += [
        t
        for t in _qt_objects(QTimer)
        if t.isActive() and t not in timers_before and t not in timers
    ]
    for timer in timers:
        problems.append("QTimer still active: " + _named(timer))
        timer.stop()

    # a singleShot(0) is the next turn of the event loop, as a posted event: run those (and the
    # chains they queue, such as chart_style's one-chart-per-turn build) as deleteLater()s are
    deadline = time.monotonic() + SHORT_SHOT_S
    while any(s.msec == 0 for s in hygiene.pending_shots()) and time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
    shots = hygiene.pending_shots()
    for shot in shots:
        problems.append(f"QTimer.singleShot({shot.msec}) still pending, called at:\n{shot.stack}")
    # a short one is let run out (a chain of them, as chart_style's queue, would otherwise stay
    # stuck for every later test); a long one is cancelled
    deadline = time.monotonic() + SHORT_SHOT_S
    while any(s.msec <= SHORT_SHOT_S * 1000 for s in hygiene.pending_shots()):
        if time.monotonic() > deadline:
            break
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
    for shot in hygiene.pending_shots():
        shot.cancel()

    def left_behind():
        return [
            w
            for w in QApplication.topLevelWidgets()
            if w not in windows_before and type(w).__name__ not in QT_OWN_WINDOWS
        ]

    left = left_behind()
    if left:  # a parentless widget Python owns (pyqtgraph's plot menus) goes with its owner
        del left
        gc.collect()
        _flush_deletes()
        left = left_behind()
    for widget in left:
        state = "open" if widget.isVisible() else "hidden"
        problems.append(f"top-level widget left {state}: " + _named(widget))
        widget.close()
        widget.deleteLater()
    _flush_deletes()
    return problems


@pytest.fixture(autouse=True)
def isolated_qt(request, tmp_path):
    """For GUI tests (those using qtbot or just qapp): QSettings in a temp folder; and the test
    fails if it leaves thread-pool work, a running QThread, an active QTimer (parentless or under
    a parentless object too), a pending QTimer.singleShot or a top-level widget (hidden too)
    behind.

    Each leak is named by where it lives and by the stack that created it (tests/hygiene.py);
    background calls by the stack that started them (ui.background.TRACE_ORIGINS). What was
    left is then stopped, so the next test starts clean.
    """
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from lowdash_desktop.ui import background
    from tests import hygiene

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "settings"))
    background.TRACE_ORIGINS = True
    hygiene.install()
    request.getfixturevalue("qapp")
    windows_before = QApplication.topLevelWidgets()
    timers_before = [t for t in _qt_objects(QTimer) if t.isActive()]
    hygiene.start()
    yield
    problems = qt_leftovers(windows_before, timers_before)
    assert not problems, "test left Qt work or windows behind:\n- " + "\n- ".join(problems)


@pytest.fixture
def demo_platform():
    """A small demo platform on a free loopback port."""
    from lowdash_desktop.demo import DemoPlatform

    platform = DemoPlatform(seed=11, generations=600)
    platform.start()
    yield platform
    platform.stop()


@pytest.fixture
def tls_platform(tmp_path):
    """A demo platform behind HTTPS with a self-signed certificate: (platform, url, cert)."""
    import ssl
    import subprocess

    from lowdash_desktop.demo import DemoPlatform

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    platform = DemoPlatform(seed=3, generations=100)
    platform.start()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    yield platform, platform.serve_tls(context), cert
    platform.stop()
