"""The Invoices window: the cached list, the platform's PDF downloaded, a local PDF rendered."""

from __future__ import annotations

from decimal import Decimal

import pypdf
import pytest

from lowdash_desktop.api.connection import Connection
from lowdash_desktop.session.session import Session
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.sync.engine import SyncEngine
from lowdash_desktop.ui.dialogs.invoices_dialog import InvoicesDialog


@pytest.fixture
def synced(demo_platform, tmp_path):
    path = tmp_path / "cache.sqlite3"
    cache, _ = Cache.open(path)
    connection = Connection(demo_platform.base_url, demo_platform.api_key)
    with connection.client() as client:
        SyncEngine(client, cache).run()
    invoices = cache.invoices()
    cache.close()
    session = Session(cache_path=path, connection=connection)
    session.open()
    yield session, connection, invoices
    session.close()


def test_lists_every_cached_invoice(qtbot, synced):
    session, connection, invoices = synced
    dialog = InvoicesDialog(session, connection)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == len(invoices) >= 3
    for row, body in enumerate(invoices):
        assert dialog.table.item(row, 0).text() == body["number"]
        assert body["period_start"] in dialog.table.item(row, 1).text()
        total = dialog.table.item(row, 4).text()
        assert total == f"{Decimal(body['total']):,f} {body['currency']}"
    assert dialog.selected_id() == invoices[0]["id"]
    assert dialog.download_button.isEnabled() and dialog.export_button.isEnabled()


def test_downloads_the_platform_pdf_in_the_background(qtbot, synced, tmp_path):
    session, connection, invoices = synced
    dialog = InvoicesDialog(session, connection)
    qtbot.addWidget(dialog)
    target = tmp_path / "platform.pdf"
    with qtbot.waitSignal(dialog.downloadFinished, timeout=15_000) as blocker:
        dialog.download_pdf(invoices[1]["id"], str(target))
    assert blocker.args == [str(target)]
    assert target.read_bytes().startswith(b"%PDF")
    text = pypdf.PdfReader(target).pages[0].extract_text()
    assert invoices[1]["number"] in text
    assert [p for p in tmp_path.iterdir() if p.suffix == ".part"] == []


def test_a_failed_download_leaves_the_old_file(qtbot, synced, tmp_path):
    session, connection, _invoices = synced
    dialog = InvoicesDialog(session, connection)
    qtbot.addWidget(dialog)
    target = tmp_path / "keep.pdf"
    target.write_bytes(b"old")
    with qtbot.waitSignal(dialog.downloadFailed, timeout=15_000):
        dialog.download_pdf("inv_does_not_exist", str(target))
    assert target.read_bytes() == b"old"
    assert "failed" in dialog.status.text()


def test_offline_lists_and_exports_but_cannot_download(qtbot, synced, tmp_path, demo_platform):
    session, _connection, invoices = synced
    demo_platform.stop()
    dialog = InvoicesDialog(session, None)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == len(invoices)
    assert not dialog.download_button.isEnabled()
    long_one = max(invoices, key=lambda i: len(i["lines"]))
    dialog.page_size.setCurrentText("Letter")
    out = tmp_path / "local.pdf"
    pages = dialog.export_pdf(long_one["id"], str(out))
    assert pages >= 2
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == pages
    assert abs(float(reader.pages[0].mediabox[2]) - 612) < 1  # Letter
    assert f"Page {pages} of {pages}" in " ".join(reader.pages[-1].extract_text().split())


def test_offline_download_says_it_needs_the_network_before_asking_for_a_file(
    qtbot, synced, demo_platform, monkeypatch
):
    """Issue 19 item 9: signed in but offline, no file dialog first and an error after."""
    from PySide6.QtWidgets import QFileDialog

    session, connection, _invoices = synced
    demo_platform.stop()
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: asked.append(a) or ("", "")))
    dialog = InvoicesDialog(session, connection, is_offline=lambda: True)
    qtbot.addWidget(dialog)
    assert dialog.download_button.isEnabled()
    with qtbot.waitSignal(dialog.downloadFailed) as blocker:
        dialog.download_button.click()
    assert blocker.args == ["offline"] and not asked
    assert "needs the network" in dialog.status.text()
    assert "Export as PDF" in dialog.status.text()
