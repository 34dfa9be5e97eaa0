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
from ...rules.money import parse_money
from ...session import settings as stored
from ...session.answers import CachedAnswers
from .. import formatting
from ..widgets.grow_to_fit import grow_to_fit
from .operation_dialog import (
    ERROR_STYLE,
    INVALID_BORDER,
    CallRunner,
    ConfirmDialog,
    OperationStatus,
    error_text,
    manage_reason,
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


def local_decimal(text: str) -> str:
    """'10.50' with the locale's decimal mark ('10,50' in German), as a person types it there;
    parse_money and the spike minimum read either mark."""
    from PySide6.QtCore import QLocale

    return text.replace(".", QLocale().decimalPoint()) if text else text


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
        # one Save for the whole dialog (there were two, one per box, and Close dropped what
        # neither had saved): what changed on the platform and on this computer, together
        buttons.addWidget(self.save_button)
        close = QPushButton(self.tr("Close"), self)
        close.setAccessibleName(self.tr("Close settings"))
        close.clicked.connect(lambda _=False: self._ask_discard() or self.close())
        buttons.addWidget(close)
        layout.addLayout(buttons)
        if answers is not None:
            self._show_cached(answers)
        self._remember_shown()
        self._local_shown = self._local_values()
        for signal in (self.threshold.textChanged, self.percent.valueChanged,
                       self.weekly.toggled, self.runway_days.valueChanged):
            signal.connect(lambda *_a: self._update_actions())
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
        form.addRow(self.tr("Warn when the balance is below"), self._in_currency(self.threshold))
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
        self.save_button = QPushButton(self.tr("Save"), self)  # at the bottom, for every box
        self.save_button.setObjectName("settings_save")
        self.save_button.setAccessibleName(self.tr("Save the settings"))
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(lambda _=False: self.save())
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
        spike_min = stored.SPIKE_MIN_AMOUNT.get() or stored.SPIKE_MIN_AMOUNT.default
        self.spike_min.setText(local_decimal(spike_min))
        self.spike_min.setAccessibleName(self.tr("Smallest hourly spend that can be a spike"))
        self.spike_min.setToolTip(self.tr(
            "A spend spike is an hour whose spend, per key or per model, is far above the same "
            "key's or model's recent hours and at least this amount."))
        form.addRow(self.tr("Spike: an hour spending at least"), self._in_currency(self.spike_min))
        # checked as it is typed, said under the field across the box's width (it was said
        # only on save, in the label column, clipped and over the threshold's note)
        self.spike_note = QLabel(box)
        self.spike_note.setObjectName("spike_note")
        self.spike_note.setWordWrap(True)
        self.spike_note.setStyleSheet(ERROR_STYLE)
        self.spike_note.hide()
        form.addRow(self.spike_note)
        self.spike_min.textChanged.connect(lambda _t: self._check_spike_min())
        self.alerts_status = QLabel(box)
        self.alerts_status.setWordWrap(True)
        self.alerts_status.setAccessibleName(self.tr("Alert settings status"))
        self.alerts_status.hide()
        form.addRow(self.alerts_status)
        return box

    def _in_currency(self, field: QLineEdit) -> QWidget:
        """An amount field with the account's currency after it ('10,00 EUR' in German)."""
        holder = QWidget(field.parentWidget())
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        unit = QLabel(holder)
        unit.setObjectName("currency_unit")
        unit.hide()  # until the account's currency is known
        row.addWidget(field, 1)
        row.addWidget(unit)
        self._currency_units = [*getattr(self, "_currency_units", []), (field, unit)]
        return holder

    def show_currency(self, code: str) -> None:
        """The account's currency beside every amount typed here (these amounts are in it)."""
        for field, unit in getattr(self, "_currency_units", []):
            unit.setText(code)
            unit.setVisible(bool(code))
            field.setAccessibleDescription(self.tr("In {0}.").format(code) if code else "")

    def _check_spike_min(self) -> str | None:
        """Mark the spike minimum and say why under it while it cannot be saved as typed."""
        from ...insight.command import parse_amount

        try:
            parse_amount(self.spike_min.text().strip())
            problem = None
        except ValueError:
            problem = self.tr("The spike minimum must be an amount such as 1.00 (0 or more).")
        self.spike_note.setText(problem or "")
        self.spike_note.setVisible(bool(problem))
        self.spike_min.setStyleSheet(INVALID_BORDER if problem else "")
        if hasattr(self, "delete_button"):  # the dialog is built
            self._update_actions()
            self._grow_to_fit()
        return problem

    def _grow_to_fit(self) -> None:
        """A note that appears grows the window: the rows were squeezed to make room for it
        and the notes lost their last line."""
        grow_to_fit(self)

    # -- unsaved edits ---------------------------------------------------------------------------
    def _notification_values(self) -> tuple:
        return (self.threshold.text().strip(), self.percent.value(), self.weekly.isChecked())

    def _local_values(self) -> tuple:
        return (self.runway_days.value(), self.spike_min.text().strip())

    def _remember_shown(self) -> None:
        self._notes_shown = self._notification_values()

    def unsaved(self) -> bool:
        """Edits that Save has not sent or kept yet."""
        return (self._notification_values() != getattr(self, "_notes_shown", None)
                or self._local_values() != getattr(self, "_local_shown", None))

    def save(self) -> bool:
        """The dialog's Save: the alerts on this computer and the platform's notification
        preferences, whichever changed. False when something cannot be saved as typed."""
        local = self._local_values() != self._local_shown
        notes = self._notification_values() != self._notes_shown
        if local and not self.save_local_alerts():
            return False
        if notes:
            return self.save_notifications()
        if local:
            self.status.done(self.tr("Saved."))
        else:
            self.status.done(self.tr("No changes to save."))
        return True

    def save_local_alerts(self) -> bool:
        """Keep the runway days and the spike minimum (an amount such as 1.00, at least 0)."""
        from ...insight.command import parse_amount

        text = self.spike_min.text().strip().replace(",", ".")  # the locale's 1,50 too
        try:
            parse_amount(text)
        except ValueError:
            self.alerts_status.setStyleSheet(ERROR_STYLE)
            self.alerts_status.setText(self.tr(
                "The spike minimum must be an amount such as 1.00 (0 or more)."))
            self._check_spike_min()
            return False
        stored.RUNWAY_ALERT_DAYS.set(self.runway_days.value())
        stored.SPIKE_MIN_AMOUNT.set(text)
        self.alerts_status.setStyleSheet("")
        self.alerts_status.setText(self.tr("Saved."))
        self._local_shown = self._local_values()
        self._update_actions()
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
        self.show_currency(account.currency or "")

    def _show_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.baseline.setText(settings.eco_baseline_model or self.tr("not set"))
        notes = settings.notifications
        self.threshold.setText(local_decimal(plain_decimal(notes.low_balance_threshold)))
        if notes.key_limit_warning_percent is not None:
            self.percent.setValue(int(notes.key_limit_warning_percent))
        self.weekly.setChecked(notes.weekly_report_email)
        self._remember_shown()  # what the platform holds: nothing unsaved

    def _check_threshold(self) -> str | None:
        """Mark the threshold and say why under it while it cannot be saved as typed."""
        problem = threshold_problem(self.threshold.text())
        self.threshold_note.setText(problem or "")
        self.threshold_note.setVisible(bool(problem))
        self.threshold.setStyleSheet(INVALID_BORDER if problem else "")
        self.threshold.setToolTip(problem or "")
        if hasattr(self, "delete_button"):  # the dialog is built
            self._update_actions()
            self._grow_to_fit()
        return problem

    def _update_actions(self) -> None:
        allowed = self.reason is None and self.connection is not None and not self.runner.busy
        for widget in (self.save_button, self.delete_button):
            widget.setEnabled(allowed)
            widget.setToolTip(self.reason or "")
        if allowed and threshold_problem(self.threshold.text()):
            self.save_button.setEnabled(False)
            self.save_button.setToolTip(self.tr("Correct the low-balance threshold first."))
        # the alerts on this computer save offline too, and the one Save waits for every
        # field to be savable
        local = self._local_values() != getattr(self, "_local_shown", None)
        if local and not allowed and not self.runner.busy:
            self.save_button.setEnabled(not threshold_problem(self.threshold.text()))
        if hasattr(self, "spike_note") and not self.spike_note.isHidden():
            self.save_button.setEnabled(False)
            self.save_button.setToolTip(self.tr("Correct the spike minimum first."))
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

    def _ask_discard(self) -> bool:
        """Unsaved edits: ask (Save / Discard / Cancel) and return True; else False."""
        from PySide6.QtWidgets import QMessageBox

        if getattr(self, "_discarding", False) or not self.unsaved():
            return False
        box = QMessageBox(self)
        box.setObjectName("discard_question")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Settings"))
        box.setText(self.tr("Discard changes?"))
        box.setInformativeText(self.tr("Some settings were changed but not saved."))
        box.setStandardButtons(QMessageBox.StandardButton.Save
                               | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)

        def answered(button) -> None:
            role = box.standardButton(button)
            if role == QMessageBox.StandardButton.Discard:
                self._discarding = True
                self.close()
            elif role == QMessageBox.StandardButton.Save:
                self.save()  # stays open: the status says whether it was saved

        box.buttonClicked.connect(answered)
        box.finished.connect(box.deleteLater)
        box.open()
        self.discard_question = box
        return True

    def reject(self) -> None:  # Escape
        if not self._ask_discard():
            super().reject()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        # the title bar's close asks; the app closing its windows (a sign-out, quitting) and
        # the Close button (which asked already) do not
        if event.spontaneous() and self._ask_discard():
            event.ignore()
            return
        self._discarding = True  # closing now: QDialog's closeEvent rejects, which must not ask
        if self.child is not None and self.child.isVisible():
            self.child.close()
        super().closeEvent(event)
