"""The runway in the window: computed off the UI thread, shown in the credits dock, warned once."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from lowdash_desktop.store.cache import Cache
from lowdash_desktop.ui.docks.credits_dock import CreditsDock
from lowdash_desktop.ui.runway_watcher import ALERT_DAYS_KEY, RunwayWatcher
from tests.unit.insight_rows import DAY_MS, row, store


def seeded(tmp_path, balance: str) -> Cache:
    import time

    now = time.time_ns() // 1_000_000
    cache, _ = Cache.open(tmp_path / "cache.sqlite3")
    store(cache, [row(i, now - (i + 1) * DAY_MS + 60_000, "1.00") for i in range(20)],
          balance=balance, threshold="2.00")
    return cache


def set_balance(cache: Cache, balance: str) -> None:
    cache.save_snapshot("credits", {"currency": "EUR", "balance": balance,
                                    "spent_this_month": "0", "topup_url": None})


def test_runway_in_the_dock_and_one_warning_until_it_clears(qtbot, tmp_path):
    cache = seeded(tmp_path, "10.00")  # 1.00 a day: about 10 days
    QSettings().setValue(ALERT_DAYS_KEY, 14)
    shown: list[tuple[str, str]] = []
    watcher = RunwayWatcher(cache, lambda title, text: shown.append((title, text)))
    dock = CreditsDock()
    qtbot.addWidget(dock)
    watcher.runwayReady.connect(dock.show_runway)
    try:
        with qtbot.waitSignal(watcher.runwayReady, timeout=10_000):
            watcher.refresh()
        assert "Lasts about 10 days" in dock.runway.text()
        assert "at this week's pace" in dock.runway.text()
        assert len(shown) == 1 and "under the 14-day warning" in shown[0][1]
        with qtbot.waitSignal(watcher.runwayReady, timeout=10_000):
            watcher.refresh()
        assert len(shown) == 1  # the same condition is not announced again
        set_balance(cache, "100.00")  # a top-up: cleared
        with qtbot.waitSignal(watcher.runwayReady, timeout=10_000):
            watcher.refresh()
        assert "about 100 days" in dock.runway.text() and len(shown) == 1
        set_balance(cache, "5.00")  # low again: announced again
        with qtbot.waitSignal(watcher.runwayReady, timeout=10_000):
            watcher.refresh()
        assert len(shown) == 2
        assert "At or below the low-balance threshold" not in dock.runway.text()
        set_balance(cache, "1.50")
        with qtbot.waitSignal(watcher.runwayReady, timeout=10_000):
            watcher.refresh()
        assert "At or below the low-balance threshold" in dock.runway.text()
    finally:
        cache.close()


def test_a_short_history_says_so_and_never_warns(qtbot, tmp_path):
    import time

    now = time.time_ns() // 1_000_000
    cache, _ = Cache.open(tmp_path / "cache.sqlite3")
    store(cache, [row(i, now - i * DAY_MS - 60_000, "5.00") for i in range(3)], balance="1.00")
    shown: list = []
    watcher = RunwayWatcher(cache, lambda *a: shown.append(a))
    dock = CreditsDock()
    qtbot.addWidget(dock)
    watcher.runwayReady.connect(dock.show_runway)
    try:
        with qtbot.waitSignal(watcher.runwayReady, timeout=10_000):
            watcher.refresh()
        assert "a projection needs 7" in dock.runway.text()
        assert shown == []
    finally:
        cache.close()


def test_the_dock_never_says_0_days_for_hours_left_or_for_a_used_up_balance(qtbot):
    from types import SimpleNamespace

    from lowdash_desktop.ui.runway_watcher import days_text

    span = SimpleNamespace(value=0.348, low=0.2, high=0.5)
    assert days_text(SimpleNamespace(days=span, balance=123_450_000_000)) == \
        "about 8 hours (5–12)"
    used_up = SimpleNamespace(days=SimpleNamespace(value=0, low=0, high=0), balance=-1)
    assert days_text(used_up) is None  # the note says 'used up' instead
