"""The main window over a real demo platform: first sync, offline, reopen from cache."""

from __future__ import annotations

from lowdash_desktop import accounts
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.app import open_session
from lowdash_desktop.ui.main_window import MainWindow


def make_window(qtbot, data_dir, platform, connection=None):
    account = accounts.remember(data_dir, platform.base_url, "acc_demo", "ops@example.com")
    connection = connection or Connection(platform.base_url, platform.api_key)
    session = open_session(data_dir, connection, account)
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    return window


def test_first_sync_fills_table_and_status(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
        assert window.sync_now()
        assert not window.sync_now(), "never two syncs at once"
    assert blocker.args == [True]
    assert window.table_model.rowCount() == len(demo_platform.truth())
    assert "Synced at" in window.sync_label.text()
    assert window.last_sync_label.text() == "Last synced: just now"
    assert window.credits_dock.balance.text().endswith(demo_platform.credits["currency"])
    spent = window.credits_dock.spent.text()
    assert spent.endswith("\u00a0" + demo_platform.credits["currency"]), "amount and currency wrap together"
    assert not window.banner.isVisible()
    window.close()


def test_offline_shows_banner_and_keeps_cache(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    rows = window.table_model.rowCount()
    window.close()
    demo_platform.stop()
    # reopen, as a user would after closing the app, with the platform gone
    window = make_window(qtbot, data_dir, demo_platform)
    assert window.table_model.rowCount() == rows, "the cached history is all there at once"
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
        window.sync_now()
    assert blocker.args == [False]
    assert window.banner.isVisible() and window.banner.kind == "offline"
    text = window.banner.label.text()
    assert "Offline" in text and "last synced" in text
    assert window.table_model.rowCount() == rows
    window.close()


def test_wrong_key_message_and_cache_untouched(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    rows = window.table_model.rowCount()
    window.close()
    bad = Connection(demo_platform.base_url, "lr-live-" + "0" * 40)
    window = make_window(qtbot, data_dir, demo_platform, connection=bad)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
        window.sync_now()
    assert blocker.args == [False]
    assert "API key was refused" in window.banner.label.text()
    assert window.table_model.rowCount() == rows
    window.close()


def test_layout_persists_across_restarts(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    window.credits_dock.hide()
    header = window.table.horizontalHeader()
    header.resizeSection(1, 333)
    header.moveSection(2, 0)
    window.close()
    window = make_window(qtbot, data_dir, demo_platform)
    assert not window.credits_dock.isVisible()
    assert window.table.horizontalHeader().sectionSize(1) == 333
    assert window.table.horizontalHeader().visualIndex(2) == 0
    window.close()


def test_the_row_count_taken_ahead_at_start_is_used_once(
    qtbot, data_dir, demo_platform, monkeypatch
):
    from lowdash_desktop.store import queries
    from lowdash_desktop.store.cache import Cache, CountAhead

    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    truth = window.cache.generation_count()
    assert truth > 0
    window.close()
    session = open_session(data_dir, None, accounts.find(data_dir, demo_platform.base_url))
    session.count_ahead = CountAhead(session.cache_path)
    counted = []
    real_count, real_total = queries.count, Cache.generation_count
    monkeypatch.setattr(queries, "count", lambda *a: counted.append("filtered") or real_count(*a))
    monkeypatch.setattr(Cache, "generation_count",
                        lambda self: counted.append("total") or real_total(self))
    window = MainWindow(session, lazy=True)
    qtbot.addWidget(window)
    assert counted == [], "neither the table nor the status bar counted on the UI thread"
    assert window.table_model.rowCount() == truth
    assert window.count_label.text() == f"{truth:,} generations"
    assert session.take_count() is None, "taken once: later counts see later writes"
    window.table_model.reload()
    assert counted == ["filtered"]
    window.shutdown()


def test_a_long_status_line_ends_in_an_ellipsis_and_shows_whole_on_hover(
    qtbot, data_dir, demo_platform
):
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    label = window.sync_label
    summary = label.text()
    assert summary.startswith("Synced at")
    window.resize(650, 700)  # the narrow layout: the summary cannot fit beside the count
    qtbot.waitUntil(lambda: label.shown_text().endswith("…"), timeout=5_000)
    assert label.text() == summary, "the whole text stays the label's text"
    assert label.toolTip() == summary
    shown = label.fontMetrics().horizontalAdvance(label.shown_text())
    assert label.contentsRect().left() + shown <= label.contentsRect().right() + 1
    assert label.geometry().right() < window.count_label.geometry().left()
    window.resize(1600, 700)
    qtbot.waitUntil(lambda: label.shown_text() == summary, timeout=5_000)
    assert label.toolTip() == ""
    window.close()


def test_a_refused_key_offers_sign_in_with_another_key(qtbot, data_dir, demo_platform):
    from lowdash_desktop.ui.dialogs.sign_in_dialog import SignInDialog

    window = make_window(qtbot, data_dir, demo_platform)
    own = next(k for k in demo_platform.keys.values() if k["name"] == "Production")
    own["disabled"] = True  # disabled from the platform's own site, say
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
        window.sync_now()
    assert blocker.args == [False]
    assert window.banner.isVisible() and window.banner.kind == "error"
    assert "this API key is disabled" in window.banner.label.text()
    assert window.banner.button.text() == "Sign in with another key…"
    window.banner.button.click()
    dialog = window.account_menu.dialogs.get("sign_in")
    assert isinstance(dialog, SignInDialog) and dialog.isVisible()
    assert dialog.url.text() == demo_platform.base_url
    assert dialog.focusWidget() is dialog.key, "the key is what to type: focus is there"
    assert "this API key is disabled. Nothing" in window.banner.label.text()
    dialog.key.setText(demo_platform.read_only_key)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
        dialog.try_sign_in()
    assert blocker.args == [True]
    assert not window.banner.isVisible()
    window.close()


def test_offline_banner_is_at_the_top_and_the_balance_says_as_of(qtbot, data_dir, demo_platform):
    """Issue 19 item 9: the banner above every dock (not between the chart and the table);
    the cached balance says when it was fetched; a layout saved with the banner shown does
    not bring back an empty bar."""
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    assert not window.credits_dock.as_of.isVisible(), "just synced: the balance is current"
    assert not window.banner_bar.isVisible()
    window.close()
    demo_platform.stop()
    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000) as blocker:
        window.sync_now()
    assert blocker.args == [False] and window.banner.isVisible()
    banner_bottom = window.banner.mapTo(window, window.banner.rect().bottomLeft()).y()
    for widget in [*[d for d in window.docks if d.isVisible()], window.table]:
        assert banner_bottom <= widget.mapTo(window, widget.rect().topLeft()).y(), widget
    assert window.menuBar().geometry().bottom() <= window.banner.mapTo(window, window.banner.rect().topLeft()).y()
    as_of = window.credits_dock.as_of
    assert as_of.isVisible() and as_of.text().startswith("as of ")
    assert "did not reach the platform" in as_of.toolTip()
    assert window.is_offline(), "File -> Invoices says the platform's PDF needs the network"
    window.close()  # saved with the banner shown
    window = make_window(qtbot, data_dir, demo_platform)
    assert window.is_offline(), "known from the cache before a sync has run"
    assert not window.banner_bar.isVisible(), "no news yet: no empty bar from the saved layout"
    window.banner.show_message("info", "news")
    assert window.banner_bar.isVisible()
    window.banner.hide()
    assert not window.banner_bar.isVisible()
    window.close()
