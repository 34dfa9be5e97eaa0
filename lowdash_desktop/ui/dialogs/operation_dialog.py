"""Shared pieces of the account dialogs: writes off the UI thread, progress, verbatim errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...api import errors
from ...api.connection import Connection
from ...api.models import Key
from ...rules.money import AmountProblem, amount_problem
from ...rules.permissions import MANAGE, READ, LacksManage, NotSignedIn, manage_denial
from ..background import BackgroundCall
from ..formatting import sentence

ERROR_STYLE = "color: #b71c1c;"
OK_STYLE = "color: #1b5e20;"


def _tr(text: str) -> str:
    return QCoreApplication.translate("AccountOperations", text)


def error_text(exc: BaseException) -> str:
    """The platform's own message, verbatim, with the HTTP status and code in front; a
    sentence, whatever the platform's words end with."""
    if isinstance(exc, errors.HttpError) and exc.status:
        return sentence(_tr("Refused by the platform (HTTP {0}, {1}): {2}").format(
            exc.status, exc.code, exc.message
        ))
    if isinstance(exc, errors.ApiError):
        return sentence(exc.message)
    return sentence(_tr("Unexpected error: {0}").format(exc))


def limit_problem(text: str) -> str | None:
    """Why a credit limit as typed cannot be used, in words, or None ('' is no limit)."""
    problem = amount_problem(text)
    if problem is None:
        return None
    return {
        AmountProblem.UNREADABLE: _tr("The credit limit must be an amount such as 25.00, or empty."),
        AmountProblem.NEGATIVE: _tr("The credit limit cannot be negative."),
        AmountProblem.TOO_HIGH: _tr(
            "The credit limit can be at most 1,000,000.00; leave it empty for no limit."
        ),
        AmountProblem.TOO_PRECISE: _tr("The credit limit has at most two decimals, such as 25.50."),
    }[problem]


INVALID_BORDER = "border: 1px solid #b71c1c;"


def threshold_problem(text: str) -> str | None:
    """Why a low-balance threshold as typed cannot be used, in words, or None ('' is off)."""
    problem = amount_problem(text)
    if problem is None:
        return None
    return {
        AmountProblem.UNREADABLE: _tr(
            "The threshold must be an amount such as 10.00, or empty for no warning."
        ),
        AmountProblem.NEGATIVE: _tr(
            "The threshold cannot be negative; leave it empty for no warning."
        ),
        AmountProblem.TOO_HIGH: _tr(
            "The threshold can be at most 1,000,000.00 (above it the warning would never go "
            "off); leave it empty for no warning."
        ),
        AmountProblem.TOO_PRECISE: _tr("The threshold has at most two decimals, such as 10.50."),
    }[problem]


def plain_decimal(value: Any) -> str:
    """A decimal as a person types it: '0.0000001', never '1E-7'; '' for None."""
    if value is None:
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format(number, "f") if number.is_finite() else str(value)


def manage_reason(keys: Iterable[Key] | None, api_key: str | None) -> str | None:
    """None when the signed-in key may manage the account, else why not, in words."""
    denial = manage_denial(keys, api_key)
    if isinstance(denial, NotSignedIn):
        return _tr("Not signed in: sign in to change keys, routing or settings.")
    if isinstance(denial, LacksManage):
        key = denial.key
        return _tr(
            "The API key Lowdash signs in with ({0}, scopes: {1}) lacks the 'manage' scope, so "
            "changes are disabled. Sign in with a key that has 'manage' to make them."
        ).format(key.name, ", ".join(key.scopes) or "—")
    return None


