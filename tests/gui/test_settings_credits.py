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
    served = demo_platform._topups
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
    for topup in demo_platform._topups:
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
