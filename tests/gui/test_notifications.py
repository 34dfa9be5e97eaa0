"""Low-balance and key-limit notifications: once per condition, persisted per account."""

from __future__ import annotations

from lowdash_desktop import accounts
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.app import open_session
from lowdash_desktop.session.answers import CachedAnswers
from lowdash_desktop.store.cache import Cache
from lowdash_desktop.ui.main_window import MainWindow
from lowdash_desktop.ui.notifications import NOTIFIED_META, NotificationWatcher

SETTINGS = {
    "eco_baseline_model": None,
    "notifications": {
        "low_balance_threshold": "10.00",
        "key_limit_warning_percent": 80,
        "weekly_report_email": False,
    },
}


def key(key_id: str, limit: str | None, remaining: str | None, disabled: bool = False) -> dict:
    return {
        "id": key_id,
        "name": key_id.upper(),
        "prefix": "lr-live-" + key_id[:4],
        "scopes": ["inference"],
        "disabled": disabled,
        "credit_limit": limit,
        "limit_reset": "monthly" if limit else None,
        "limit_remaining": remaining,
    }


def credits(balance: str) -> dict:
    return {"currency": "EUR", "balance": balance, "spent_this_month": "1.00"}


def test_each_condition_notifies_once_until_it_clears(tmp_path):
    cache, _report = Cache.open(tmp_path / "c.sqlite3")
    shown: list[tuple[str, str]] = []
    watcher = NotificationWatcher(CachedAnswers.of(cache), lambda t, x: shown.append((t, x)))
    cache.save_snapshot("settings", SETTINGS)
    cache.save_snapshot("credits", credits("25.00"))
    cache.save_snapshot("keys", [key("ka", "10.00", "5.00"), key("kb", None, None)])
    assert watcher.check() == [] and shown == []
    cache.save_snapshot("credits", credits("4.20"))
    fresh = watcher.check()
    assert [a.id for a in fresh] == ["low_balance"]
    assert shown == [("Low balance", "The balance is 4.20 EUR, under your threshold of 10.00 EUR.")]
    assert watcher.check() == [] and len(shown) == 1, "same condition, no second notification"
    # a new condition alongside the old one: only the new one is announced
    cache.save_snapshot("keys", [key("ka", "10.00", "1.50"), key("kb", None, None)])
    assert [a.id for a in watcher.check()] == ["key_limit:ka"]
    assert shown[-1][0] == "Key near its limit" and "“KA” has used 85%" in shown[-1][1]
    assert len(watcher.active) == 2
    # a restart (a new watcher on the same cache) does not repeat them
    again = NotificationWatcher(CachedAnswers.of(cache), lambda t, x: shown.append((t, x)))
    assert again.check() == [] and len(shown) == 2
    # cleared, then back: notified again
    cache.save_snapshot("credits", credits("50.00"))
    assert again.check() == [] and cache.get_meta(NOTIFIED_META) == '["key_limit:ka"]'
    cache.save_snapshot("credits", credits("2.00"))
    assert [a.id for a in again.check()] == ["low_balance"] and len(shown) == 3
    cache.close()


def test_disabled_keys_and_missing_preferences_do_not_alert(tmp_path):
    cache, _report = Cache.open(tmp_path / "c.sqlite3")
    shown: list = []
    watcher = NotificationWatcher(CachedAnswers.of(cache), lambda t, x: shown.append(t))
    cache.save_snapshot("credits", credits("1.00"))
    assert watcher.check() == []  # no settings synced yet: nothing is known to be wrong
    cache.save_snapshot(
        "settings",
        {"notifications": {"low_balance_threshold": None, "key_limit_warning_percent": 50}},
    )
    cache.save_snapshot("keys", [key("kc", "10.00", "0.00", disabled=True)])
    assert watcher.check() == [] and shown == []
    cache.close()


def test_sync_notifies_and_marks_the_window(qtbot, data_dir, demo_platform):
    demo_platform.settings["notifications"]["low_balance_threshold"] = "1000000.00"
    account = accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@example.com")
    session = open_session(
        data_dir, Connection(demo_platform.base_url, demo_platform.api_key), account
    )
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    notes = [n for n in window.tray.notifications if n[0] == "Low balance"]
    assert len(notes) == 1
    badge = window.account_menu.badge
    assert badge.isVisible() and "Low balance" in badge.text() + badge.toolTip()
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    assert len([n for n in window.tray.notifications if n[0] == "Low balance"]) == 1
    window.quit_app()
    # after a restart the condition is still marked, and still not announced again
    window = MainWindow(open_session(data_dir, None, account))
    qtbot.addWidget(window)
    window.show()
    assert window.account_menu.badge.isVisible()
    assert window.tray.notifications == []
    window.quit_app()
