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


def main() -> None:
    mode, cache_path = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QMainWindow

    if mode == "shape":  # Qt alone, a window of the app's shape: an informative floor
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QStandardItem, QStandardItemModel
        from PySide6.QtWidgets import QDockWidget, QLabel, QTableView

        app = QApplication(sys.argv[:1])
        window = QMainWindow()
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
        app.processEvents()
        window.grab()
        print("painted", flush=True)
        print(f"rss {rss_mb():.1f}", flush=True)
        return
    if mode == "bare":
        app = QApplication(sys.argv[:1])
        window = QMainWindow()
        window.resize(1280, 820)
        window.show()
        app.processEvents()
        window.grab()
        print("painted", flush=True)
        app.processEvents()
        print(f"rss {rss_mb():.1f}", flush=True)
        return
    run_app(Path(cache_path))


BENCH_URL = "http://127.0.0.1:9/v1"  # nothing listens: the start-up sync fails at once
BENCH_KEY = "lr-live-" + "B" * 40  # what bench_keyring holds for BENCH_URL


def run_app(cache: Path) -> None:
    """The real `lowdash` start on `cache`: a known account whose key is in the key store
    (benchmarks.bench_keyring), read after the first paint; the cache opened, the window."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from lowdash_desktop import accounts, cli
    from lowdash_desktop.ui.main_window import MainWindow

    root = Path(os.environ["LOWDASH_DATA_DIR"])
    entry = accounts.remember(root, BENCH_URL, "acc_bench", "bench@example.com")
    entry.cache_path(root).symlink_to(cache.resolve())
    paint = MainWindow.paintEvent
    state = {"painted": False}

    def first_paint(window, event) -> None:
        paint(window, event)
        if not state["painted"]:
            state["painted"] = True
            QTimer.singleShot(0, lambda: measure(window))

    def measure(window) -> None:
        app = QApplication.instance()
        window.grab()
        print("painted", flush=True)
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

    MainWindow.paintEvent = first_paint
    sys.exit(cli.main(["--base-url", BENCH_URL]))

if __name__ == "__main__":
    main()
