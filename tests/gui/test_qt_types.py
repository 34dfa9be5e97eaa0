"""Qt classes are created on the UI thread, in slices, before the warm-up imports run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_materializer_creates_every_class_over_several_turns_of_the_event_loop():
    """In a fresh interpreter, where PySide6 has created almost nothing yet."""
    script = textwrap.dedent("""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from lowdash_desktop.ui import qt_types
        app = QApplication([])
        import PySide6.QtWidgets as widgets
        before = len(qt_types.unresolved(widgets))
        ticks = []
        probe = QTimer(interval=0)
        probe.timeout.connect(lambda: ticks.append(1))
        probe.start()
        m = qt_types.Materializer()
        m.finished.connect(app.quit)
        m.start()
        app.exec()
        left = {n: qt_types.unresolved(sys.modules[n]) for n in qt_types.MODULES
                if n not in qt_types.IMPORT_ONLY}
        imported = all(n in sys.modules for n in qt_types.IMPORT_ONLY)
        print(before, m.turns, len(ticks), sum(map(len, left.values())), int(imported),
              flush=True)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    before, turns, ticks, left, imported = map(int, out)
    assert before > 100, "QtWidgets starts with its classes not yet created"
    assert left == 0, "every class of every module exists afterwards"
    assert imported, "the modules pyqtgraph only imports are imported"
    assert turns > 5 and ticks >= turns - 1, "other events ran between the slices"


def test_warm_up_imports_start_only_after_every_qt_class_exists(tmp_path):
    """A fresh interpreter (where nothing has created the classes yet) opens the window."""
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtWidgets import QApplication
        from lowdash_desktop import accounts
        from lowdash_desktop.app import open_session
        from lowdash_desktop.ui import main_window, qt_types
        app = QApplication([])
        root = Path({str(tmp_path)!r})
        account = accounts.remember(root, "https://api.lowrouter.example/v1", "acc", "o@x.example")
        events = []
        real = main_window._warm_up_imports

        def spying_warm_up():
            left = sum(0 if n in qt_types.IMPORT_ONLY else len(qt_types.unresolved(sys.modules[n]))
                       if n in sys.modules else 1000 for n in qt_types.MODULES)
            events.append(f"warm-up:{{left}}")
            real()

        main_window._warm_up_imports = spying_warm_up
        window = main_window.MainWindow(open_session(root, None, account), lazy=True)
        window.startupFinished.connect(app.quit)
        window.show()
        app.exec()
        window.shutdown()
        print(" ".join(events), flush=True)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["warm-up:0"], "no Qt class is left for the warm-up thread"
