"""What the window says while it loads, and when nothing matches (offscreen)."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QApplication

from lowdash_desktop import accounts
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.app import open_session
from lowdash_desktop.ui.main_window import MainWindow
from lowdash_desktop.ui.models.dashboard_model import _compute

from .test_main_window import make_window


def test_the_first_sync_says_loading_not_zero(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)  # an empty cache
    window.sync_now()  # the first sync
    assert window.usage_dock.totals.text() == "Loading…", "not '0 tokens · 0.00'"
    eco = window.eco_dock
    assert eco.actual_label.text().startswith("Loading…")
    assert "confidence" not in eco.confidence_label.text().lower()
    assert eco.caveats_toggle.isHidden() and not eco.verdict_label.text().startswith("No comp")
    # the empty cache's figures come first (the sync is still running): not shown
    window.show_figures(_compute(window.session.cache_path, window.dashboard.query()))
    assert window.usage_dock.totals.text() == "Loading…"
    currency = demo_platform.credits["currency"]
    qtbot.waitUntil(lambda: window.usage_dock.totals.text().endswith(currency), timeout=60_000)
    qtbot.waitUntil(lambda: eco.report is not None and eco.report.generations > 0,
                    timeout=60_000)
    assert not eco.actual_label.text().startswith("Loading")
    window.close()


def test_a_first_sync_after_an_empty_report_says_loading(qtbot, data_dir, demo_platform):
    """Seen in a real session: a window that showed the empty cache's eco report (signed in
    later, say) kept '0 Wh', 'No comparison available' and 'Show 3 caveats' during the first
    sync, and a report computed before the sync began arrived after 'Loading…'."""
    window = make_window(qtbot, data_dir, demo_platform)  # an empty cache, no sync yet
    eco = window.eco_dock
    eco.refresh(window.session.cache_path)
    qtbot.waitUntil(lambda: eco.report is not None, timeout=30_000)
    assert eco.caveats_toggle.isVisible(), "the empty cache's report, as before a sign-in"
    eco.refresh(window.session.cache_path)  # one more in flight as the sync begins
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
        assert eco.actual_label.text().startswith("Loading…")
        assert eco.caveats_toggle.isHidden() and eco.verdict_label.text() in ("", "Computing…")
        assert eco.confidence_label.text() == "" and eco.baseline_label.text() == ""
    qtbot.waitUntil(lambda: eco.report is not None and eco.report.generations > 0,
                    timeout=60_000)
    assert not eco.actual_label.text().startswith("Loading")
    window.close()


def test_a_first_sync_that_fails_ends_the_loading(qtbot, data_dir, demo_platform):
    account = accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@x")
    refused = Connection(demo_platform.base_url, "not-a-key")
    window = MainWindow(open_session(data_dir, refused, account))
    qtbot.addWidget(window)
    window.show()
    window.sync_now()
    assert window.usage_dock.totals.text() == "Loading…"
    qtbot.waitUntil(lambda: window.usage_dock.totals.text() != "Loading…", timeout=10_000)
    window.close()


def test_menus_are_complete_at_the_first_paint(qtbot, data_dir, demo_platform):
    account = accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@x")
    session = open_session(data_dir, Connection(demo_platform.base_url, demo_platform.api_key),
                           account)
    window = MainWindow(session, lazy=True)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.firstPainted, timeout=10_000):
        window.show()
    assert getattr(window, "account_menu", None) is None, "loaded after the first paint"
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[-2:] == ["&Account", "&Help"], titles
    account_menu = window.menuBar().actions()[-2].menu()
    entries = [a.text() for a in account_menu.actions() if a.isVisible() and a.text()]
    assert entries == ["&Keys…", "&Credits && receipts…", "Auto-&routing…", "Sign &out"]
    settings = [a.text() for a in window.settings_menu.actions() if a.text()]
    assert settings == ["&Preferences…", "&Account settings…", "&Eco baseline…"]
    # chosen before the account menu has loaded: it opens once loaded
    window.account_actions["credits"].trigger()
    qtbot.waitUntil(lambda: "credits" in getattr(getattr(window, "account_menu", None),
                                                 "dialogs", {}), timeout=30_000)
    assert window.account_menu.credits_action is window.account_actions["credits"]
    window.account_menu.dialogs["credits"].close()
    window.shutdown()
    window.close()


def test_no_match_says_so_with_a_way_out(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    total = window.table_model.rowCount()
    assert not window.no_match.isVisible()
    window.search.setText("gen_no_such_id")
    qtbot.waitUntil(lambda: window.table_model.rowCount() == 0, timeout=5_000)
    qtbot.waitUntil(window.no_match.isVisible, timeout=5_000)
    assert window.no_match_label.text() == "No generations match"
    window.no_match_clear.click()  # (offscreen, the table is a few rows high)
    qtbot.waitUntil(lambda: window.table_model.rowCount() == total, timeout=5_000)
    assert window.search.text() == "" and not window.no_match.isVisible()
    # an inverted date range matches no day either
    window.filter_bar.set_dates(date(2026, 12, 2), date(2025, 12, 2))
    qtbot.waitUntil(window.no_match.isVisible, timeout=5_000)
    window.no_match_clear.click()
    qtbot.waitUntil(lambda: not window.no_match.isVisible(), timeout=5_000)
    assert not window.filter_bar.from_check.isChecked()
    QApplication.processEvents()
    window.close()
