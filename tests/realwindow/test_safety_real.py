"""Under a real X server and window manager, clicked and typed by xdotool (XTEST): the lockout
confirmation (issue 19, item 1) and the no-results state (item 5)."""

from __future__ import annotations

import subprocess

from PySide6.QtWidgets import QApplication

from lowdash_desktop.ui.dialogs.keys_dialog import KeysDialog
from lowdash_desktop.ui.dialogs.operation_dialog import ConfirmDialog
from lowdash_desktop.ui.dialogs.sign_in_dialog import SignInDialog
from tests.realwindow.test_keyboard_real import active_window, press


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=10)


def click(widget, point=None) -> None:
    """A real click on the widget (its centre, or a point in its coordinates)."""
    where = widget.mapToGlobal(point if point is not None else widget.rect().center())
    xdotool("mousemove", "--sync", str(where.x()), str(where.y()))
    xdotool("click", "1")


def type_text(text: str) -> None:
    xdotool("type", "--delay", "20", text)


def platform_key(platform, name: str) -> dict:
    return next(k for k in platform._keys.values() if k["name"] == name)


def open_keys_from_the_menu(qtbot, window) -> KeysDialog:
    """Account -> Keys…, by its mnemonics."""
    qtbot.waitUntil(lambda: getattr(window, "account_menu", None) is not None, timeout=30_000)
    press("alt+a")
    qtbot.waitUntil(lambda: window.account_qmenu.isVisible(), timeout=15_000)
    press("k")
    qtbot.waitUntil(lambda: isinstance(window.account_menu.dialogs.get("keys"), KeysDialog)
                    and window.account_menu.dialogs["keys"].isVisible(), timeout=30_000)
    dialog = window.account_menu.dialogs["keys"]
    qtbot.waitUntil(lambda: bool(dialog.model.keys) and not dialog.runner.busy, timeout=60_000)
    return dialog


def select_row(qtbot, dialog: KeysDialog, name: str) -> None:
    """Click the key's row in the table, as an operator does."""
    table = dialog.table
    key = next(k for k in dialog.model.keys if k.name == name)
    index = dialog.proxy.mapFromSource(dialog.model.index(dialog.model.row_of(key.id), 0))
    table.scrollTo(index)
    rect = table.visualRect(index)
    click(table.viewport(), rect.center())
    qtbot.waitUntil(lambda: [k.name for k in dialog.selected_keys()] == [name], timeout=15_000)


def confirmation(qtbot, dialog: KeysDialog) -> ConfirmDialog:
    qtbot.waitUntil(lambda: isinstance(dialog.child, ConfirmDialog) and dialog.child.isVisible(),
                    timeout=15_000)
    return dialog.child


