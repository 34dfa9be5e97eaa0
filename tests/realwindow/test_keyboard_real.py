"""The keyboard under a real X server and window manager, keys typed by xdotool (XTEST).

Offscreen Qt uses other key bindings: its QLineEdit never claims Ctrl+E, so only here does
the search field swallow File -> Export CSV… as it did for an operator.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from PySide6.QtWidgets import QApplication

from lowdash_desktop.ui.dialogs.export_dialog import ExportDialog
from tests.gui.test_keyboard import (
    test_focus_shows_on_every_stop,
    test_tab_walks_every_control_and_comes_back,
)
from tests.gui.test_main_window import make_window

needs_xdotool = pytest.mark.skipif(shutil.which("xdotool") is None, reason="needs xdotool")

__all__ = ["test_focus_shows_on_every_stop", "test_tab_walks_every_control_and_comes_back"]


def press(*keys: str) -> None:
    subprocess.run(["xdotool", "key", "--clearmodifiers", *keys], check=True, timeout=10)


def active_window(qtbot, data_dir, platform):
    window = make_window(qtbot, data_dir, platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    window.raise_()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    return window


def export_dialogs(window) -> list:
    return [d for d in window.findChildren(ExportDialog) if d.isVisible()]


@needs_xdotool
def test_ctrl_e_exports_from_the_search_field(qtbot, data_dir, demo_platform):
    window = active_window(qtbot, data_dir, demo_platform)
    press("ctrl+f")  # Find: into the search field
    qtbot.waitUntil(window.search.hasFocus, timeout=5_000)
    press("g", "e", "n")
    qtbot.waitUntil(lambda: window.search.text() == "gen", timeout=5_000)
    press("ctrl+e")
    qtbot.waitUntil(lambda: bool(export_dialogs(window)), timeout=5_000)
    for dialog in export_dialogs(window):
        dialog.reject()
    window.close()


def test_the_history_has_focus_at_start(qtbot, data_dir, demo_platform):
    window = active_window(qtbot, data_dir, demo_platform)
    assert QApplication.focusWidget() is window.table, "not the search field"
    window.close()


@needs_xdotool
def test_tab_leaves_the_history_table(qtbot, data_dir, demo_platform):
    window = active_window(qtbot, data_dir, demo_platform)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    press("Tab")
    qtbot.waitUntil(lambda: not window.table.hasFocus(), timeout=5_000)
    press("shift+Tab")
    qtbot.waitUntil(window.table.hasFocus, timeout=5_000)
    window.close()
