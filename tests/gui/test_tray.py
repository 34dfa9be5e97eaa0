"""Tray figures against the cache, its menu, close-to-tray, start minimised, Help actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from lowdash_desktop import accounts
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.app import _show_window, open_session
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.ui import tray as tray_module
from lowdash_desktop.ui.main_window import MainWindow
from lowdash_desktop.ui.tray import TrayIcon, local_midnight_ms

KEY = "lr-live-" + "T" * 40
NOW = datetime.now().astimezone().replace(hour=15, minute=30, second=0, microsecond=0)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _row(gen_id: str, at: datetime, cost: str, tokens: int) -> tuple:
    nanos = int(Decimal(cost) * 1_000_000_000)
    return (gen_id, 1, _ms(at), "model-a", cost, nanos, "EUR", tokens)


def seed_cache(data_dir, rows, credits=None, synced_at: datetime | None = None):
    account = accounts.remember(data_dir, "https://api.lowrouter.example/v1", "acc_t", "t@ex.com")
    cache, _ = Cache.open(account.cache_path(data_dir))
    with cache.transaction() as conn:
        conn.executemany(
            "INSERT INTO generations (id, revision, created_at, model, cost, cost_nanos, "
            "currency, total_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    if credits:
        cache.save_snapshot("credits", credits)
    if synced_at:
        cache.set_meta("last_sync_at", str(_ms(synced_at)))
    cache.close()
    return account


def make_window(qtbot, data_dir, rows=(), credits=None, synced_at=None, connection=None):
    account = seed_cache(data_dir, rows, credits, synced_at)
    session = open_session(data_dir, connection, account)
    window = MainWindow(session)
    qtbot.addWidget(window)
    return window


CREDITS = {"currency": "EUR", "balance": "42.50", "spent_this_month": "7.25"}
MIDNIGHT = NOW.replace(hour=0, minute=0)
ROWS = [
    _row("gen_yesterday", MIDNIGHT - timedelta(milliseconds=1), "5.000000000", 9_000),
    _row("gen_midnight", MIDNIGHT, "0.250000000", 1_000),
    _row("gen_noon", NOW.replace(hour=12), "1.125000001", 2_500),
    _row("gen_now", NOW, "0.000000002", 34),
]


def test_figures_sum_today_from_the_cache(qtbot, data_dir):
    window = make_window(qtbot, data_dir, ROWS, CREDITS, synced_at=NOW - timedelta(minutes=5))
    figures = window.tray.figures(now=NOW)
    assert figures.balance == "42.50 EUR"
    assert figures.today_spend == "1.38 EUR"  # 0.25 + 1.125000001 + 0.000000002, shown rounded
    assert figures.today_tokens == 1_000 + 2_500 + 34
    assert figures.last_sync == "5 min ago"
    assert figures.alert is None
    assert local_midnight_ms(NOW) == _ms(MIDNIGHT)
    window.close()


def test_tooltip_and_menu_show_the_figures(qtbot, data_dir):
    window = make_window(qtbot, data_dir, ROWS, CREDITS, synced_at=NOW)
    tray = window.tray
    assert "Today: adding up…" in tray.toolTip() or "3,534 tokens" in tray.toolTip()
    with qtbot.waitSignal(tray.totalsUpdated, timeout=5000):
        tray.refresh()  # today's rows are summed off the UI thread
    tip = tray.toolTip()
    assert tip.startswith("Lowdash\n")
    assert "Balance: 42.50 EUR" in tip
    assert "3,534 tokens" in tip
    assert "Last synced:" in tip and "Next sync in 5 min" in tip
    texts = [a.text() for a in tray.menu.actions() if a.isVisible() and not a.isSeparator()]
    assert texts[0] == "Balance: 42.50 EUR"
    assert texts[1].startswith("Today: ") and texts[1].endswith("3,534 tokens")
    assert texts[-4:] == ["Open Lowdash", "Sync now", "Pause sync", "Quit"]
    assert not tray.balance_action.isEnabled(), "figures are not commands"
    assert tray.sync_action.isEnabled(), "Sync now is always there"
    window.close()


def test_empty_cache_reads_sensibly(qtbot, data_dir):
    window = make_window(qtbot, data_dir)
    figures = window.tray.figures(now=NOW)
    assert figures.balance is None and figures.today_tokens == 0 and figures.last_sync == "never"
    assert "Balance: not synced yet" in window.tray.tooltip_text(figures)
    window.close()


def test_alerts_reach_tooltip_and_menu(qtbot, data_dir):
    negative = dict(CREDITS, balance="-1.00")
    window = make_window(qtbot, data_dir, ROWS, negative)
    tray = window.tray
    tray.redraw()
    assert "⚠ Negative balance" in tray.toolTip()
    assert tray.alert_action.isVisible()
    window.banner.show_message("offline", "Offline — the platform cannot be reached.")
    tray.redraw()
    assert "⚠ Offline — the platform cannot be reached." in tray.toolTip()
    tray.set_alert("Balance below 5.00 EUR")
    assert "⚠ Balance below 5.00 EUR" in tray.toolTip()
    assert tray.alert_action.text() == "⚠ Balance below 5.00 EUR"
    window.banner.hide()
    tray.set_alert(None)
    window.close()


def test_sync_finish_refreshes_tray(qtbot, data_dir, demo_platform):
    account = accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@example.com")
    connection = Connection(demo_platform.base_url, demo_platform.api_key)
    window = MainWindow(open_session(data_dir, connection, account))
    qtbot.addWidget(window)
    assert "not synced yet" in window.tray.toolTip()
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        assert window.tray.sync_action.trigger() is None
    currency = demo_platform.credits["currency"]
    assert "Balance: " in window.tray.toolTip() and currency in window.tray.toolTip()
    assert "Last synced: just now" in window.tray.toolTip()
    window.close()


def test_pause_action_pauses_the_scheduler(qtbot, data_dir):
    window = make_window(qtbot, data_dir)
    window.tray.pause_action.trigger()
    assert window.scheduler.paused
    assert "Automatic refresh paused" in window.tray.toolTip()
    window.scheduler.set_paused(False)
    assert not window.tray.pause_action.isChecked(), "the menu follows the scheduler"
    window.close()


def test_sync_now_without_sign_in_is_harmless(qtbot, data_dir):
    window = make_window(qtbot, data_dir)
    window.tray.sync_action.trigger()
    assert "Not signed in" in window.sync_label.text()
    window.close()


def test_no_tray_means_close_quits(qtbot, data_dir, monkeypatch):
    monkeypatch.setattr(TrayIcon, "available", staticmethod(lambda: False))
    assert not tray_module.keep_in_tray()
    window = make_window(qtbot, data_dir)
    window.show()
    window.close()
    assert not window.isVisible() and window.shut_down


def test_close_keeps_app_in_tray_and_explains_once(qtbot, data_dir, monkeypatch):
    monkeypatch.setattr(TrayIcon, "available", staticmethod(lambda: True))
    assert tray_module.keep_in_tray(), "on by default where a tray exists"
    window = make_window(qtbot, data_dir)
    window.show()
    window.close()
    assert not window.isVisible() and not window.shut_down
    assert len(window.tray.notifications) == 1
    assert "still running" in window.tray.notifications[0][0]
    window.raise_and_show()
    window.close()
    assert len(window.tray.notifications) == 1, "explained only the first time"
    window.tray.quit_action.trigger()  # Quit from the tray really quits
    assert window.shut_down


def test_keep_in_tray_off_closes(qtbot, data_dir, monkeypatch):
    from PySide6.QtCore import QSettings

    monkeypatch.setattr(TrayIcon, "available", staticmethod(lambda: True))
    QSettings().setValue(tray_module.KEEP_IN_TRAY_KEY, False)
    window = make_window(qtbot, data_dir)
    window.show()
    window.close()
    assert window.shut_down


@pytest.mark.parametrize("has_tray", [True, False])
def test_start_minimized(qtbot, data_dir, monkeypatch, has_tray):
    monkeypatch.setattr(TrayIcon, "available", staticmethod(lambda: has_tray))
    window = make_window(qtbot, data_dir)
    app = QApplication.instance()
    before = app.quitOnLastWindowClosed()
    try:
        _show_window(app, window, minimized=True)
        assert app.quitOnLastWindowClosed() is (not has_tray)
        if has_tray:
            assert not window.isVisible(), "only the tray icon at start"
        else:
            assert window.isVisible() and window.isMinimized()
    finally:
        app.setQuitOnLastWindowClosed(before)
    window.quit_app()


def test_a_window_started_in_the_tray_still_computes_its_figures(qtbot, data_dir, monkeypatch):
    monkeypatch.setattr(TrayIcon, "available", staticmethod(lambda: True))
    account = seed_cache(data_dir, ROWS, CREDITS)
    window = MainWindow(open_session(data_dir, None, account), lazy=True)
    qtbot.addWidget(window)
    app = QApplication.instance()
    before = app.quitOnLastWindowClosed()
    try:
        with qtbot.waitSignal(window.startupFinished, timeout=30_000):
            with qtbot.waitSignal(window.tray.totalsUpdated, timeout=30_000):
                _show_window(app, window, minimized=True)  # never painted
        assert not window.isVisible()
        assert "adding up" not in window.tray.toolTip()
        assert hasattr(window, "account_menu"), "menus and low-balance alerts are in place"
    finally:
        app.setQuitOnLastWindowClosed(before)
    window.shutdown()


def test_help_menu_log_folder_and_diagnostics(qtbot, data_dir, monkeypatch):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url)))
    connection = Connection("https://api.lowrouter.example/v1", KEY)
    window = make_window(qtbot, data_dir, ROWS, CREDITS, connection=connection)
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Help" in titles
    window.open_logs_action.trigger()
    assert opened and opened[0].toLocalFile().endswith("logs")
    window.copy_diagnostics_action.trigger()
    text = QApplication.clipboard().text()
    assert text.startswith("Lowdash diagnostics")
    assert "Platform: https://api.lowrouter.example/v1" in text
    assert "Generations cached: 4" in text and "Network: Proxy:" in text
    assert KEY not in text
    window.close()


def test_the_window_builds_missing_query_indexes_in_the_background(qtbot, data_dir, monkeypatch):
    from lowdash_desktop.store import db

    monkeypatch.setattr(db, "BUILD_AT_OPEN_MAX_ROWS", 0)  # as for a big cache

    account = seed_cache(data_dir, ROWS, CREDITS)
    path = account.cache_path(data_dir)
    cache, _ = Cache.open(path)
    for name in db.QUERY_INDEXES:  # a cache from before these indexes
        cache.conn.execute(f"DROP INDEX {name}")
    cache.close()
    session = open_session(data_dir, None, account)
    window = MainWindow(session, lazy=True)
    qtbot.addWidget(window)
    assert db.missing_indexes(window.cache.conn), "nothing is built before the first paint"
    with qtbot.waitSignal(window.indexesBuilt, timeout=20_000) as built:
        window.show()  # the first paint starts the background work
    assert sorted(built.args[0]) == sorted(db.QUERY_INDEXES)
    assert db.missing_indexes(window.cache.conn) == []
    window.shutdown()


def test_a_big_cache_gets_its_full_check_after_the_first_paint(qtbot, data_dir, monkeypatch):
    from lowdash_desktop.store import db

    monkeypatch.setattr(db, "QUICK_CHECK_AT_OPEN_MAX_BYTES", 0)  # as for a big cache
    account = seed_cache(data_dir, ROWS, CREDITS)
    path = account.cache_path(data_dir)
    window = MainWindow(open_session(data_dir, None, account), lazy=True)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.integrityChecked, timeout=20_000) as checked:
        window.show()
    assert checked.args == [""]
    assert not window.banner.isVisible() and not db.damaged_marker(path).exists()
    assert window.cache.get_meta(db.INTEGRITY_CHECKED_AT), "not again for a day"
    window.shutdown()


def test_damage_found_by_the_full_check_is_told_and_set_aside_at_next_start(
    qtbot, data_dir, monkeypatch
):
    from lowdash_desktop.store import db

    monkeypatch.setattr(db, "QUICK_CHECK_AT_OPEN_MAX_BYTES", 0)
    account = seed_cache(data_dir, ROWS, CREDITS)
    path = account.cache_path(data_dir)
    window = MainWindow(open_session(data_dir, None, account), lazy=True)
    qtbot.addWidget(window)
    monkeypatch.setattr(db, "integrity_check", lambda p, conn, now: _fake_damage(p))
    with qtbot.waitSignal(window.integrityChecked, timeout=20_000) as checked:
        window.show()
    assert "integrity check failed" in checked.args[0]
    assert window.banner.isVisible()
    text = window.banner.label.text()
    assert "damaged" in text and "fresh copy" in text and "next starts" in text
    window.shutdown()
    session = open_session(data_dir, None, account)
    assert session.open_report.moved_aside is not None
    assert any("damaged" in note for note in session.notes)
    assert not db.damaged_marker(path).exists()


def _fake_damage(path) -> str:
    """What db.integrity_check leaves for a damaged file (the real check: tests/unit)."""
    from lowdash_desktop.store import db

    reason = "integrity check failed (Tree 5 page 12: btreeInitPage() returns error code 11)"
    db.damaged_marker(path).write_text(reason)
    return reason
