"""Child process for start-up and memory figures: `bare` window or the `app` on a cache."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def painted_window(base):
    """`base` (a QMainWindow class) that prints "painted" once its first paint pass is done.

    The mark is queued from the window's first paintEvent; the children paint after that call
    returns, in the same pass, so the mark runs once the whole window is on screen. Every mode
    uses the same mark: grabbing the window to make sure (as the children once did) painted
    a second time, which users never pay, and which costs more the more a window shows.
    """
    from PySide6.QtCore import QTimer

    class Window(base):
        painted = False

        def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
            if not self.painted:
                self.painted = True
                QTimer.singleShot(0, mark_painted)
            super().paintEvent(event)

    return Window


EXIT_AT_PAINT = "LOWDASH_BENCH_EXIT_AT_PAINT"


def mark_painted() -> None:
    """Say the first paint pass is done; under an instruction counter, stop right there."""
    print("painted", flush=True)
    if os.environ.get(EXIT_AT_PAINT):
        os._exit(0)  # what comes after the paint is not part of the figure


def wait_painted(app, window) -> None:
    while not window.painted:
        app.processEvents()
    app.processEvents()  # the queued mark


def main() -> None:
    mode = sys.argv[1]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if mode == "app":
        run_app()  # on the cache the parent set up (known_account)
        return
    from PySide6.QtWidgets import QApplication, QMainWindow

    if mode == "shape":  # Qt alone, a window of the app's shape: an informative floor
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QStandardItem, QStandardItemModel
        from PySide6.QtWidgets import QDockWidget, QLabel, QTableView

        app = QApplication(sys.argv[:1])
        window = painted_window(QMainWindow)()
        for name in ("&File", "&View", "&Account", "&Help"):
            window.menuBar().addMenu(name).addAction("…")
        window.statusBar().showMessage("1,000,000 generations")
        model = QStandardItemModel(40, 10)
        for r in range(40):
            for c in range(10):
                model.setItem(r, c, QStandardItem(f"{r * 10 + c:,}"))
        table = QTableView()
        table.setModel(model)
        table.setSortingEnabled(True)
        window.setCentralWidget(table)
        for title in ("Credits", "Usage today", "Top models", "Eco impact"):
            dock = QDockWidget(title, window)
            dock.setWidget(QLabel(f"{title}: 12.34 EUR"))
            window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, dock)
        window.resize(1280, 820)
        window.show()
        wait_painted(app, window)
        window.grab()
        print(f"rss {rss_mb():.1f}", flush=True)
        return
    if mode == "bare":
        app = QApplication(sys.argv[:1])
        window = painted_window(QMainWindow)()
        window.resize(1280, 820)
        window.show()
        wait_painted(app, window)
        window.grab()
        app.processEvents()
        print(f"rss {rss_mb():.1f}", flush=True)
        return


BENCH_URL = "http://127.0.0.1:9/v1"  # nothing listens: the start-up sync fails at once
BENCH_KEY = "lr-live-" + "B" * 40  # what bench_keyring holds for BENCH_URL


def known_account(root: Path, cache: Path) -> None:
    """Make `cache` the cache of a known account in the data dir `root` (run by the parent,
    before the clock starts: a real start finds the account, it does not write it)."""
    from lowdash_desktop import accounts

    entry = accounts.remember(root, BENCH_URL, "acc_bench", "bench@example.com")
    entry.cache_path(root).symlink_to(cache.resolve())


def after_import(name: str, callback) -> None:
    """Call `callback(module)` once the module `name` has run, wherever it gets imported."""
    from importlib.machinery import PathFinder

    class Finder:
        def find_spec(self, fullname, path, target=None):
            if fullname != name:
                return None
            sys.meta_path.remove(self)
            spec = PathFinder.find_spec(fullname, path)
            run = spec.loader.exec_module

            def run_then_call(module) -> None:
                run(module)
                callback(module)

            spec.loader.exec_module = run_then_call
            return spec

    sys.meta_path.insert(0, Finder())


def run_app() -> None:
    """The real `lowdash` start on the cache of a known account (set up by `known_account`),
    whose key is in the key store (benchmarks.bench_keyring) and read after the first paint.

    Modules load as in a real start: the command line first, and everything else from it
    (which, for one, pauses the garbage collector before PySide6 loads). The window's show is
    wrapped as soon as `lowdash_desktop.app` has loaded.
    """
    from lowdash_desktop import cli

    after_import("lowdash_desktop.app", mark_the_window)
    sys.exit(cli.main(["--base-url", BENCH_URL]))


def mark_the_window(app_module) -> None:
    """Make the window print "painted" after its first paint pass, and "rss" once scrolled
    and with its dock figures and charts drawn."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    show = app_module._show_window

    def show_marked(app, window, minimized: bool) -> None:
        window.__class__ = painted_window(type(window))  # before its first paint
        show(app, window, minimized)
        QTimer.singleShot(0, lambda: wait_then_measure(app, window))

    def wait_then_measure(app, window) -> None:
        if not window.painted:
            QTimer.singleShot(0, lambda: wait_then_measure(app, window))
            return
        QTimer.singleShot(0, lambda: measure(window))

    def measure(window) -> None:
        app = QApplication.instance()
        for fraction in (0.25, 0.5, 0.75, 1.0):
            row = int((window.table_model.rowCount() - 1) * fraction)
            window.table.scrollTo(window.table_model.index(row, 0))
            app.processEvents()
            window.grab()
        # memory counts the whole window: wait for the dock figures and the charts drawn from
        # them, then for the deferred chart draws and the post-burst heap trim (1.5 s)
        waiting = {"dashboard", "eco"}
        loop = QEventLoop()

        def arrived(name: str) -> None:
            waiting.discard(name)
            if not waiting:
                QTimer.singleShot(2500, loop.quit)

        window.dashboard.figuresReady.connect(lambda _f: arrived("dashboard"))
        window.eco_dock.reportReady.connect(lambda _r: arrived("eco"))
        if window.dashboard.figures is not None:
            arrived("dashboard")
        if window.eco_dock.report is not None:
            arrived("eco")
        QTimer.singleShot(180_000, loop.quit)
        loop.exec()
        window.grab()
        print(f"rss {rss_mb():.1f}", flush=True)
        window.quit_app()

    app_module._show_window = show_marked


if __name__ == "__main__":
    main()
