"""Credits & receipts: the top-up opens the checkout, receipts list with status and open."""

from __future__ import annotations

from PySide6.QtGui import QDesktopServices

from lowdash_desktop.api.connection import Connection
from lowdash_desktop.ui.dialogs.credits_dialog import CreditsDialog


def test_topup_and_receipts(qtbot, demo_platform, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", lambda url: opened.append(url.toString()) or True
    )
    dialog = CreditsDialog(Connection(demo_platform.base_url, demo_platform.read_only_key))
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.topup_button.isEnabled(), "no checkout address before loading"
    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        assert dialog.refresh()
    served = demo_platform.topups
    assert dialog.table.rowCount() == len(served)
    rows = dialog.receipt_rows()
    statuses = {r["Status"] for r in rows}
    assert statuses <= {"Succeeded", "Pending", "Failed"} and "Succeeded" in statuses
    assert dialog.balance.text().startswith("Balance: ") and "EUR" in dialog.balance.text()
    assert dialog.open_topup()
    assert opened[-1] == demo_platform.credits["topup_url"]
    assert not dialog.receipt_button.isEnabled()
    dialog.table.selectRow(0)
    assert dialog.receipt_button.isEnabled()
    dialog.receipt_button.click()
    newest = max(served, key=lambda t: t["created_at"])
    assert opened[-1] == newest["receipt_url"]
    dialog.close()


def test_unsafe_receipt_address_is_not_opened(qtbot, demo_platform, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", lambda url: opened.append(url.toString()) or True
    )
    for topup in demo_platform.topups:
        topup["receipt_url"] = "file:///etc/passwd"
    dialog = CreditsDialog(Connection(demo_platform.base_url, demo_platform.api_key))
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        dialog.refresh()
    assert not dialog.open_receipt(0) and opened == []
    assert dialog.status.text == "This top-up has no receipt."
    dialog.close()


def test_refused_key_is_reported(qtbot, demo_platform):
    dialog = CreditsDialog(Connection(demo_platform.base_url, "lr-live-" + "x" * 40))
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
        dialog.refresh()
    assert "HTTP 401" in dialog.status.text and "missing or invalid API key" in dialog.status.text
    dialog.close()


def test_top_up_with_no_browser_says_so_and_offers_the_address(qtbot, demo_platform, monkeypatch):
    from PySide6.QtGui import QGuiApplication

    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)  # no browser here
    dialog = CreditsDialog(Connection(demo_platform.base_url, demo_platform.read_only_key))
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        assert dialog.refresh()
    assert not dialog.open_topup()
    assert "opened in your browser" not in dialog.status.text
    assert "No browser opened" in dialog.status.text
    shown = dialog.copy_dialog
    assert shown is not None and shown.isVisible()
    assert shown.url.text() == demo_platform.credits["topup_url"]
    shown.copy_button.click()
    assert QGuiApplication.clipboard().text() == demo_platform.credits["topup_url"]
    QGuiApplication.clipboard().clear()
    shown.close()
    dialog.close()


def test_the_main_windows_top_up_with_no_browser_offers_the_address(
    qtbot, data_dir, demo_platform, monkeypatch
):
    from tests.gui.test_main_window import make_window

    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    assert window.credits_dock.topup.isEnabled()
    window.credits_dock.topup.click()
    shown = window.credits_dock.copy_dialog
    assert shown is not None and shown.isVisible(), "the click does something visible"
    assert shown.url.text() == demo_platform.credits["topup_url"]
    shown.close()
    window.close()
