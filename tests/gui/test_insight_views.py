"""Spikes, spend by key, periods and saved views in the window (issue 22), on a seeded cache."""

from __future__ import annotations

import time

from PySide6.QtCore import QSettings, Qt

from lowdash_desktop.session.session import Session
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.ui.dialogs.settings_dialog import SettingsDialog
from lowdash_desktop.ui.insight_menu import InsightMenu
from lowdash_desktop.ui.insight_watcher import SPIKE_MIN_KEY
from lowdash_desktop.ui.main_window import MainWindow
from lowdash_desktop.ui.runway_watcher import ALERT_DAYS_KEY
from tests.unit.insight_rows import HOUR_MS, row, store

NAMES = {"key_a": "steady", "key_b": "batch"}


def seeded_cache(path, spike: str = "5.00") -> dict:
    """20 days of 0.10 an hour on two keys; key_b spends `spike` in one hour 3 hours ago."""
    now = time.time_ns() // 1_000_000
    this_hour = now // HOUR_MS * HOUR_MS
    rows, i = [], 0
    for h in range(1, 20 * 24):
        for key in ("key_a", "key_b"):
            rows.append(row(i, this_hour - h * HOUR_MS + 60_000, "0.10", key=key,
                            model="m/one" if key == "key_a" else "m/two"))
            i += 1
    spike_start = this_hour - 3 * HOUR_MS
    rows.append(row(i, spike_start + 120_000, spike, key="key_b", model="m/two"))
    cache, _ = Cache.open(path)
    store(cache, rows, balance="1000.00", keys=NAMES)
    cache.close()
    return {"spike_start": spike_start}


def open_window(qtbot, path) -> MainWindow:
    window = MainWindow(Session(cache_path=path, connection=None, account_label="test"))
    qtbot.addWidget(window)
    window.resize(1280, 820)
    window.show()
    return window


def wait_insight(qtbot, window):
    watcher = window.insight_menu.watcher
    qtbot.waitUntil(lambda: watcher.insight is not None and not watcher.busy, timeout=20_000)
    qtbot.waitUntil(lambda: not window.dashboard.pending, timeout=20_000)
    return watcher.insight


def click_row(qtbot, table, row: int) -> None:
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_a_spike_is_marked_listed_announced_once_and_filters_the_page(qtbot, tmp_path):
    path = tmp_path / "cache.sqlite3"
    spike_start = seeded_cache(path)["spike_start"]
    window = open_window(qtbot, path)
    ins = wait_insight(qtbot, window)
    found = {(s.scope, s.id, s.start_ms) for s in ins.spikes}
    assert found == {("key", "key_b", spike_start), ("model", "m/two", spike_start)}
    # announced once, natively: one notification for both (same hour)
    assert len(window.tray.notifications) == 1
    title, text = window.tray.notifications[0]
    assert "2 spend spikes" in title and "“batch”" in text and "“m/two”" in text
    # marked on the spend chart, and named when the day is hovered
    marks = window.spend_dock.spike_days()
    assert len(marks) == 1
    (day, spikes), = marks.items()
    assert window.spend_dock.spike_marks is not None
    assert "Spend spike: batch" in window.spend_dock.hover_text(day)
    # the Alerts view lists both; a click filters the page to the key and the hour
    dialog = window.insight_menu.open("alerts")
    assert dialog.alerts.rowCount() == 2
    key_row = next(r for r in range(2) if dialog.alerts.item(r, 0).text() == "Key")
    assert dialog.alerts.item(key_row, 1).text() == "batch"
    assert dialog.alerts.item(key_row, 3).text().startswith("5.10")  # its 0.10 and the 5.00
    click_row(qtbot, dialog.alerts, key_row)
    flt = window.table_model.history_filter
    assert (flt.key_id, flt.model, flt.start_ms, flt.end_ms) == (
        "key_b", None, spike_start, spike_start + HOUR_MS)
    assert "span" in window.filter_bar.chips
    qtbot.waitUntil(lambda: window.table_model.rowCount() == 2, timeout=10_000)
    # the dock scope follows: only key_b's spike is marked now
    qtbot.waitUntil(lambda: not window.dashboard.pending, timeout=20_000)
    assert [s.id for s in window.spend_dock.spike_days()[day]] == ["key_b"]
    window.filter_bar.clear()
    assert window.table_model.history_filter.start_ms is None
    # a restart (a new window on the same cache) announces nothing again
    window.close()
    again = open_window(qtbot, path)
    wait_insight(qtbot, again)
    assert again.tray.notifications == []
    again.close()


