"""Settings (profile, notification preferences, account deletion) over HTTP against the demo."""

from __future__ import annotations

from lowdash_desktop.api.connection import Connection
from lowdash_desktop.ui.dialogs import settings_dialog
from lowdash_desktop.ui.dialogs.settings_dialog import SettingsDialog


def open_settings(qtbot, platform, key: str | None = None) -> SettingsDialog:
    dialog = SettingsDialog(Connection(platform.base_url, key or platform.api_key))
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        assert dialog.load()
    return dialog


def test_profile_and_preferences_are_shown(qtbot, demo_platform):
    dialog = open_settings(qtbot, demo_platform)
    assert dialog.profile["email"].text() == "ops@lowdash.example"
    assert dialog.profile["currency"].text() == "EUR"
    assert dialog.threshold.text() == "10.00"
    assert dialog.percent.value() == 80 and dialog.weekly.isChecked()
    assert dialog.baseline.text() == demo_platform.settings["eco_baseline_model"]
    assert dialog.save_button.isEnabled() and dialog.delete_button.isEnabled()
    dialog.close()


def test_save_notification_preferences(qtbot, demo_platform):
    dialog = open_settings(qtbot, demo_platform)
    dialog.threshold.setText("25")
    dialog.percent.setValue(65)
    dialog.weekly.setChecked(False)
    with qtbot.waitSignal(dialog.saved, timeout=20_000):
        assert dialog.save_notifications()
        assert dialog.status.in_flight and not dialog.save_button.isEnabled()
    notes = demo_platform.settings["notifications"]
    assert notes == {
        "low_balance_threshold": "25.00",
        "key_limit_warning_percent": 65,
        "weekly_report_email": False,
    }
    assert dialog.status.text == "Notification preferences saved."
    dialog.close()


def test_invalid_threshold_is_explained_before_sending(qtbot, demo_platform):
    dialog = open_settings(qtbot, demo_platform)
    dialog.threshold.setText("ten")
    assert not dialog.save_notifications()
    assert "amount such as 10.00" in dialog.status.text
    dialog.threshold.setText("-5")
    assert not dialog.save_notifications()
    assert dialog.status.text.startswith("The threshold cannot be negative")
    dialog.close()


def test_the_threshold_is_bounded_and_explained_where_it_is_typed(qtbot, demo_platform):
    dialog = open_settings(qtbot, demo_platform)
    before = dict(demo_platform.settings["notifications"])
    for typed, said in (
        ("-5", "cannot be negative"),
        ("1e9", "at most 1,000,000.00"),  # a warning that would never go off
        ("10.005", "at most two decimals"),
    ):
        dialog.threshold.setText(typed)
        # under the field, with a red border, as it is typed; Save waits for a usable value
        assert dialog.threshold_note.isVisible() and said in dialog.threshold_note.text(), typed
        assert "b71c1c" in dialog.threshold.styleSheet()
        assert not dialog.save_button.isEnabled()
        assert not dialog.save_notifications() and said in dialog.status.text
    assert demo_platform.settings["notifications"] == before, "nothing was sent"
    dialog.threshold.setText("1000000")
    assert not dialog.threshold_note.isVisible() and dialog.threshold.styleSheet() == ""
    assert dialog.save_button.isEnabled()
    dialog.threshold.clear()  # empty: no warning
    assert not dialog.threshold_note.isVisible() and dialog.save_button.isEnabled()
    dialog.close()


def test_read_only_key_disables_changes_with_reason(qtbot, demo_platform):
    dialog = open_settings(qtbot, demo_platform, key=demo_platform.read_only_key)
    assert not dialog.save_button.isEnabled() and not dialog.delete_button.isEnabled()
    assert "lacks the 'manage' scope" in dialog.note.text()
    # the platform agrees: forcing a save shows its 403 verbatim, the form stays as typed
    dialog.reason = None
    dialog.threshold.setText("3")
    with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
        dialog.save_notifications()
    assert "HTTP 403" in dialog.status.text and "'manage' scope" in dialog.status.text
    assert dialog.threshold.text() == "3"
    dialog.close()


def test_delete_account_needs_the_email_typed(qtbot, demo_platform):
    dialog = open_settings(qtbot, demo_platform)
    confirm = dialog.delete_account()
    assert confirm is not None and not confirm.ok_button.isEnabled()
    confirm.typed.setText("ops@lowdash.exampl")
    assert not confirm.ok_button.isEnabled()
    confirm.typed.setText("ops@lowdash.example")
    with qtbot.waitSignal(dialog.accountDeleted, timeout=20_000):
        confirm.ok_button.click()
    assert demo_platform.deletion_requested_at is not None
    assert not confirm.isVisible()
    dialog.close()


def test_delete_account_refusal_is_verbatim(qtbot, demo_platform):
    dialog = open_settings(qtbot, demo_platform)
    confirm = dialog.delete_account()
    demo_platform.stored_account["email"] = "changed@lowdash.example"  # changed elsewhere meanwhile
    confirm.typed.setText("ops@lowdash.example")
    with qtbot.waitSignal(confirm.runner.finished, timeout=20_000):
        confirm.ok_button.click()
    assert "HTTP 422" in confirm.status.text
    assert "confirm must equal the account email" in confirm.status.text
    assert confirm.isVisible() and confirm.typed.text() == "ops@lowdash.example"
    assert demo_platform.deletion_requested_at is None
    confirm.close()
    dialog.close()


def test_eco_baseline_delegates_to_the_eco_dialog(qtbot, demo_platform, monkeypatch):
    from PySide6.QtWidgets import QDialog

    made = {}

    class FakeEcoDialog(QDialog):
        def __init__(self, connection=None, parent=None):
            super().__init__(parent)
            made["connection"] = connection

    monkeypatch.setattr(settings_dialog, "eco_baseline_dialog_class", lambda: FakeEcoDialog)
    dialog = open_settings(qtbot, demo_platform)
    eco = dialog.open_eco_baseline()
    assert isinstance(eco, FakeEcoDialog) and eco.isVisible()
    assert made["connection"] is dialog.connection
    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        eco.reject()  # closing it reloads the settings (the baseline may have changed)
    dialog.close()


def test_alert_amounts_show_the_accounts_currency_in_the_locales_format(qtbot, demo_platform):
    from PySide6.QtCore import QLocale, QSettings
    from PySide6.QtWidgets import QLabel

    from lowdash_desktop.ui.insight_watcher import SPIKE_MIN_KEY

    QSettings().setValue(SPIKE_MIN_KEY, "2.50")
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    try:
        dialog = open_settings(qtbot, demo_platform)
        units = [w for w in dialog.findChildren(QLabel, "currency_unit") if w.isVisible()]
        assert [u.text() for u in units] == ["EUR", "EUR"], "threshold and spike minimum"
        for field in (dialog.threshold, dialog.spike_min):
            unit = next(u for u in units if u.parentWidget() is field.parentWidget())
            assert unit.geometry().left() >= field.geometry().right(), "after the amount"
            assert field.accessibleDescription() == "In EUR."
        assert dialog.threshold.text() == "10,00" and dialog.spike_min.text() == "2,50"
        assert dialog.threshold_note.isHidden(), "the locale's decimal comma is read"
        assert dialog.save_local_alerts()
        assert QSettings().value(SPIKE_MIN_KEY) == "2.50"
        with qtbot.waitSignal(dialog.saved, timeout=20_000):
            assert dialog.save_notifications()
        assert demo_platform.settings["notifications"]["low_balance_threshold"] == "10.00"
        dialog.close()
    finally:
        QLocale.setDefault(before)
        QSettings().remove(SPIKE_MIN_KEY)
