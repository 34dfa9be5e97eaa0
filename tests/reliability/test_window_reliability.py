"""Guarantees 3, 4, 5 and 7 at the window: quarantine shown, damaged cache, garbage, quit."""

from __future__ import annotations

import json
import re
import sqlite3
import time

import pytest

from lowdash_desktop import accounts
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.app import open_session
from lowdash_desktop.demo.faults import Faults
from lowdash_desktop.demo.server import Response
from lowdash_desktop.store import db, schema
from lowdash_desktop.ui.main_window import MainWindow
from tests.reliability.harness import compare, integrity


def make_window(qtbot, data_dir, platform):
    account = accounts.remember(data_dir, platform.base_url, "acc_demo", "ops@example.com")
    session = open_session(data_dir, Connection(platform.base_url, platform.api_key), account)
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    return window, session


def sync(qtbot, window) -> bool:
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
        assert window.sync_now()
    return blocker.args[0]


class BadPage:
    """Fault hook: the n-th feed answer is well-formed JSON that breaks the contract."""

    def __init__(self, nth: int, body: dict):
        self.nth, self.body, self.feed = nth, body, 0

    def intercept(self, request, respond):
        if request.path == "/generations":
            self.feed += 1
            if self.feed == self.nth:
                return Response(200, json.dumps(self.body).encode())
        return respond()


def test_quarantine_counted_in_status_bar(qtbot, data_dir, demo_platform):
    faults = Faults(seed=2).attach(demo_platform)
    faults.force("malformed", times=2, path="/generations")
    window, session = make_window(qtbot, data_dir, demo_platform)
    window.sync.page_limit = 50
    assert not window.quarantine_label.isVisible()
    assert sync(qtbot, window)
    assert "2 malformed set aside" in window.sync_label.text()
    assert compare(demo_platform, session.cache_path).mismatches == 0
    # both good copies arrived later in the feed: nothing is missing any more
    assert not window.quarantine_label.isVisible()

    class Unreadable:
        """Adds one record that never arrives in a readable form."""

        def intercept(self, request, respond):
            response = respond()
            if request.path == "/generations":
                page = json.loads(response.body)
                page["data"].append({"id": "gen_broken", "cost": {"amount": "x"}})
                response = Response(200, json.dumps(page).encode())
            return response

    demo_platform.faults = Unreadable()
    demo_platform.add_generations(3)
    assert sync(qtbot, window)
    assert window.quarantine_label.isVisible()
    assert window.quarantine_label.text() == "1 malformed set aside"
    window.close()


def test_invalid_page_stops_at_last_good_page_then_resumes(qtbot, data_dir, demo_platform):
    window, session = make_window(qtbot, data_dir, demo_platform)
    window.sync.page_limit = 100
    demo_platform.faults = BadPage(3, {"data": "not a list", "has_more": True})
    assert not sync(qtbot, window)
    assert window.banner.kind == "error"
    text = window.banner.label.text()
    assert "Sync stopped at the last good page" in text and "generations page" in text
    kept = len(set(demo_platform.data.feed_idx[:200].tolist()))
    assert window.table_model.rowCount() == kept, "the two good pages are kept"
    demo_platform.faults = None
    assert sync(qtbot, window)
    assert compare(demo_platform, session.cache_path).mismatches == 0
    assert window.table_model.rowCount() == len(demo_platform.truth())
    window.close()


class Garbage:
    """Fault hook: every answer is a random, contract-breaking body with a random status."""

    BODIES = [b"", b"null", b"[]", b"{}", b"\xff\xfe\x00", b'{"data": {"x": 1}}',
              b'{"error": 5}', b"<html>oops</html>", b'{"id": null, "balance": 1.5}',
              b'{"data": [1, "two", null], "has_more": "yes"}', b'{"data": [], "has_more": true}']

    def __init__(self):
        self.n = 0

    def intercept(self, request, respond):
        self.n += 1
        status = (200, 200, 200, 201, 404, 418, 422, 500)[self.n % 8]
        return Response(status, self.BODIES[self.n % len(self.BODIES)])


def test_window_survives_garbage(qtbot, data_dir, demo_platform):
    demo_platform.faults = Garbage()
    window, _ = make_window(qtbot, data_dir, demo_platform)
    for _ in range(4):
        assert not sync(qtbot, window)
        assert window.banner.isVisible() and window.banner.label.text()
    window.close()


def test_damaged_cache_moved_aside_user_told_fresh_sync_rebuilds(qtbot, data_dir, demo_platform):
    window, session = make_window(qtbot, data_dir, demo_platform)
    assert sync(qtbot, window)
    window.close()
    path = session.cache_path
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.unlink()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] + b"\x00garbage" * 100)  # truncated and scribbled
    window, session = make_window(qtbot, data_dir, demo_platform)
    aside = [p for p in path.parent.glob("cache.sqlite3.corrupt-*") if p.name[-4:] not in
             ("-wal", "-shm")]
    assert len(aside) == 1 and re.search(r"corrupt-\d{8}T\d{6}Z$", aside[0].name)
    assert window.banner.isVisible()
    note = window.banner.label.text()
    assert "damaged" in note and "moved aside" in note and "fresh copy" in note
    assert window.table_model.rowCount() == 0
    assert sync(qtbot, window)
    assert compare(demo_platform, path).mismatches == 0
    window.close()