def lockout_text(key: Key, fields: dict[str, Any] | None, revoke: bool = False) -> str | None:
    """In words, how a change to the key Lowdash signs in with cuts Lowdash's own access.

    `fields` are the PATCH fields about to be sent (None: no PATCH); `revoke` for a revoke.
    None when the change leaves the app able to read and manage the account.
    """
    fields = fields or {}
    cuts: list[str] = []
    if revoke:
        cuts.append(_tr(
            "Revoking it is permanent: Lowdash can no longer sync or change anything until you "
            "sign in with another key."
        ))
    if fields.get("disabled") is True and not key.disabled:
        cuts.append(_tr(
            "Once it is disabled the platform refuses every request Lowdash makes, including the "
            "one that would enable it again: only another key with the 'manage' scope can."
        ))
    limit = fields.get("credit_limit")
    # only 0 itself: a negative limit is refused by the form ("cannot be negative"), never sent
    if limit is not None and limit == 0 and key.credit_limit != limit:
        cuts.append(_tr(
            "A credit limit of 0 lets this key spend nothing: its requests are refused from now "
            "on."
        ))
    if "scopes" in fields:
        scopes = fields["scopes"] or []
        if READ in key.scopes and READ not in scopes:
            cuts.append(_tr(
                "Without the 'read' scope Lowdash can no longer sync the history, the balance or "
                "the dashboards."
            ))
        if MANAGE in key.scopes and MANAGE not in scopes:
            cuts.append(_tr(
                "Without the 'manage' scope Lowdash can no longer change keys, routing or "
                "settings, including giving this key its scope back."
            ))
    if not cuts:
        return None
    return " ".join(
        [_tr("Lowdash itself signs in with “{0}” ({1}…).").format(key.name, key.prefix), *cuts]
    )


RESETS = (None, "daily", "weekly", "monthly")


def reset_combo(parent: QWidget, accessible_name: str) -> QComboBox:
    """The credit-limit reset choices (never, daily, weekly, monthly), data = API value."""
    combo = QComboBox(parent)
    combo.setAccessibleName(accessible_name)
    labels = (
        _tr("Never"),
        _tr("Daily"),
        _tr("Weekly"),
        _tr("Monthly"),
    )
    for value, text in zip(RESETS, labels, strict=True):
        combo.addItem(text, value)
    return combo


class OperationStatus(QWidget):
    """A progress bar and one line of text under a form: busy, done, or the error verbatim."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)
        self.bar.setMaximumWidth(120)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName(self.tr("Operation in progress"))
        self.bar.hide()
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName(self.tr("Operation status"))
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)

    def busy(self, text: str) -> None:
        self.bar.show()
        self.label.setStyleSheet("")
        self.label.setText(text)

    def done(self, text: str) -> None:
        self.bar.hide()
        self.label.setStyleSheet(OK_STYLE)
        self.label.setText(text)

    def fail(self, text: str) -> None:
        self.bar.hide()
        self.label.setStyleSheet(ERROR_STYLE)
        self.label.setText(text)

    def clear(self) -> None:
        self.bar.hide()
        self.label.clear()

    @property
    def text(self) -> str:
        return self.label.text()

    @property
    def in_flight(self) -> bool:
        return not self.bar.isHidden()


class LockoutGuard(QWidget):
    """Says in words that a change cuts Lowdash's own access, and wants a tick to go ahead."""

    STYLE = (
        "#lockout_text { background: #fde8e8; color: #8a1c1c; border: 1px solid #e08080;"
        " border-radius: 4px; padding: 6px; }"
    )

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.label.setObjectName("lockout_text")
        self.label.setStyleSheet(self.STYLE)
        self.label.setWordWrap(True)
        self.label.setAccessibleName(self.tr("Warning: this change cuts Lowdash's own access"))
        self.box = QCheckBox(self.tr("I understand: Lowdash will lose its access"), self)
        self.box.setAccessibleName(self.tr("Confirm cutting Lowdash's own access"))
        layout.addWidget(self.label)
        layout.addWidget(self.box)
        self.text: str | None = None
        self.hide()

    def set_text(self, text: str | None) -> None:
        """Show (or hide, for None) the warning; a new warning needs a new tick."""
        if text != self.text:
            self.box.setChecked(False)
        self.text = text
        self.label.setText(text or "")
        self.setVisible(text is not None)

    def problem(self) -> str | None:
        if self.text is None or self.box.isChecked():
            return None
        return _tr("This change cuts Lowdash's own access: tick “{0}” to go ahead.").format(
            self.box.text()
        )


