"""Opening an older cache in the window (schema 3, issue 21): the upgrade runs on a thread of
its own while a window explains the wait, the user is told where the old file's copy is, and
every row is there afterwards."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog

from lowdash_desktop import accounts
from lowdash_desktop.app import open_session_shown
from lowdash_desktop.store import queries
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.ui.upgrade import run_with_progress

from ..unit.test_compact_schema import read_all, realistic_rows, write_old_cache


def _progress_windows() -> list[QProgressDialog]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QProgressDialog) and w.isVisible()]


def test_the_wait_is_explained_and_the_ui_thread_goes_on(qtbot):
    release = threading.Event()
    seen: list[str] = []

    def look() -> None:  # runs on the UI thread while the work waits: the loop goes on
        seen.extend(w.labelText() for w in _progress_windows())
        release.set()

    QTimer.singleShot(0, look)
    assert run_with_progress(lambda: release.wait(10) and 42, "Ops (ops@example.test)") == 42
    assert seen and "Ops (ops@example.test)" in seen[0] and "once" in seen[0]
    qtbot.waitUntil(lambda: not _progress_windows())


def test_an_error_of_the_work_reaches_the_caller(qtbot):
    def fail():
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        run_with_progress(fail, "Ops")
    qtbot.waitUntil(lambda: not _progress_windows())


def test_an_older_cache_opens_upgraded_with_every_row(qtbot, data_dir):
    entry = accounts.remember(data_dir, "https://up.test/v1", "acct_up", "ops@up.test", "Ops")
    path = entry.cache_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = realistic_rows(600)
    write_old_cache(path, 2, rows, "cursor-9")
    before = read_all(sqlite3.connect(path))
    session = open_session_shown(data_dir, None, entry)
    try:
        assert any("upgraded from schema 2" in note and "copy" in note for note in session.notes)
        assert session.open_report.safety_copy.exists()
        cache = Cache.open_reader(path)
        assert read_all(cache.conn) == before
        assert queries.count(cache.conn, queries.HistoryFilter(model=rows[0][6])) >= 1
        cache.close()
    finally:
        session.close()
    qtbot.waitUntil(lambda: not _progress_windows())