def test_older_schema_migrates_with_safety_copy_at_start_up(
    qtbot, data_dir, demo_platform, monkeypatch
):
    window, session = make_window(qtbot, data_dir, demo_platform)
    assert sync(qtbot, window)
    rows = window.table_model.rowCount()
    window.close()
    newer = [*schema.MIGRATIONS, "CREATE TABLE reliability_extra(x INTEGER);"]
    monkeypatch.setattr(schema, "MIGRATIONS", newer)
    monkeypatch.setattr(db, "MIGRATIONS", newer)
    monkeypatch.setattr(db, "LATEST_VERSION", len(newer))
    window, session = make_window(qtbot, data_dir, demo_platform)
    report = session.open_report
    assert report.migrated_from == len(newer) - 1 and report.safety_copy.exists()
    assert "upgraded" in window.banner.label.text()
    assert window.table_model.rowCount() == rows
    copy = sqlite3.connect(report.safety_copy)
    assert copy.execute("SELECT count(*) FROM generations").fetchone()[0] == rows
    copy.close()
    window.close()


def test_quit_during_a_stalled_request_is_prompt(qtbot, data_dir, demo_platform):
    faults = Faults(seed=4, stall_s=60).attach(demo_platform)
    window, session = make_window(qtbot, data_dir, demo_platform)
    window.sync.page_limit = 100
    assert sync(qtbot, window)
    demo_platform.add_generations(300)
    faults.force("stall", path="/generations")
    assert window.sync_now()
    qtbot.waitUntil(lambda: faults.injected["stall"] == 1, timeout=20_000)
    started = time.monotonic()
    window.quit_app()
    elapsed = time.monotonic() - started
    faults.release()
    assert elapsed < 2.0, f"quit took {elapsed:.2f}s"
    assert not window.sync.thread_running()
    assert integrity(session.cache_path) == "ok"
    leftovers = [p.name for p in session.cache_path.parent.iterdir()
                 if p.suffix in (".tmp", ".part") or p.name.startswith(".")]
    assert not leftovers


@pytest.mark.parametrize("moment", [3, 9])
def test_quit_mid_feed_keeps_cache_consistent(qtbot, data_dir, demo_platform, moment):
    class QuitAt:
        feed = 0

        def intercept(self, request, respond):
            if request.path == "/generations":
                QuitAt.feed += 1
            return respond()

    demo_platform.faults = QuitAt()
    window, session = make_window(qtbot, data_dir, demo_platform)
    window.sync.page_limit = 20
    assert window.sync_now()
    qtbot.waitUntil(lambda: QuitAt.feed >= moment, timeout=20_000)
    started = time.monotonic()
    window.quit_app()
    assert time.monotonic() - started < 2.0
    assert integrity(session.cache_path) == "ok"
    conn = sqlite3.connect(session.cache_path)
    cached = dict(conn.execute("SELECT id, revision FROM generations"))
    conn.close()
    truth = demo_platform.truth()
    assert all(truth[i] >= r for i, r in cached.items())


def test_quit_during_an_export_is_prompt_and_leaves_no_file(qtbot, data_dir, demo_platform,
                                                            tmp_path):
    from tests.gui.test_export_dialog import _bulk

    window, session = make_window(qtbot, data_dir, demo_platform)
    assert sync(qtbot, window)
    _bulk(session.cache_path, 120_000)
    dialog = window.open_export_dialog()
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "history.csv"
    assert dialog.start_export(str(out))
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=20_000)
    started = time.monotonic()
    window.quit_app()
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"quit took {elapsed:.2f}s"
    assert not dialog.running
    assert not out.exists(), "a cancelled export leaves nothing at the target"
    assert list(folder.iterdir()) == [], "and no temporary file beside it"
    assert integrity(session.cache_path) == "ok"


def test_quit_during_a_key_rotation_is_prompt(qtbot, data_dir, demo_platform):
    from PySide6.QtCore import QThreadPool

    window, session = make_window(qtbot, data_dir, demo_platform)
    assert sync(qtbot, window)
    keys = window.account_menu.open_keys()
    qtbot.waitUntil(lambda: not keys.runner.busy, timeout=20_000)
    staging = next(k for k in keys.model.keys if k.name == "Staging")
    faults = Faults(seed=5, stall_s=60).attach(demo_platform)
    faults.force("stall", path=f"/keys/{staging.id}/rotate")
    keys.select_keys([staging.id])
    confirm = keys.rotate_selected()
    confirm.ok_button.click()
    qtbot.waitUntil(lambda: faults.injected["stall"] == 1, timeout=20_000)
    started = time.monotonic()
    window.quit_app()
    assert QThreadPool.globalInstance().waitForDone(2000), "the rotation call was cut"
    elapsed = time.monotonic() - started
    faults.release()
    assert elapsed < 2.0, f"quit took {elapsed:.2f}s"
    assert integrity(session.cache_path) == "ok"