class CallRunner(QObject):
    """Runs platform calls one at a time in the background; answers on the UI thread."""

    started = Signal()
    finished = Signal()

    def __init__(self, connection: Connection | None, parent: QObject | None = None):
        super().__init__(parent)
        self.connection = connection
        self._call: BackgroundCall | None = None

    @property
    def busy(self) -> bool:
        return self._call is not None

    def run(
        self,
        fn: Callable[[Any], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> bool:
        """Call `fn(client)` off the UI thread; False if another call is still in flight."""
        if self._call is not None or self.connection is None:
            return False
        connection = self.connection

        def work() -> Any:
            with connection.client() as client:
                return fn(client)

        call = BackgroundCall(work, self)
        self._call = call

        def finish(callback: Callable[[Any], None], value: Any) -> None:
            # the call object stays a child: deleting it could free the runnable while the
            # pool thread is still returning from it
            self._call = None
            self.finished.emit()
            callback(value)

        call.done.connect(lambda value: finish(on_done, value))
        call.error.connect(lambda exc: finish(on_error, exc))
        self.started.emit()
        call.start()
        return True


class OperationDialog(QDialog):
    """A form whose OK runs one write in the background; errors keep the form as typed."""

    succeeded = Signal(object)

    def __init__(self, connection: Connection | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.runner = CallRunner(connection, self)
        self.result_value: Any = None
        self.body = QVBoxLayout()
        self.status = OperationStatus(self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.body, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.ok_button.setAccessibleName(self.tr("Confirm"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(
            self.tr("Cancel")
        )

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    # -- for subclasses ------------------------------------------------------------------
    def validate(self) -> str | None:
        """Why the form cannot be sent as it is, or None."""
        return None

    def operation(self) -> Callable[[Any], Any]:
        """The call to make with a client."""
        raise NotImplementedError

    def progress_text(self) -> str:
        return self.tr("Sending…")

    def set_form_enabled(self, enabled: bool) -> None:
        """Lock the inputs while the write is in flight (subclasses may narrow it)."""
        for child in self.findChildren(QWidget):
            if child in (self.status, self.status.bar, self.status.label):
                continue
            if child.parent() is self:
                child.setEnabled(enabled)

    # -- flow ------------------------------------------------------------------------------
    def submit(self) -> None:
        problem = self.validate()
        if problem:
            self.status.fail(problem)
            return
        if self.runner.connection is None:
            self.status.fail(manage_reason(None, None) or "")
            return
        if self.runner.run(self.operation(), self._on_done, self._on_error):
            self.set_form_enabled(False)
            self.status.busy(self.progress_text())

    def _on_done(self, value: Any) -> None:
        self.set_form_enabled(True)
        self.status.clear()
        self.result_value = value
        self.succeeded.emit(value)
        self.accept()

    def _on_error(self, exc: BaseException) -> None:
        self.set_form_enabled(True)
        self.status.fail(error_text(exc))

    def reject(self) -> None:
        if self.runner.busy:
            return  # the write is on its way; closing now would hide its outcome
        super().reject()


class ConfirmDialog(OperationDialog):
    """Explains what will happen; optionally wants a word typed before the button unlocks."""

    def __init__(
        self,
        connection: Connection | None,
        title: str,
        text: str,
        action: str,
        fn: Callable[[Any], Any],
        require: str | None = None,
        parent: QWidget | None = None,
        *,
        danger: bool = False,
    ):
        super().__init__(connection, parent)
        self.setWindowTitle(title)
        if danger:  # Enter cancels: the harmful choice takes a deliberate click or Alt key
            self.ok_button.setAutoDefault(False)
            self.ok_button.setDefault(False)
            cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
            cancel.setDefault(True)
            cancel.setFocus()
        self._fn = fn
        self.require = require
        self.text_label = QLabel(text, self)
        self.text_label.setWordWrap(True)
        self.body.addWidget(self.text_label)
        self.typed = QLineEdit(self)
        self.typed.setAccessibleName(self.tr("Confirmation text"))
        if require is not None:
            from html import escape  # not at start-up: html loads its entity tables (3 ms)

            prompt = QLabel(self.tr("Type <b>{0}</b> to confirm:").format(escape(require)), self)
            prompt.setTextFormat(Qt.TextFormat.RichText)
            self.body.addWidget(prompt)
            self.body.addWidget(self.typed)
            self.typed.textChanged.connect(self._update_ok)
        else:
            self.typed.hide()
        self.ok_button.setText(action)
        self.ok_button.setAccessibleName(action)
        self._update_ok()
        self.resize(460, self.sizeHint().height())

    def _update_ok(self) -> None:
        self.ok_button.setEnabled(self.require is None or self.typed.text() == self.require)

    def validate(self) -> str | None:
        if self.require is not None and self.typed.text() != self.require:
            return self.tr("The text typed does not match.")
        return None

    def operation(self) -> Callable[[Any], Any]:
        return self._fn

    def progress_text(self) -> str:
        return self.tr("Working…")

    def set_form_enabled(self, enabled: bool) -> None:
        self.typed.setEnabled(enabled)
        self.buttons.setEnabled(enabled)
        if enabled:
            self._update_ok()
