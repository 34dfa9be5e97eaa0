"""Open the main window on a demo platform as the app would, print what the screen shows.

Run by the real-window tests in a child process (a scale factor is chosen per process).
Prints one JSON line: the screen's available geometry, the window's frame and the status bar's
bottom edge, in logical pixels; the history table's whole rows, whether it scrolls sideways, the
docks sharing the balance's tabbed slot.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> int:
    from PySide6.QtCore import QEventLoop

    from lowdash_desktop import accounts
    from lowdash_desktop.api.connection import Connection
    from lowdash_desktop.app import LowdashApp, open_session
    from lowdash_desktop.demo import DemoPlatform
    from lowdash_desktop.paths import data_dir

    app = LowdashApp(sys.argv[:1])
    platform = DemoPlatform(seed=3, generations=200)
    platform.start()
    try:
        connection = Connection(platform.base_url, platform.api_key)
        account = accounts.remember(data_dir(None), platform.base_url, "acc_demo", "ops@x")
        from lowdash_desktop.ui.main_window import MainWindow

        window = MainWindow(open_session(data_dir(None), connection, account))
        window.show()
        def settled(seconds: float) -> tuple:
            end = time.monotonic() + seconds
            while time.monotonic() < end:  # the window manager maps and places the window
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            return window.frameGeometry().getRect(), window.table.viewport().height()

        shown = settled(3)
        for _ in range(20):  # a loaded machine: until the layout stops moving
            if (now := settled(0.5)) == shown:
                break
            shown = now
        avail = window.screen().availableGeometry()
        frame = window.frameGeometry()
        bar = window.statusBar()
        bottom = bar.mapToGlobal(bar.rect().bottomLeft()).y()
        print(json.dumps({
            "available": avail.getRect(),
            "frame": frame.getRect(),
            "status_bottom": bottom,
            # whole rows the history table shows, and whether it scrolls sideways
            "table_rows": window.table.viewport().height()
            // window.table.verticalHeader().defaultSectionSize(),
            "sideways": window.table.horizontalScrollBar().isVisible(),
            "tabbed": [d.objectName() for d in window.tabifiedDockWidgets(window.credits_dock)],
        }))
        if os.environ.get("SHOW_WINDOW_SAVE") == "1":  # as quitting does: the next start restores it
            window.save_state()
        window.shutdown()
    finally:
        platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
