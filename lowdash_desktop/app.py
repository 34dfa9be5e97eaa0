"""Start-up of the GUI: choose the account and cache, open the window, shut down in order."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer, qVersion
from PySide6.QtWidgets import QApplication, QMessageBox

from . import __version__, accounts, heap
from .api import errors
from .api.connection import API_KEY_ENV, Connection
from .exitcodes import EXIT_FAILED
from .paths import data_dir
from .session import settings as stored
from .session.session import open_session, upgrade_cache
from .startup import resume_collector, skip_pyside_source_scan, tune_gc
from .store.db import CacheError, needs_upgrade

log = logging.getLogger(__name__)


skip_pyside_source_scan()  # before the window's modules load (startup.py: why)


class LowdashApp(QApplication):
    """The application object: identity for QSettings, and orderly shutdown of workers."""

    def __init__(self, argv: list[str]):
        heap.limit_arenas()  # before any worker thread allocates
        heap.fix_mmap_threshold()
        super().__init__(argv)
        self.setOrganizationName("Lowdash")
        self.setOrganizationDomain("lowdash.example")
        self.setApplicationName("Lowdash")
        self.setApplicationVersion(__version__)
        self.setDesktopFileName("lowdash")
        self._set_icon()
        self.windows: list = []
        self.aboutToQuit.connect(self._shutdown)

    def track(self, window) -> None:
        """Shut `window` down in order on quit, and open the accounts its session asks for."""
        self.windows.append(window)
        window.session.otherAccountRequested.connect(
            lambda connection, info, w=window: self.open_other_account(w, connection, info)
        )

    def open_other_account(self, old, connection: Connection, info):
        """A key of another account: its own cache, its own window; `old` steps aside."""
        from .ui.main_window import MainWindow

        root = old.session.cache_path.parents[2]
        entry = accounts.remember(root, connection.base_url, info.id, info.email, info.name)
        stored.LAST_BASE_URL.set(connection.base_url)
        window = MainWindow(open_session_shown(root, connection, entry))
        self.track(window)
        window.show()
        QTimer.singleShot(0, window.sync_now)
        old.save_state()
        old.shutdown()
        old.hide()
        old.deleteLater()
        if old in self.windows:
            self.windows.remove(old)
        return window

    def _set_icon(self) -> None:
        from PySide6.QtGui import QIcon

        from .resources import icon_files

        icon = QIcon()
        for path in icon_files():
            icon.addFile(str(path))
        if not icon.isNull():
            self.setWindowIcon(icon)

    def _shutdown(self) -> None:
        from .ui.main_window import cancel_platform_calls

        for window in self.windows:
            window.shutdown(quitting=True)
        cancel_platform_calls()
        let_workers_finish()  # before exec() returns and Python starts freeing what they use




def _start_demo(args):
    from .demo import DemoPlatform

    platform = DemoPlatform(seed=args.seed, generations=args.generations)
    platform.start()
    return platform


def run_gui(args, start_log_file=None) -> int:
    """The `lowdash` command without a subcommand.

    `start_log_file` runs in an event-loop turn of its own after the window's first paint.
    """
    app = LowdashApp(sys.argv[:1])
    log.info("Lowdash %s starting (Python %s, Qt %s, %s)", __version__,
             sys.version.split()[0], qVersion(), app.platformName())
    root = data_dir(args.data_dir)
    demo_platform = None
    try:
        if args.demo:
            demo_platform = _start_demo(args)
            connection = Connection(demo_platform.base_url, demo_platform.api_key)
            with connection.client() as client:
                info = client.account()
            account = accounts.KnownAccount(
                "demo", connection.base_url, info.id, info.email, info.name
            )
        else:
            connection, account = _choose_account(root, args)
            if account is None:
                return EXIT_FAILED
        if connection is not None:
            from .ui.network import with_network_settings

            connection = with_network_settings(connection)
        try:
            session = open_session_shown(root, connection, account, demo=args.demo)
        except CacheError as exc:
            QMessageBox.critical(None, "Lowdash", str(exc))
            return EXIT_FAILED
        from .store.cache import CountAhead

        session.count_ahead = CountAhead(session.cache_path)  # while the window's modules load
        if connection is None and not args.demo:
            session.keyring_url = account.base_url  # read after the first paint
        session.sync_on_open = True
        from .ui.main_window import MainWindow

        window = MainWindow(session, lazy=True)
        app.track(window)
        window.firstPainted.connect(tune_gc)
        if start_log_file is not None:
            window.firstPainted.connect(lambda: QTimer.singleShot(0, start_log_file))
        _show_window(app, window, getattr(args, "minimized", False))
        if args.screenshot:
            _arrange_screenshot(app, window, args.screenshot)
        return app.exec()
    finally:
        resume_collector()  # paused by the command line until a first paint, which may not come
        if demo_platform is not None:
            demo_platform.stop()


def let_workers_finish(timeout_ms: int = 10_000) -> bool:
    """Stop the background work before Python tears down the objects it uses.

    A worker thread still running Python while the interpreter exits can crash it (seen: a
    background call's signal emitted while its objects were being freed). Queued calls that
    have not started are dropped; cache queries are interrupted, again every 50 ms so that one
    starting just after is stopped too; what is left (an import, a keyring read) is waited for,
    up to `timeout_ms`. False if something was still running then.
    """
    import time

    from PySide6.QtCore import QThreadPool

    from .store import db

    pool = QThreadPool.globalInstance()
    pool.clear()
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        db.interrupt_all()
        if pool.waitForDone(50):
            return True
        if time.monotonic() > deadline:
            log.warning("background work still running at exit (%d threads)",
                        pool.activeThreadCount())
            return False


def open_session_shown(root: Path, connection: Connection | None, account, demo: bool = False):
    """`open_session`, with a window explaining the wait while an older cache is upgraded
    first (the UI thread goes on meanwhile)."""
    upgraded = None
    if not demo and needs_upgrade(account.cache_path(root)):
        from .ui.upgrade import run_with_progress

        upgraded = run_with_progress(lambda: upgrade_cache(root, account), account.label)
    return open_session(root, connection, account, demo=demo, upgraded=upgraded)


def _show_window(app: QApplication, window, minimized: bool) -> None:
    """Show the window, or start in the tray (`--minimized`); the tray keeps the app alive."""
    from .ui.tray import TrayIcon

    has_tray = TrayIcon.available()
    app.setQuitOnLastWindowClosed(not has_tray)
    if minimized:
        # no first paint may come: figures, tray sums and menus must not wait for one
        QTimer.singleShot(0, window.start_deferred)
    if minimized and has_tray:
        return  # only the tray icon; its menu opens the window
    if minimized:
        window.showMinimized()
    else:
        window.show()


def _choose_account(root: Path, args):
    """The account to open: a known one, or a new sign-in when there is none.

    With a key in LOWDASH_API_KEY the connection comes back at once. A known account's key in
    the keyring is not read here: the window reads it after its first paint (connection None
    and `session.keyring_url`), and offers the sign-in itself if none is stored.
    """
    base_url = args.base_url or stored.LAST_BASE_URL.get() or None
    entry = accounts.find(root, base_url)
    env_key = os.environ.get(API_KEY_ENV)
    if entry:
        return (Connection(entry.base_url, env_key) if env_key else None), entry
    from .secrets import KeyStore  # the keyring loads only when a key is needed
    from .ui.dialogs.sign_in_dialog import SignInDialog

    resume_collector()  # paused by the command line; no first paint while this is open
    # a key from the environment is used, never copied into the keyring
    dialog = SignInDialog(KeyStore(), base_url, key=env_key, remember=not env_key)
    if env_key and base_url:
        QTimer.singleShot(0, dialog.try_sign_in)
    if dialog.exec() != SignInDialog.DialogCode.Accepted or dialog.connection is None:
        return None, None
    info = dialog.account
    entry = accounts.remember(
        root, dialog.connection.base_url, info.id, info.email, info.name
    )
    stored.LAST_BASE_URL.set(dialog.connection.base_url)
    return dialog.connection, entry


def grab_laid_out(widget):
    """A picture of `widget` once the layouts that new figures asked for are done.

    A label whose text just changed has only asked for a new layout (a posted event); a grab
    right then showed wrapped sentences cut to their old number of lines, which the next
    paint on screen would not have.
    """
    from PySide6.QtCore import QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    return widget.grab()


def _arrange_screenshot(app: QApplication, window, target: str, timeout_ms: int = 180_000) -> None:
    """Save a PNG of the window after the first sync, then quit (exit 1 if it never came)."""

    window.resize(1400, 900)  # the same picture whatever size was saved last time
    settle = QTimer(window)
    settle.setInterval(200)

    def capture(ok: bool) -> None:
        window.syncFinished.disconnect(capture)

        def shoot() -> None:
            # the docks recompute after the sync: wait for them (and their charts) to finish
            from .ui.widgets.chart_style import charts_pending

            if window.dashboard.busy() or window.eco_dock.busy() or charts_pending():
                return
            settle.stop()
            grab_laid_out(window).save(target)
            print(f"screenshot saved to {target}" + ("" if ok else " (sync failed)"))
            window.quit_app()
            QCoreApplication.exit(0)

        settle.timeout.connect(shoot)
        settle.start()

    window.syncFinished.connect(capture)

    def give_up() -> None:
        print("no sync finished in time; screenshot not taken", file=sys.stderr)
        window.close()
        QCoreApplication.exit(1)

    QTimer.singleShot(timeout_ms, give_up)


__all__ = ["LowdashApp", "run_gui", "errors"]