def test_own_key_disable_and_revoke_ask_first_then_another_key(qtbot, data_dir, demo_platform):
    window = active_window(qtbot, data_dir, demo_platform)
    dialog = open_keys_from_the_menu(qtbot, window)
    own = platform_key(demo_platform, "Production")
    select_row(qtbot, dialog, "Production")
    # Disable: one click asks first, in words; Return (the default button) keeps the key
    click(dialog.toggle_button)
    confirm = confirmation(qtbot, dialog)
    text = confirm.text_label.text()
    assert "Lowdash itself signs in with “Production”" in text, text
    assert "refuses every request Lowdash makes" in text, text
    qtbot.waitUntil(confirm.isActiveWindow, timeout=15_000)
    press("Return")
    qtbot.waitUntil(lambda: not confirm.isVisible(), timeout=15_000)
    assert own["disabled"] is False, "Return cancels: the key still works"
    # Revoke: the typed-name confirmation says the app loses its access too
    click(dialog.revoke_button)
    confirm = confirmation(qtbot, dialog)
    assert "Lowdash" in confirm.text_label.text() and "permanent" in confirm.text_label.text()
    assert not confirm.ok_button.isEnabled(), "the name must be typed first"
    qtbot.waitUntil(confirm.isActiveWindow, timeout=15_000)
    press("Escape")
    qtbot.waitUntil(lambda: not confirm.isVisible(), timeout=15_000)
    assert own.get("revoked") is not True and own in demo_platform._keys.values()
    # confirmed this time: the key is disabled
    click(dialog.toggle_button)
    confirm = confirmation(qtbot, dialog)
    assert confirm.ok_button.text() == "Disable and lose access"
    qtbot.waitUntil(confirm.isActiveWindow, timeout=15_000)  # mapped and placed by openbox
    qtbot.wait(300)
    click(confirm.ok_button)
    qtbot.waitUntil(lambda: own["disabled"] is True, timeout=60_000)
    qtbot.waitUntil(lambda: not confirm.isVisible(), timeout=60_000)
    dialog.close()
    # the next sync is refused: the banner's way out is another key, not Retry
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=15_000)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
        press("ctrl+r")
    assert blocker.args == [False]
    banner = window.banner
    qtbot.waitUntil(banner.isVisible, timeout=15_000)
    assert banner.button.text() == "Sign in with another key…"
    assert "Sign in with another key to sync again." in banner.label.text()
    top = banner.mapTo(window, banner.rect().topLeft()).y()
    assert top < window.table.mapTo(window, window.table.rect().topLeft()).y(), "at the top"
    click(banner.button)
    qtbot.waitUntil(lambda: isinstance(window.account_menu.dialogs.get("sign_in"), SignInDialog)
                    and window.account_menu.dialogs["sign_in"].isVisible(), timeout=30_000)
    sign_in = window.account_menu.dialogs["sign_in"]
    qtbot.waitUntil(sign_in.key.hasFocus, timeout=15_000)
    type_text(demo_platform.read_only_key)
    qtbot.waitUntil(lambda: sign_in.key.text() == demo_platform.read_only_key, timeout=30_000)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
        press("Return")
    assert blocker.args == [True], "signed in with the other key, the sync runs again"
    for name, other in list(window.account_menu.dialogs.items()):
        if other is not None and other.isVisible() and name != "sign_in":
            other.close()
    window.shutdown()
    window.close()


def test_no_results_say_so_and_clear(qtbot, data_dir, demo_platform):
    from datetime import date

    window = active_window(qtbot, data_dir, demo_platform)
    total = window.table_model.rowCount()
    press("ctrl+f")
    qtbot.waitUntil(window.search.hasFocus, timeout=15_000)
    type_text("gen_no_such_id")
    qtbot.waitUntil(lambda: window.table_model.rowCount() == 0, timeout=30_000)
    qtbot.waitUntil(window.no_match.isVisible, timeout=15_000)
    label, clear = window.no_match_label, window.no_match_clear
    assert label.text() == "No generations match"
    viewport = window.table.viewport().rect()
    for widget in (label, clear):  # whole, inside the table's visible room
        rect = widget.rect().translated(widget.mapTo(window.table.viewport(), widget.rect()
                                                     .topLeft()))
        assert viewport.contains(rect), f"{widget.text()!r} is cut"
        assert widget.width() >= widget.sizeHint().width()
    click(clear)  # the way out under the words
    qtbot.waitUntil(lambda: window.table_model.rowCount() == total, timeout=30_000)
    assert window.search.text() == "" and not window.no_match.isVisible()
    # an inverted date range matches no day: the same words; "Clear filters" in the filter bar
    # clears the dates and the search together
    press("ctrl+f")
    qtbot.waitUntil(window.search.hasFocus, timeout=15_000)
    type_text("gen_")
    qtbot.waitUntil(lambda: window.search.text() == "gen_", timeout=15_000)
    window.filter_bar.set_dates(date(2026, 12, 2), date(2025, 12, 2))
    qtbot.waitUntil(window.no_match.isVisible, timeout=30_000)
    assert window.filter_bar.clear_button.isEnabled()
    click(window.filter_bar.clear_button)
    qtbot.waitUntil(lambda: not window.no_match.isVisible(), timeout=30_000)
    assert window.search.text() == "", "Clear filters clears the search too"
    assert not window.filter_bar.from_check.isChecked()
    qtbot.waitUntil(lambda: window.table_model.rowCount() == total, timeout=30_000)
    QApplication.processEvents()
    window.close()