def test_spend_by_key_and_periods_filter_as_a_model_click_does(qtbot, tmp_path):
    path = tmp_path / "cache.sqlite3"
    seeded_cache(path)
    window = open_window(qtbot, path)
    ins = wait_insight(qtbot, window)
    dialog = window.insight_menu.open("keys")
    assert dialog.tabs.currentIndex() == 1
    keys = dialog.keys
    assert keys.rowCount() == 2
    assert keys.item(0, 0).text() == "batch"  # most spend first
    total = sum(k.spend for k in ins.keys)
    assert total == sum(k.spend for k in ins.keys if k.key_id in NAMES)
    share = ins.keys[0].share * 100
    assert keys.item(0, 2).text().rstrip("%").replace(",", ".").startswith(f"{share:.0f}"[:2])
    click_row(qtbot, keys, 1)
    assert window.filter_bar.combos["key_id"].currentData() == "key_a"
    assert window.table_model.history_filter.key_id == "key_a"
    click_row(qtbot, keys, 1)  # a second click clears it
    assert window.filter_bar.combos["key_id"].currentData() is None
    # periods: 7 days against the 7 before; the spike made key_b and m/two the movers
    dialog.show_tab("periods")
    movers = dialog.movers
    week = ins.periods[7]
    assert movers.rowCount() == len(week.movers) > 0
    assert movers.item(0, 0).text().startswith("+")
    assert movers.item(0, 3).text() in ("batch", "m/two", "p1")
    dialog.period_combo.setCurrentIndex(1)
    assert movers.rowCount() == len(ins.periods[30].movers)
    window.close()


def test_saved_views_are_in_the_view_menu_and_survive_a_restart(qtbot, tmp_path):
    path = tmp_path / "cache.sqlite3"
    seeded_cache(path)
    window = open_window(qtbot, path)
    bar = window.filter_bar
    bar.set_value("key_id", "key_b")
    bar.set_value("model", "m/two")
    window.spend_dock.range_combo.setCurrentIndex(0)  # 7 days
    dialog = window.insight_menu.ask_view_name()
    dialog.setTextValue("  Batch   runs ")
    dialog.accept()
    assert "Batch runs" in window.insight_menu.view_actions
    bar.clear()
    window.spend_dock.range_combo.setCurrentIndex(2)
    window.close()
    again = open_window(qtbot, path)
    menu = again.insight_menu
    action = menu.view_actions["Batch runs"]
    assert action in again.view_menu.actions()
    again.filter_bar.clear()
    action.trigger()
    flt = again.table_model.history_filter
    assert (flt.key_id, flt.model, flt.provider) == ("key_b", "m/two", None)
    assert again.dashboard.spend_days == 7
    menu.delete_view("Batch runs")
    assert "Batch runs" not in menu.view_actions
    assert InsightMenu.__name__ and QSettings().value("views/saved") == "[]"
    again.close()


def test_settings_hold_the_spike_minimum_and_the_runway_days(qtbot, tmp_path):
    path = tmp_path / "cache.sqlite3"
    seeded_cache(path, spike="0.80")  # 0.90 that hour: under the default 1.00
    window = open_window(qtbot, path)
    assert wait_insight(qtbot, window).spikes == []
    dialog = SettingsDialog(None, window.session, window)
    qtbot.addWidget(dialog)
    dialog.spike_min.setText("a lot")
    assert not dialog.save_local_alerts()
    assert "amount" in dialog.alerts_status.text()
    dialog.spike_min.setText("0.50")
    dialog.runway_days.setValue(30)
    with qtbot.waitSignal(dialog.alertsSaved):
        assert dialog.save_local_alerts()
    assert QSettings().value(SPIKE_MIN_KEY) == "0.50"
    assert int(QSettings().value(ALERT_DAYS_KEY)) == 30
    watcher = window.insight_menu.watcher
    with qtbot.waitSignal(watcher.insightReady, timeout=20_000):
        watcher.refresh()
    assert {s.id for s in watcher.insight.spikes} == {"key_b", "m/two"}
    dialog.close()
    window.close()
