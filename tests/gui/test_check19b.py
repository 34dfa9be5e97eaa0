"""What the independent check of issue 19 found in a real X session (offscreen where it can be
proven offscreen): keys by name, a spike click that replaces the search, and the rest."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from lowdash_desktop.api.connection import Connection

from .test_insight_views import click_row, open_window, seeded_cache, wait_insight


def test_a_spike_click_names_the_key_and_replaces_the_search(qtbot, tmp_path):
    path = tmp_path / "cache.sqlite3"
    seeded_cache(path)
    window = open_window(qtbot, path)
    wait_insight(qtbot, window)
    window.search.setText("gen_no_such_id")  # an earlier search still in place
    qtbot.waitUntil(
        lambda: window.table_model.history_filter.text == "gen_no_such_id", timeout=5_000
    )
    dialog = window.insight_menu.open("alerts")
    key_row = next(
        r for r in range(dialog.alerts.rowCount()) if dialog.alerts.item(r, 0).text() == "Key"
    )
    import time

    assert dialog.alerts.item(key_row, 2).text().endswith(time.localtime().tm_zone)  # its zone
    click_row(qtbot, dialog.alerts, key_row)
    # the spike's generations, not "No generations match"
    assert window.search.text() == ""
    qtbot.waitUntil(lambda: window.table_model.rowCount() == 2, timeout=10_000)
    assert window.table_model.history_filter.text is None
    status = window.sync_label.text()
    assert "“batch”" in status and "search" in status, status
    # the eco panel names the key, never its id
    eco = window.eco_dock
    assert "batch" in eco.windowTitle() and "key_b" not in eco.windowTitle(), eco.windowTitle()
    qtbot.waitUntil(
        lambda: eco.report is not None and eco.report.scope.get("key_id") == "key_b", timeout=20_000
    )
    assert "Actual (batch)" in eco.actual_label.text(), eco.actual_label.text()
    assert "key_b" not in eco.actual_label.text()
    assert "key_b" in eco.actual_label.toolTip()  # the id and prefix on hover
    dialog.close()
    window.close()


def test_a_file_that_is_no_ca_bundle_is_refused_where_it_is_typed(
    qtbot, data_dir, demo_platform, tmp_path
):
    from lowdash_desktop import autostart
    from lowdash_desktop.ui import network
    from lowdash_desktop.ui.dialogs.preferences_dialog import PreferencesDialog

    from .test_tray_preferences import make_window

    window = make_window(qtbot, data_dir, demo_platform)
    dialog = PreferencesDialog(window, backend=autostart.XdgAutostart(tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    not_pem = tmp_path / "passwd"
    not_pem.write_text("root:x:0:0:root:/root:/bin/bash\n")
    dialog.ca_bundle.setText(str(not_pem))
    # said under the field as it is typed, and OK refuses it (the CLI exits 2 on the same file)
    assert "holds no PEM certificate" in dialog.ca_error.text()
    assert dialog.ca_error.isVisible() and not dialog.ok_button.isEnabled()
    # the note's line does not squash the help text above it (a real window clipped it)
    from PySide6.QtWidgets import QLabel

    note = dialog.findChild(QLabel, "ca_note")
    qtbot.waitUntil(lambda: note.height() >= note.heightForWidth(note.width()))
    dialog.accept()
    assert dialog.isVisible() and network.stored_ca_bundle() is None
    dialog.ca_bundle.setText("")  # the built-in trust store again
    assert not dialog.ca_error.isVisible() and dialog.ok_button.isEnabled()
    dialog.reject()
    window.close()


def test_a_bad_ca_bundle_during_sync_is_a_tls_error_pointing_to_preferences(
    qtbot, data_dir, demo_platform, tmp_path, caplog
):
    import dataclasses

    from .test_main_window import make_window

    not_pem = tmp_path / "passwd"
    not_pem.write_text("root:x:0:0:root:/root:/bin/bash\n")
    window = make_window(qtbot, data_dir, demo_platform)
    session = window.session
    # stored by an older version, or edited by hand: the sync meets it
    session.connection = dataclasses.replace(session.connection, ca_bundle=str(not_pem))
    with qtbot.waitSignal(window.sync.failed, timeout=30_000) as blocker:
        window.sync_now()
    message, result = blocker.args
    assert result.error_kind == "tls"
    assert "holds no PEM certificate" in message and "unexpectedly" not in message
    assert window.banner.isVisible() or not window.banner.isHidden()
    assert window.banner.button.text() == "Open Preferences…"
    assert "crashed" not in caplog.text and "Traceback" not in caplog.text
    window.close()


def test_sign_out_asks_and_the_demo_has_a_way_back(qtbot, data_dir, demo_platform):
    from PySide6.QtWidgets import QMessageBox

    from lowdash_desktop import accounts
    from lowdash_desktop.api.connection import Connection
    from lowdash_desktop.app import open_session
    from lowdash_desktop.demo import DemoPlatform
    from lowdash_desktop.ui.main_window import MainWindow

    account = accounts.remember(data_dir, demo_platform.base_url, "acc_demo", "ops@x")
    connection = Connection(demo_platform.base_url, demo_platform.api_key)
    window = MainWindow(open_session(data_dir, connection, account, demo=True))
    qtbot.addWidget(window)
    window.show()
    assert "demo platform" in window.windowTitle()
    window.account_actions["sign_out"].trigger()  # Account → Sign out
    box = window.findChild(QMessageBox, "sign_out_question")
    assert box is not None and box.isVisible(), "one keypress no longer signs out"
    assert window.session.connection is not None
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    assert "cached history stays" in box.informativeText()
    next(b for b in box.buttons() if b.text() == "Sign out").click()
    assert window.session.connection is None
    # back to the demo: its key was never shown, the sign-in dialog offers it
    dialog = window.account_menu.sign_in()
    assert dialog.url.text() == demo_platform.base_url
    with qtbot.waitSignal(dialog.checkFinished, timeout=20_000):
        dialog.demo_button.click()
    assert window.session.connection is not None
    assert window.session.connection.base_url == demo_platform.base_url
    qtbot.waitUntil(lambda: window.sync_action.isEnabled(), timeout=60_000)
    # another server (same account id): the title follows the account
    other = DemoPlatform(seed=11, generations=600)  # the same account, elsewhere
    other.start()
    try:
        window.account_menu.sign_out()
        dialog = window.account_menu.sign_in()
        dialog.url.setText(other.base_url)
        dialog.key.setText(other.api_key)
        with qtbot.waitSignal(dialog.checkFinished, timeout=20_000):
            dialog.try_sign_in()
        shown = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
        ]
        assert shown and all("demo platform" not in w.windowTitle() for w in shown), [
            w.windowTitle() for w in shown
        ]
        assert shown == [window], "the same account stays in its window"
        qtbot.waitUntil(lambda: window.sync_action.isEnabled(), timeout=60_000)
    finally:
        other.stop()
    window.close()


def test_account_settings_never_lose_edits_and_check_as_typed(qtbot, demo_platform):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox, QPushButton

    from .test_settings import open_settings

    dialog = open_settings(qtbot, demo_platform)
    saves = [b for b in dialog.findChildren(QPushButton) if b.text().startswith("Save")]
    assert saves == [dialog.save_button], "one Save for the dialog"
    assert not dialog.unsaved()
    dialog.threshold.setText("25")
    close = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Close")
    close.click()
    question = dialog.findChild(QMessageBox, "discard_question")
    assert question is not None and question.isVisible() and dialog.isVisible()
    assert question.text() == "Discard changes?"
    with qtbot.waitSignal(dialog.saved, timeout=20_000):
        question.button(QMessageBox.StandardButton.Save).click()
    assert demo_platform.settings["notifications"]["low_balance_threshold"] == "25.00"
    assert not dialog.unsaved()
    # the spike minimum is checked as it is typed, its note on a row of its own
    dialog.spike_min.setText("a lot")
    dialog.threshold.setText("-5")
    assert dialog.spike_note.isVisible() and "amount such as 1.00" in dialog.spike_note.text()
    assert not dialog.save_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.spike_note.height() > 0)
    for note in (dialog.spike_note, dialog.threshold_note):
        assert note.isVisible()
        assert note.height() >= note.heightForWidth(note.width()), "no line cut off"
    top = dialog.spike_note.mapTo(dialog, dialog.spike_note.rect().topLeft()).y()
    bottom = dialog.threshold_note.mapTo(dialog, dialog.threshold_note.rect().bottomLeft()).y()
    assert top > bottom, "the spike note under the threshold's, not over it"
    dialog.spike_min.setText("1.00")
    dialog.threshold.setText("25.00")
    assert not dialog.spike_note.isVisible() and dialog.save_button.isEnabled()
    # Escape with an edit asks too; Discard closes without saving
    dialog.percent.setValue(50)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    question = dialog.findChild(QMessageBox, "discard_question")
    assert question is not None and question.isVisible() and dialog.isVisible()
    question.button(QMessageBox.StandardButton.Discard).click()
    assert not dialog.isVisible()
    assert demo_platform.settings["notifications"]["key_limit_warning_percent"] != 50


def test_open_log_folder_without_a_file_manager_shows_the_path(
    qtbot, data_dir, demo_platform, monkeypatch
):
    from PySide6.QtGui import QDesktopServices, QGuiApplication

    from lowdash_desktop.paths import log_dir

    from .test_main_window import make_window

    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)  # none opens here
    window = make_window(qtbot, data_dir, demo_platform)
    window.open_logs_action.trigger()  # Help → Open log folder
    shown = window.log_folder_dialog
    assert shown.isVisible(), "the menu does something visible"
    assert shown.url.text() == str(log_dir()) and shown.url.cursorPosition() == 0
    assert "file manager" in shown.text.text()
    shown.copy_button.click()
    assert QGuiApplication.clipboard().text() == str(log_dir())
    QGuiApplication.clipboard().clear()
    shown.close()
    window.close()


def test_an_address_no_browser_opened_shows_its_start(qtbot):
    from lowdash_desktop.ui.dialogs.credits_dialog import CopyUrlDialog

    url = "https://billing.lowrouter.example/checkout/" + "x" * 200
    dialog = CopyUrlDialog(url, "the checkout")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.url.cursorPosition() == 0  # "https://billing…", not "tps://billing…"
    dialog.close()


def test_export_counts_the_search_and_asks_before_replacing_a_file(
    qtbot, data_dir, demo_platform, tmp_path
):
    from PySide6.QtWidgets import QMessageBox

    from lowdash_desktop.ui.dialogs.export_dialog import ExportDialog

    from .test_main_window import make_window

    window = make_window(qtbot, data_dir, demo_platform)
    with qtbot.waitSignal(window.syncFinished, timeout=60_000):
        window.sync_now()
    window.search.setText("gen_no_such_id")
    window.export_action.trigger()  # Ctrl+E at once, before the search's pause has passed
    dialog = window.findChild(ExportDialog)
    assert window.table_model.rowCount() == 0
    assert "(0)" in dialog.filtered_radio.text() and dialog.filtered_radio.isChecked()
    assert dialog.chosen_filter().text == "gen_no_such_id"
    dialog.all_radio.setChecked(True)
    out = tmp_path / "history.csv"
    dialog.path_edit.setText(str(out))
    with qtbot.waitSignal(dialog.exportFinished, timeout=30_000):
        assert dialog.export_clicked() is True  # a new file: no question
    first = out.stat().st_mtime_ns
    question = dialog.export_clicked()  # the same path again
    assert isinstance(question, QMessageBox) and question.isVisible()
    assert "already exists" in question.text()
    assert question.defaultButton() is question.button(QMessageBox.StandardButton.Cancel)
    question.button(QMessageBox.StandardButton.Cancel).click()
    assert not dialog.running and out.stat().st_mtime_ns == first
    question = dialog.export_clicked()
    replace = next(b for b in question.buttons() if b.text() == "Replace")
    with qtbot.waitSignal(dialog.exportFinished, timeout=30_000):
        replace.click()
    dialog.reject()
    window.close()


def test_keyboard_focus_errors_escape_mnemonics_and_order(qtbot, data_dir, demo_platform):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from lowdash_desktop.api.connection import Connection
    from lowdash_desktop.ui.dialogs.keys_dialog import KeyFormDialog

    from .test_keyboard import synced_window, walk

    # New key: "Give the key a name." puts the cursor in Name, so typing lands there
    form = KeyFormDialog(Connection(demo_platform.base_url, demo_platform.api_key))
    qtbot.addWidget(form)
    form.show()
    form.activateWindow()
    form.ok_button.setFocus()
    form.submit()
    assert form.status.text == "Give the key a name."
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.name)
    QTest.keyClicks(QApplication.focusWidget(), "nightly")
    assert form.name.text() == "nightly"
    form.close()

    window = synced_window(qtbot, data_dir, demo_platform)
    # Escape in the search clears it
    window.search.setFocus()
    QTest.keyClicks(window.search, "gen_x")
    QTest.keyClick(window.search, Qt.Key.Key_Escape)
    assert window.search.text() == ""

    # menu titles: the underlined letter is the first one, no two alike, in the bar and in
    # each menu (Settings opened with Alt+E)
    def mnemonic(text: str) -> str | None:
        at = text.replace("&&", "").find("&")
        return text.replace("&&", "")[at + 1].lower() if at >= 0 else None

    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Settings" in titles, titles
    letters = [mnemonic(t) for t in titles]
    assert letters == [t.replace("&", "")[0].lower() for t in titles], titles
    assert len(set(letters)) == len(letters), titles
    for bar_action in window.menuBar().actions():
        inner = [mnemonic(a.text()) for a in bar_action.menu().actions() if a.text()]
        inner = [m for m in inner if m]
        assert len(set(inner)) == len(inner), (bar_action.text(), inner)
    # Tab follows the eye: the eco links above the spend boxes, the filters then the search
    window.table.setFocus()
    stops = walk(window)
    at = stops.index
    eco, spend = window.eco_dock.baseline_link, window.spend_dock.range_combo
    assert at(eco) < at(spend), "the eco links come before the spend chart's boxes below"
    bar = window.filter_bar
    assert at(bar.combos["model"]) < at(bar.combos["key_id"]) < at(bar.from_check)
    assert at(bar.from_check) < at(window.search), "the search ends the dates row"
    window.close()


def test_the_runway_waits_for_data_and_is_never_cut(qtbot, data_dir, demo_platform):
    from PySide6.QtCore import Qt

    from lowdash_desktop.insight.runway import Runway

    from .test_main_window import make_window

    def runway(history_days: float, below: bool = False) -> Runway:
        return Runway(
            0,
            10**9,
            history_days,
            history_days,
            None,
            None,
            None,
            None,
            None,
            None,
            below,
            None,
            None,
            None,
        )

    window = make_window(qtbot, data_dir, demo_platform)
    dock = window.credits_dock
    dock.show_runway(runway(0.0))  # a balance, no spend history yet: the first sync
    assert dock.runway.text() == "Runway: waiting for data."
    dock.show_runway(runway(3.0, below=True))  # two long sentences in a narrow dock
    window.resizeDocks([dock], [130], Qt.Orientation.Horizontal)
    label = dock.runway
    qtbot.waitUntil(lambda: label.width() <= 130 and label.isVisible())
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    assert label.heightForWidth(label.width()) > 3 * label.fontMetrics().height(), "wrapped"
    assert label.toolTip().startswith(label.text())  # the whole text on hover too
    # a first sync reading a backfill oldest first: 30 days read, none of the last 7 yet
    old_only = runway(30.0)
    dock.show_loading()
    dock.show_runway(old_only)
    assert dock.runway.text() == "Runway: waiting for data.", "no projection while loading"
    dock.end_loading()
    assert dock.runway.text() != "Runway: waiting for data.", "the projection once it ends"
    window.close()


def test_smaller_things_from_the_check(qtbot, data_dir, demo_platform, tmp_path):
    import time

    from PySide6.QtWidgets import QDialogButtonBox

    from lowdash_desktop import autostart
    from lowdash_desktop.ui import formatting
    from lowdash_desktop.ui.dialogs.credits_dialog import CreditsDialog
    from lowdash_desktop.ui.dialogs.preferences_dialog import PreferencesDialog

    from .test_keys import key_named, open_keys
    from .test_tray_preferences import make_window as prefs_window

    # receipts: payment methods in words, times with their zone
    credits = CreditsDialog(Connection(demo_platform.base_url, demo_platform.read_only_key))
    qtbot.addWidget(credits)
    credits.show()
    with qtbot.waitSignal(credits.loaded, timeout=20_000):
        assert credits.refresh()
    methods = {credits.table.item(r, 2).text() for r in range(credits.table.rowCount())}
    assert methods and not any("_" in m for m in methods), methods
    assert methods <= {"Card", "SEPA direct debit", "Bank transfer"}, methods
    zone = time.localtime().tm_zone
    assert credits.table.item(0, 0).text().endswith(zone), credits.table.item(0, 0).text()
    credits.close()
    # one wording for a sync a few seconds ago
    now = 1_800_000_000_000
    assert formatting.ago(now - 50_000, now) == "just now"
    assert formatting.ago(now - 60_000, now) == "1 min ago"
    # bulk edit chooses nothing; Rotate defaults to Cancel, as Disable does
    keys = open_keys(qtbot, demo_platform)
    keys.select_keys([k.id for k in keys.model.keys][:2])
    bulk = keys.bulk_edit()
    assert bulk.current_action is None and bulk.action.currentText() == ""
    assert "revoked" not in bulk.summary.toPlainText()
    bulk.ok_button.click()
    assert "Choose the change" in bulk.status.text and not bulk.runner.busy
    bulk.close()
    keys.select_keys([key_named(keys, "Staging").id])
    rotate = keys.rotate_selected()
    cancel = rotate.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    assert cancel.isDefault() and not rotate.ok_button.isDefault()
    rotate.close()
    keys.close()
    # the connection test's description is a sentence with its full stop
    window = prefs_window(qtbot, data_dir, demo_platform)
    prefs = PreferencesDialog(window.session, backend=autostart.XdgAutostart(tmp_path))
    qtbot.addWidget(prefs)
    prefs.test_connection()
    qtbot.waitUntil(prefs.test_button.isEnabled, timeout=20_000)
    assert prefs.test_result.text().endswith("TLS verification on.")
    prefs.close()
    window.close()


def test_the_eco_baseline_filter_says_when_nothing_matches(qtbot, data_dir, demo_platform):
    from PySide6.QtWidgets import QDialogButtonBox

    from .test_keyboard import synced_window

    window = synced_window(qtbot, data_dir, demo_platform)
    dialog = window.open_eco_baseline()
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert save.isEnabled() and dialog.selected_model()
    dialog.filter.setText("no such model zzz")
    assert dialog.no_match.isVisible() and dialog.no_match.text() == "No models match."
    assert not save.isEnabled(), "nothing shown is chosen"
    dialog.filter.clear()
    assert not dialog.no_match.isVisible() and save.isEnabled()
    dialog.reject()
    window.close()


def test_sign_in_with_a_stored_bundle_that_is_no_pem_says_so(qtbot, demo_platform, tmp_path):
    from PySide6.QtCore import QSettings

    from lowdash_desktop.secrets import KeyStore
    from lowdash_desktop.ui import network
    from lowdash_desktop.ui.dialogs.sign_in_dialog import SignInDialog

    not_pem = tmp_path / "passwd"
    not_pem.write_text("root:x:0:0:root:/root:/bin/bash\n")
    QSettings().setValue(network.CA_BUNDLE_KEY, str(not_pem))  # saved by an older version
    dialog = SignInDialog(KeyStore(), demo_platform.base_url)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.key.setText(demo_platform.api_key)
    dialog.try_sign_in()  # raised out of the slot before
    assert "holds no PEM certificate" in dialog.message.text()
    assert not dialog.checking and dialog.ok_button.isEnabled()
    dialog.reject()
