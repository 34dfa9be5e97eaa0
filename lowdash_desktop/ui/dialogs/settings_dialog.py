"""Account settings: profile, eco baseline, notification preferences, account deletion."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...api.connection import Connection
from ...api.models import Account, Key, Settings
from ...session import settings as stored
from ...session.answers import CachedAnswers
from .. import formatting
from .operation_dialog import (
    ERROR_STYLE,
    INVALID_BORDER,
    CallRunner,
    ConfirmDialog,
    OperationStatus,
    error_text,
    manage_reason,
    parse_money,
    plain_decimal,
    threshold_problem,
)

ECO_DIALOG_MODULE = "lowdash_desktop.ui.dialogs.eco_baseline_dialog"


def eco_baseline_dialog_class() -> type | None:
    """The eco baseline dialog (owned by the eco module) when it is installed."""
    try:
        module = importlib.import_module(ECO_DIALOG_MODULE)
    except ImportError:
        return None
    return getattr(module, "EcoBaselineDialog", None)


def _make_eco_dialog(cls: type, **available: Any) -> QDialog:
    """Build it with whichever of connection/cache/settings/parent its constructor takes."""
    params = inspect.signature(cls).parameters
    kwargs = {k: v for k, v in available.items() if k in params}
    return cls(**kwargs)


class SettingsDialog(QDialog):
    """One window for the account's settings; each part saves on its own."""

    loaded = Signal()
    saved = Signal(object)
    accountDeleted = Signal()
    alertsSaved = Signal()  # the runway warning's days or the spike minimum changed (local)

    def __init__(
        self,
        connection: Connection | None,
        answers: CachedAnswers | None = None,
        parent: QWidget | None = None,
    ):
        """`answers`: the account's session (what was cached shows until the platform's
        answer arrives)."""
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self.setWindowTitle(self.tr("Settings"))
        self.connection = connection
        self.cache = answers.cache if answers is not None else None
        self.runner = CallRunner(connection, self)
        self.account: Account | None = None
        self.settings: Settings | None = None
        self.reason: str | None = None if connection else manage_reason(None, None)
        self.child: QDialog | None = None
        layout = QVBoxLayout(self)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(ERROR_STYLE)
        self.note.hide()
        layout.addWidget(self.note)
        layout.addWidget(self._profile_box())
        layout.addWidget(self._eco_box())
        layout.addWidget(self._notifications_box())
        layout.addWidget(self._local_alerts_box())
        layout.addWidget(self._danger_box())
        self.status = OperationStatus(self)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        close = QPushButton(self.tr("Close"), self)
        close.setAccessibleName(self.tr("Close settings"))
        close.clicked.connect(self.close)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        if answers is not None:
            self._show_cached(answers)
        self._update_actions()
        self.resize(560, self.sizeHint().height())

    # -- construction ------------------------------------------------------------------------
    def _profile_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Profile"), self)
        form = QFormLayout(box)
        self.profile: dict[str, QLabel] = {}
        for field, label in (
            ("name", self.tr("Name")),
            ("email", self.tr("E-mail")),
            ("id", self.tr("Account id")),
            ("currency", self.tr("Currency")),
            ("timezone", self.tr("Time zone")),
            ("created_at", self.tr("Created")),
        ):
            value = QLabel("—", box)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setAccessibleName(label)
            self.profile[field] = value
            form.addRow(label, value)
        return box

    def _eco_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Eco baseline"), self)
        row = QHBoxLayout(box)
        self.baseline = QLabel("—", box)
        self.baseline.setAccessibleName(self.tr("Eco baseline model"))
        self.baseline.setWordWrap(True)
        self.eco_button = QPushButton(self.tr("Change baseline…"), box)
        self.eco_button.setAccessibleName(self.tr("Change the eco baseline model"))
        self.eco_button.clicked.connect(lambda _=False: self.open_eco_baseline())
        row.addWidget(self.baseline, 1)
        row.addWidget(self.eco_button)
        return box

    def _notifications_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Notifications"), self)
        form = QFormLayout(box)
        self.threshold = QLineEdit(box)
        self.threshold.setPlaceholderText(self.tr("Off"))
        self.threshold.setAccessibleName(self.tr("Low-balance threshold"))
        form.addRow(self.tr("Warn when the balance is below"), self.threshold)
        # what is wrong with the threshold, said under it as it is typed (not only on Save,
        # at the bottom of the dialog)
        self.threshold_note = QLabel(box)
        self.threshold_note.setObjectName("threshold_note")
        self.threshold_note.setWordWrap(True)
        self.threshold_note.setStyleSheet(ERROR_STYLE)
        self.threshold_note.hide()
        form.addRow("", self.threshold_note)
        self.threshold.textChanged.connect(lambda _t: self._check_threshold())
        self.percent = QSpinBox(box)
        self.percent.setRange(1, 100)
        self.percent.setSuffix(" %")
        self.percent.setValue(80)
        self.percent.setAccessibleName(self.tr("Key-limit warning percent"))
        form.addRow(self.tr("Warn when a key has used"), self.percent)
        self.weekly = QCheckBox(self.tr("Send me a weekly report by e-mail"), box)
        self.weekly.setAccessibleName(self.tr("Weekly report e-mail"))
        form.addRow("", self.weekly)
        self.save_button = QPushButton(self.tr("Save notification preferences"), box)
        self.save_button.setAccessibleName(self.tr("Save notification preferences"))
        self.save_button.clicked.connect(lambda _=False: self.save_notifications())
        form.addRow("", self.save_button)
        return box

    def _local_alerts_box(self) -> QGroupBox:
        """The app's own warnings, kept on this computer (QSettings): they work offline."""
        from ..runway_watcher import alert_days

        box = QGroupBox(self.tr("Alerts on this computer"), self)
        box.setObjectName("local_alerts")
        form = QFormLayout(box)
        self.runway_days = QSpinBox(box)
        self.runway_days.setRange(0, 365)
        self.runway_days.setSpecialValueText(self.tr("Off"))
        self.runway_days.setSuffix(self.tr(" days"))
        self.runway_days.setValue(min(alert_days(), 365))
        self.runway_days.setAccessibleName(self.tr("Runway warning, in days"))
        form.addRow(self.tr("Warn when the balance lasts under"), self.runway_days)
        self.spike_min = QLineEdit(box)
        self.spike_min.setText(stored.SPIKE_MIN_AMOUNT.get() or stored.SPIKE_MIN_AMOUNT.default)
        self.spike_min.setAccessibleName(self.tr("Smallest hourly spend that can be a spike"))
        self.spike_min.setToolTip(self.tr(
            "A spend spike is an hour whose spend, per key or per model, is far above the same "
            "key's or model's recent hours and at least this amount."))
        form.addRow(self.tr("Spike: an hour spending at least"), self.spike_min)
        self.alerts_status = QLabel(box)
        self.alerts_status.setWordWrap(True)
        self.alerts_status.setAccessibleName(self.tr("Alert settings status"))
        self.save_alerts_button = QPushButton(self.tr("Save alert settings"), box)
        self.save_alerts_button.setAccessibleName(self.tr("Save the alert settings"))
        self.save_alerts_button.clicked.connect(lambda _=False: self.save_local_alerts())
        form.addRow(self.alerts_status, self.save_alerts_button)
        return box

    def save_local_alerts(self) -> bool:
        """Keep the runway days and the spike minimum (an amount such as 1.00, at least 0)."""
        from ...insight.command import parse_amount
        text = self.spike_min.text().strip()
        try:
            parse_amount(text)
        except ValueError:
            self.alerts_status.setStyleSheet(ERROR_STYLE)
            self.alerts_status.setText(self.tr(
                "The spike minimum must be an amount such as 1.00 (0 or more)."))
            return False
        stored.RUNWAY_ALERT_DAYS.set(self.runway_days.value())
        stored.SPIKE_MIN_AMOUNT.set(text)
        self.alerts_status.setStyleSheet("")
        self.alerts_status.setText(self.tr("Saved."))
        self.alertsSaved.emit()
        return True

    def _danger_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Delete account"), self)
        row = QHBoxLayout(box)
        text = QLabel(
            self.tr(
                "Deletes the account, its keys and its history on the platform. "
                "This cannot be undone."
            ),
            box,
        )
        text.setWordWrap(True)
        self.delete_button = QPushButton(self.tr("Delete account…"), box)
        self.delete_button.setAccessibleName(self.tr("Delete the account"))
        self.delete_button.setStyleSheet("color: #b71c1c;")
        self.delete_button.clicked.connect(lambda _=False: self.delete_account())
        row.addWidget(text, 1)
        row.addWidget(self.delete_button)
        return box

    # -- data --------------------------------------------------------------------------------
    def _show_cached(self, answers: CachedAnswers) -> None:
        account, settings, keys = answers.account(), answers.settings(), answers.keys()
        if account is not None:
            self._show_account(account)
        if settings is not None:
            self._show_settings(settings)
        if keys is not None and self.connection is not None:
            self._set_reason(manage_reason(keys, self.connection.api_key))

    def load(self) -> bool:
        """Fetch the profile and settings (and the keys, to know what this key may change)."""

        def fetch(client) -> tuple[Account, Settings, list[Key] | None]:
            from ...api import errors

            try:
                keys = client.keys()
            except errors.ScopeError:
                keys = None
            return client.account(), client.settings(), keys

        started = self.runner.run(fetch, self._loaded, self._failed)
        if started:
            self.status.busy(self.tr("Loading settings…"))
            self._update_actions()
        return started

    def _loaded(self, value: tuple[Account, Settings, list[Key] | None]) -> None:
        account, settings, keys = value
        self._show_account(account)
        self._show_settings(settings)
        if keys is not None and self.connection is not None:
            self._set_reason(manage_reason(keys, self.connection.api_key))
        self.status.clear()
        self._update_actions()
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.status.fail(error_text(exc))
        self._update_actions()

    def _set_reason(self, reason: str | None) -> None:
        self.reason = reason
        self.note.setText(reason or "")
        self.note.setVisible(bool(reason))
        self._update_actions()

    def _show_account(self, account: Account) -> None:
        self.account = account
        created = formatting.local_time(int(account.created_at.timestamp() * 1000), True)
        for field, text in (
            ("name", account.name or "—"),
            ("email", account.email),
            ("id", account.id),
            ("currency", account.currency),
            ("timezone", account.timezone),
            ("created_at", created),
        ):
            self.profile[field].setText(text)

    def _show_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.baseline.setText(settings.eco_baseline_model or self.tr("not set"))
        notes = settings.notifications
        self.threshold.setText(plain_decimal(notes.low_balance_threshold))
        if notes.key_limit_warning_percent is not None:
            self.percent.setValue(int(notes.key_limit_warning_percent))
        self.weekly.setChecked(notes.weekly_report_email)

    def _check_threshold(self) -> str | None:
        """Mark the threshold and say why under it while it cannot be saved as typed."""
        problem = threshold_problem(self.threshold.text())
        self.threshold_note.setText(problem or "")
        self.threshold_note.setVisible(bool(problem))
        self.threshold.setStyleSheet(INVALID_BORDER if problem else "")
        self.threshold.setToolTip(problem or "")
        if hasattr(self, "delete_button"):  # the dialog is built
            self._update_actions()
        return problem

    def _update_actions(self) -> None:
        allowed = self.reason is None and self.connection is not None and not self.runner.busy
        for widget in (self.save_button, self.delete_button):
            widget.setEnabled(allowed)
            widget.setToolTip(self.reason or "")
        if allowed and threshold_problem(self.threshold.text()):
            self.save_button.setEnabled(False)
            self.save_button.setToolTip(self.tr("Correct the low-balance threshold first."))
        self.delete_button.setEnabled(allowed and self.account is not None)
        self.eco_button.setEnabled(not self.runner.busy)

    # -- notifications ---------------------------------------------------------------------------
    def notification_fields(self) -> dict[str, Any]:
        """What would be sent, as typed (raises ValueError for an unreadable threshold)."""
        return {
            "low_balance_threshold": parse_money(self.threshold.text()),
            "key_limit_warning_percent": self.percent.value(),
            "weekly_report_email": self.weekly.isChecked(),
        }

    def save_notifications(self) -> bool:
        problem = self._check_threshold()
        if problem:
            self.status.fail(problem)
            return False
        fields = self.notification_fields()
        started = self.runner.run(
            lambda c: c.patch_settings(notifications=fields), self._saved, self._write_failed
        )
        if started:
            self.status.busy(self.tr("Saving…"))
            self._update_actions()
        return started

    def _saved(self, settings: Settings) -> None:
        self._show_settings(settings)
        self.status.done(self.tr("Notification preferences saved."))
        self._update_actions()
        self.saved.emit(settings)

    def _write_failed(self, exc: BaseException) -> None:
        self.status.fail(error_text(exc))
        self._update_actions()

    # -- eco baseline ----------------------------------------------------------------------------
    def open_eco_baseline(self) -> QDialog | None:
        """Delegate to the eco module's baseline dialog (one place to pick the baseline)."""
        cls = eco_baseline_dialog_class()
        if cls is None:
            self.status.fail(self.tr("The eco baseline dialog is not available in this build."))
            return None
        dialog = _make_eco_dialog(
            cls, connection=self.connection, cache=self.cache, settings=self.settings, parent=self
        )
        self.child = dialog
        dialog.finished.connect(lambda _r: self.load() if self.connection else None)
        dialog.open()
        return dialog

    # -- deletion ---------------------------------------------------------------------------------
    def delete_account(self) -> ConfirmDialog | None:
        if self.account is None or not self.delete_button.isEnabled():
            return None
        email = self.account.email
        confirm = ConfirmDialog(
            self.connection,
            self.tr("Delete account"),
            self.tr(
                "This schedules the deletion of the account {0} on the platform: its keys stop "
                "working and its history is erased. Lowdash keeps the local cache until you "
                "remove it."
            ).format(email),
            self.tr("Delete account"),
            lambda c: c.delete_account(email),
            require=email,
            parent=self,
        )
        confirm.succeeded.connect(lambda _v: self._deleted())
        self.child = confirm
        confirm.setWindowModality(Qt.WindowModality.WindowModal)
        confirm.show()
        return confirm

    def _deleted(self) -> None:
        self.status.done(self.tr("Account deletion requested."))
        self.accountDeleted.emit()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if self.child is not None and self.child.isVisible():
            self.child.close()
        super().closeEvent(event)
