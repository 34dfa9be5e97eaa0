"""Preferences: interval, tray, start at login (XDG file), CA bundle, connection test."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from lowdash_desktop import accounts, autostart
from lowdash_desktop.api.connection import Connection
from lowdash_desktop.app import open_session
from lowdash_desktop.session import scheduler
from lowdash_desktop.ui import network
from lowdash_desktop.ui.dialogs.preferences_dialog import PreferencesDialog
from lowdash_desktop.ui.main_window import MainWindow


def make_window(qtbot, data_dir, platform):
    account = accounts.remember(data_dir, platform.base_url, "acc_demo", "ops@example.com")
    session = open_session(data_dir, Connection(platform.base_url, platform.api_key), account)
    window = MainWindow(session)
    qtbot.addWidget(window)
    return window


def test_settings_apply_to_window_and_login_entry(qtbot, data_dir, demo_platform, tmp_path):
    window = make_window(qtbot, data_dir, demo_platform)
    backend = autostart.XdgAutostart(config_home=tmp_path / "xdg")
    dialog = PreferencesDialog(window.session, parent=window, backend=backend)
    qtbot.addWidget(dialog)
    assert dialog.interval.currentData() == 5, "default every 5 minutes"
    assert [dialog.interval.itemData(i) for i in range(dialog.interval.count())] == [
        0,
        1,
        5,
        15,
        60,
    ]
    assert not dialog.keep_in_tray.isEnabled(), "no tray offscreen: explained, not offered"
    assert "no system tray" in dialog.keep_in_tray.toolTip()
    dialog.interval.setCurrentIndex(3)
    dialog.at_login.setChecked(True)
    dialog.accept()
    assert window.scheduler.interval_min == 15
    assert scheduler.stored_interval() == 15
    assert backend.is_enabled() and "--minimized" in backend.path.read_text()

    dialog = PreferencesDialog(window.session, parent=window, backend=backend)
    qtbot.addWidget(dialog)
    assert dialog.at_login.isChecked() and dialog.interval.currentData() == 15
    dialog.at_login.setChecked(False)
    dialog.interval.setCurrentIndex(0)
    dialog.accept()
    assert not backend.path.exists()
    assert window.scheduler.status_text() == "Automatic refresh off"
    window.close()


def test_missing_ca_bundle_is_refused(qtbot, data_dir, demo_platform, tmp_path):
    window = make_window(qtbot, data_dir, demo_platform)
    dialog = PreferencesDialog(window.session, parent=window, backend=autostart.XdgAutostart(tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.ca_bundle.setText(str(tmp_path / "missing.pem"))
    dialog.accept()
    assert dialog.isVisible() and dialog.ca_error.text() == "No file at this path."
    assert network.stored_ca_bundle() is None
    dialog.reject()
    window.close()


def test_ca_bundle_reaches_the_session_connection(qtbot, data_dir, demo_platform, tmp_path):
    import certifi

    window = make_window(qtbot, data_dir, demo_platform)
    dialog = PreferencesDialog(window.session, parent=window, backend=autostart.XdgAutostart(tmp_path))
    qtbot.addWidget(dialog)
    dialog.ca_bundle.setText(certifi.where())
    dialog.accept()
    assert QSettings().value(network.CA_BUNDLE_KEY) == certifi.where()
    assert window.session.connection.ca_bundle == certifi.where()
    assert window.session.connection.api_key == demo_platform.api_key
    window.close()


def test_connection_test_says_which_proxy_and_ca(qtbot, data_dir, demo_platform, tmp_path):
    window = make_window(qtbot, data_dir, demo_platform)
    dialog = PreferencesDialog(window.session, parent=window, backend=autostart.XdgAutostart(tmp_path))
    qtbot.addWidget(dialog)
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30_000)
    text = dialog.test_result.text()
    assert text.startswith("Connected"), text
    assert "Proxy: none (direct connection)" in text
    assert "CA: the built-in trust store" in text and "TLS verification on" in text
    assert demo_platform.api_key not in text
    dialog.reject()
    window.close()


def test_connection_test_reports_failure(qtbot, data_dir, demo_platform, tmp_path):
    window = make_window(qtbot, data_dir, demo_platform)
    demo_platform.stop()
    dialog = PreferencesDialog(window.session, parent=window, backend=autostart.XdgAutostart(tmp_path))
    qtbot.addWidget(dialog)
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30_000)
    assert dialog.test_result.text().startswith("Failed: Cannot reach the platform")
    assert "Proxy: none" in dialog.test_result.text()
    window.close()


def test_file_menu_opens_preferences(qtbot, data_dir, demo_platform):
    window = make_window(qtbot, data_dir, demo_platform)
    window.preferences_action.trigger()
    dialog = window.findChild(PreferencesDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.reject()
    window.close()


def test_a_connection_test_result_does_not_squash_the_help_text(qtbot, demo_platform, tmp_path):
    """Issue 19 item 11: the result's lines took their room from the CA bundle's help text."""
    from types import SimpleNamespace

    from PySide6.QtWidgets import QLabel, QWidget

    from lowdash_desktop.api.connection import Connection

    window = QWidget()
    qtbot.addWidget(window)
    window.session = SimpleNamespace(connection=Connection(demo_platform.base_url,
                                                           demo_platform.api_key))
    dialog = PreferencesDialog(window.session, parent=window, backend=autostart.XdgAutostart(tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    note = next(label for label in dialog.findChildren(QLabel)
                if label.text().startswith("Added to the built-in trust store"))
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30_000)
    assert dialog.test_result.text().startswith("Connected")
    qtbot.waitUntil(lambda: note.height() >= note.heightForWidth(note.width()), timeout=2_000)
    result = dialog.test_result
    assert result.height() >= result.heightForWidth(result.width())
    dialog.reject()
