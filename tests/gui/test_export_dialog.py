"""The CSV export dialog: filters or everything, progress, Cancel leaves no file."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt

from lowdash_desktop.api.models import Generation
from lowdash_desktop.export.csv_export import CSV_COLUMNS
from lowdash_desktop.session.session import Session
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.store.queries import HistoryFilter
from lowdash_desktop.store.rows import GENERATION_COLUMNS, generation_row
from lowdash_desktop.ui.dialogs.export_dialog import ExportDialog


def _row(i: int, provider: str) -> tuple:
    return generation_row(
        Generation.model_validate(
            {
                "id": f"gen_{i:07d}",
                "seq": i,
                "revision": 1,
                "created_at": f"2026-11-{1 + i % 20:02d}T10:00:00.{i % 1000:03d}Z",
                "model": "lowrouter/auto",
                "resolved_model": "mistral/small",
                "provider": provider,
                "region": "fr-par",
                "tokens": {"prompt": 1, "completion": 2, "total": 3},
                "cost": {"amount": "0.000731", "currency": "EUR"},
            }
        )
    )


@pytest.fixture
def cache_path(tmp_path):
    path = tmp_path / "cache.sqlite3"
    cache, _ = Cache.open(path)
    cache.apply_page([_row(i, "scaleway" if i % 4 else "ovh") for i in range(400)], [], None)
    cache.close()
    return path


@pytest.fixture
def session(cache_path):
    session = Session(cache_path=cache_path, connection=None)
    session.open()
    yield session
    session.close()


def _bulk(path, n: int) -> None:
    cache = Cache.open_reader(path)
    template = list(_row(0, "scaleway"))
    i_id = GENERATION_COLUMNS.index("id")
    rows = []
    for i in range(1000, 1000 + n):
        row = template.copy()
        row[i_id] = f"gen_{i:07d}"
        rows.append(tuple(row))
    cache.apply_page(rows, [], None)
    cache.close()


def read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_exports_the_current_filter_or_everything(qtbot, cache_path, session, tmp_path):
    dialog = ExportDialog(session, HistoryFilter(provider="ovh"))
    qtbot.addWidget(dialog)
    assert "(100)" in dialog.filtered_radio.text() and "(400)" in dialog.all_radio.text()
    assert dialog.filtered_radio.isChecked()
    out = tmp_path / "ovh.csv"
    with qtbot.waitSignal(dialog.exportFinished, timeout=20_000) as blocker:
        assert dialog.start_export(str(out))
    assert blocker.args == [100, str(out)]
    rows = read(out)
    assert rows[0] == list(CSV_COLUMNS)
    assert {r[5] for r in rows[1:]} == {"ovh"} and len(rows) == 101
    assert dialog.progress.value() == 1000 and not dialog.running
    dialog.all_radio.setChecked(True)
    with qtbot.waitSignal(dialog.exportFinished, timeout=20_000) as blocker:
        dialog.start_export(str(out))
    assert blocker.args[0] == 400 and len(read(out)) == 401


def test_cancel_leaves_no_file_at_the_target(qtbot, cache_path, session, tmp_path):
    _bulk(cache_path, 60_000)
    dialog = ExportDialog(session, None)
    qtbot.addWidget(dialog)
    out = tmp_path / "cancelled.csv"
    with qtbot.waitSignal(dialog.exportCancelled, timeout=30_000):
        dialog.start_export(str(out))
        qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=20_000)
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)  # Cancel = stop
    assert not out.exists()
    assert list(tmp_path.glob(".cancelled.csv.*")) == []
    assert not dialog.running
    assert "cancelled" in dialog.status.text()


def test_closing_mid_export_cancels_and_joins_the_thread(qtbot, cache_path, session, tmp_path):
    _bulk(cache_path, 20_000)
    dialog = ExportDialog(session, None)
    qtbot.addWidget(dialog)
    dialog.show()
    out = tmp_path / "closed.csv"
    dialog.start_export(str(out))
    dialog.done(0)
    assert not dialog.running
    assert not out.exists() or len(read(out)) == 20_401  # finished just in time, or nothing
    assert list(tmp_path.glob(".closed.csv.*")) == []


def test_a_missing_folder_is_refused(qtbot, cache_path, session, tmp_path):
    dialog = ExportDialog(session, None)
    qtbot.addWidget(dialog)
    assert not dialog.start_export(str(tmp_path / "nope" / "x.csv"))
    assert dialog.status.text()


def test_ctrl_e_opens_the_export_dialog_with_the_tables_filter(qtbot, data_dir, demo_platform):
    from lowdash_desktop import accounts
    from lowdash_desktop.api.connection import Connection
    from lowdash_desktop.app import open_session
    from lowdash_desktop.ui.main_window import MainWindow

    account = accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@example.com")
    connection = Connection(demo_platform.base_url, demo_platform.api_key)
    window = MainWindow(open_session(data_dir, connection, account))
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    flt = window.table_model.history_filter.with_(provider="nobody")
    window.table_model.set_filter(flt)
    assert window.export_action.shortcut().toString() == "Ctrl+E"
    window.export_action.trigger()
    dialog = window.findChild(ExportDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.current_filter == flt and "(0)" in dialog.filtered_radio.text()
    dialog.reject()
    window.invoices_action.trigger()
    from lowdash_desktop.ui.dialogs.invoices_dialog import InvoicesDialog

    invoices = window.findChild(InvoicesDialog)
    assert invoices is not None and invoices.table.rowCount() >= 3
    invoices.close()
    window.close()
