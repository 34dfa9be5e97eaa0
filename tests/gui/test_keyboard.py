"""The whole window from the keyboard (offscreen; tests/realwindow repeats the focus walk and
Ctrl+E under a real X server with a window manager, keys typed by xdotool)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMenu

from .test_main_window import make_window


def synced_window(qtbot, data_dir, platform):
    window = make_window(qtbot, data_dir, platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    # the eco report computed after the first sync adds its caveats link to the chain
    qtbot.waitUntil(lambda: window.eco_dock.report is not None and not window.eco_dock.busy(),
                    timeout=60_000)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    return window


def image(widget) -> QImage:
    QApplication.processEvents()
    return widget.grab().toImage()


def walk(window, key=Qt.Key.Key_Tab, limit=60) -> list:
    """Press `key` from the focused widget until focus comes back to it; the stops in order."""
    start = QApplication.focusWidget()
    stops = [start]
    for _ in range(limit):
        here = QApplication.focusWidget()
        QTest.keyClick(here, key)
        now = QApplication.focusWidget()
        assert now is not here, (
            f"{key.name} stays in {type(here).__name__} {here.accessibleName()!r} "
            "(a table's cell chain?)")
        if now is start:
            return stops
        stops.append(now)
    raise AssertionError(f"{key.name} never came back to the start: {stops}")


def test_tab_walks_every_control_and_comes_back(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    assert QApplication.focusWidget() is window.table, "the history, not the search, first"
    stops = walk(window)
    names = [w.accessibleName() for w in stops]
    for widget in stops:
        what = f"{type(widget).__name__} {widget.objectName()!r}"
        assert widget.window() is window, what
        assert widget.isVisible() and widget.isEnabled(), what
        assert widget.accessibleName(), f"{what} has no accessible name"
        if isinstance(widget, QAbstractItemView):
            assert not widget.tabKeyNavigation(), f"{what}: Tab goes cell by cell"
    assert len(set(names)) == len(names), names
    # the controls an operator needs are all on the way
    for needed in (window.table, window.search, window.credits_dock.topup,
                   window.usage_dock.table, window.eco_dock.baseline_link,
                   window.filter_bar.combos["model"]):
        assert needed in stops, needed.accessibleName()
    # Shift+Tab passes the same stops the other way round
    back = walk(window, Qt.Key.Key_Backtab)
    assert back == [stops[0], *reversed(stops[1:])]
    window.close()


def test_focus_shows_on_every_stop(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    stops = walk(window)
    stops[0].setFocus(Qt.FocusReason.TabFocusReason)
    for widget in stops:  # as Tab goes: each stop with focus, then once Tab has left it
        assert QApplication.focusWidget() is widget
        focused = image(widget)
        QTest.keyClick(widget, Qt.Key.Key_Tab)
        assert image(widget) != focused, (
            f"{type(widget).__name__} {widget.accessibleName()!r} looks the same with focus")
    window.close()


def test_an_empty_table_shows_its_focus(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)  # never synced: no rows
    window.activateWindow()
    qtbot.waitUntil(window.table.hasFocus)
    focused = image(window.table)
    window.search.setFocus()
    qtbot.waitUntil(window.search.hasFocus)
    assert image(window.table) != focused
    window.close()


def test_ctrl_e_exports_even_from_the_search_field(qtbot, data_dir, demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    window.search.setFocus()
    qtbot.waitUntil(window.search.hasFocus)
    window.search.setText("gen_")
    opened = []
    window.open_export_dialog = lambda: opened.append(True)  # the dialog has its own tests
    window.export_action.triggered.disconnect()
    window.export_action.triggered.connect(lambda _c=False: window.open_export_dialog())
    QTest.keyClick(window.search, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert opened == [True], "Ctrl+E reached File -> Export CSV…"
    assert window.search.text() == "gen_", "and typed nothing into the field"
    # the field keeps the keys no action claims
    QTest.keyClick(window.search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert window.search.selectedText() == "gen_"
    window.close()


def test_every_menu_and_action_has_a_mnemonic_and_keys_reach_them(qtbot, data_dir,
                                                                   demo_platform):
    window = synced_window(qtbot, data_dir, demo_platform)
    qtbot.waitUntil(lambda: getattr(window, "account_menu", None) is not None, timeout=20_000)
    for menu_action in window.menuBar().actions():
        assert "&" in menu_action.text(), menu_action.text()
        menu: QMenu = menu_action.menu()
        for action in menu.actions():
            if action.isSeparator() or not action.isVisible():
                continue
            assert "&" in action.text() or action.text() in {
                d.windowTitle() for d in window.docks}, f"{menu_action.text()}: {action.text()}"
    # shortcuts that work from anywhere: a detail window has focus, Ctrl+R still syncs
    for action in (window.sync_action, window.export_action):
        assert action.shortcutContext() == Qt.ShortcutContext.ApplicationShortcut
    window.close()
