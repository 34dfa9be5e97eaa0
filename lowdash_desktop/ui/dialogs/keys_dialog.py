"""The Keys window: list the account's API keys, create, edit, rotate, enable/disable, revoke."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDateTime, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...api.connection import API_KEY_ENV, Connection
from ...api.models import Key, KeyWithSecret
from ...rules.money import parse_money
from ...rules.permissions import current_key
from ...session.answers import CachedAnswers
from ..keyboard import tab_leaves
from ..models.keys_table_model import KeyRole, KeysTableModel, SortRole, key_status
from .key_secret_dialog import KeySecretDialog
from .operation_dialog import (
    RESETS,
    CallRunner,
    ConfirmDialog,
    LockoutGuard,
    OperationDialog,
    OperationStatus,
    error_text,
    limit_problem,
    lockout_text,
    manage_reason,
    reset_combo,
)

SCOPES = ("inference", "read", "manage")


class KeyFormDialog(OperationDialog):
    """Create a key (name, scopes, limit, reset, expiry) or edit one (PATCH of what changed)."""

    def __init__(
        self,
        connection: Connection | None,
        key: Key | None = None,
        parent=None,
        *,
        own: bool = False,
        currency: str = "",
    ):
        super().__init__(connection, parent)
        self.key = key
        self.own = own and key is not None  # the key Lowdash itself signs in with
        self.setWindowTitle(
            self.tr("Edit key “{0}”").format(key.name) if key else self.tr("New API key")
        )
        form = QFormLayout()
        self.name = QLineEdit(key.name if key else "", self)
        self.name.setMaxLength(100)
        self.name.setAccessibleName(self.tr("Key name"))
        form.addRow(self.tr("Name"), self.name)
        scope_row = QHBoxLayout()
        self.scope_boxes: dict[str, QCheckBox] = {}
        labels = {
            "inference": self.tr("inference (call models)"),
            "read": self.tr("read (dashboards, exports)"),
            "manage": self.tr("manage (keys, routing, settings)"),
        }
        for scope in SCOPES:
            box = QCheckBox(labels[scope], self)
            box.setAccessibleName(self.tr("Scope {0}").format(scope))
            box.setChecked(scope in key.scopes if key else scope == "inference")
            self.scope_boxes[scope] = box
            scope_row.addWidget(box)
        form.addRow(self.tr("Scopes"), scope_row)
        self.limit = QLineEdit(self)
        self.limit.setPlaceholderText(self.tr("No limit"))
        self.limit.setAccessibleName(self.tr("Credit limit"))
        if key and key.credit_limit is not None:
            self.limit.setText(str(key.credit_limit))
        if currency:  # the limit is in the account's currency: say which, beside the field
            holder = QWidget(self)
            row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(self.limit, 1)
            unit = QLabel(currency, holder)
            unit.setObjectName("currency_unit")
            row.addWidget(unit)
            self.limit.setAccessibleDescription(self.tr("In {0}.").format(currency))
            form.addRow(self.tr("Credit limit"), holder)
        else:
            form.addRow(self.tr("Credit limit"), self.limit)
        self.reset = reset_combo(self, self.tr("Limit reset period"))
        if key:
            self.reset.setCurrentIndex(RESETS.index(key.limit_reset))
        form.addRow(self.tr("Limit resets"), self.reset)
        expiry_row = QHBoxLayout()
        self.expires = QCheckBox(self.tr("Expires on"), self)
        self.expires.setAccessibleName(self.tr("The key expires"))
        self.expiry = QDateTimeEdit(self)
        self.expiry.setCalendarPopup(True)
        self.expiry.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.expiry.setAccessibleName(self.tr("Expiry date and time (local)"))
        start = key.expires_at if key and key.expires_at else datetime.now(UTC) + timedelta(days=90)
        self.expiry.setDateTime(QDateTime.fromSecsSinceEpoch(int(start.timestamp())))
        self.expires.setChecked(bool(key and key.expires_at))
        expiry_row.addWidget(self.expires)
        expiry_row.addWidget(self.expiry, 1)
        form.addRow(self.tr("Expiry"), expiry_row)
        if key is not None:
            # the platform cannot change an expiry after creation (PATCH has no such field)
            self.expires.setEnabled(False)
            self.expiry.setEnabled(False)
            self.expires.setToolTip(self.tr("An expiry is set when a key is created."))
        self.body.addLayout(form)
        self.guard = LockoutGuard(self)
        self.body.addWidget(self.guard)
        self.limit.textChanged.connect(self._update_guard)
        self.limit.textChanged.connect(self._check_limit)
        self.name.textChanged.connect(self._name_typed)
        for box in self.scope_boxes.values():
            box.toggled.connect(self._update_guard)
        self.ok_button.setText(self.tr("Save") if key else self.tr("Create key"))
        self.resize(560, self.sizeHint().height())

    def _name_typed(self, text: str) -> None:
        """'Give the key a name.' goes once a name is typed (it stayed until the next Save)."""
        if text.strip() and self.status.label.text() == self.tr("Give the key a name."):
            self.status.clear()
            self._check_limit()  # a limit problem, if any, is still said

    def _check_limit(self) -> None:
        """Explain a credit limit that cannot be used as it is typed, not only on Save."""
        problem = limit_problem(self.limit.text())
        self.limit.setToolTip(problem or "")
        self.limit.setStyleSheet("border: 1px solid #b71c1c;" if problem else "")
        if problem:
            self.status.fail(problem)
        elif not self.runner.busy:
            self.status.clear()

    def _update_guard(self) -> None:
        """Warn as soon as the form, as typed, would cut Lowdash's own access."""
        if not self.own or self.key is None:
            return
        try:
            changes = self.changes()
        except ValueError:  # an unreadable limit: validate() explains it
            changes = {k: v for k, v in [("scopes", self.scopes())] if v != self.key.scopes}
        self.guard.set_text(lockout_text(self.key, changes))

    def set_form_enabled(self, enabled: bool) -> None:
        for widget in (self.name, self.limit, self.reset, self.buttons, self.guard,
                       *self.scope_boxes.values()):
            widget.setEnabled(enabled)
        if self.key is None:
            self.expires.setEnabled(enabled)
            self.expiry.setEnabled(enabled)

    def scopes(self) -> list[str]:
        return [s for s, box in self.scope_boxes.items() if box.isChecked()]

    def fields(self) -> dict[str, Any]:
        """The form as request fields (assumes validate() passed)."""
        limit = parse_money(self.limit.text())
        fields: dict[str, Any] = {
            "name": self.name.text().strip(),
            "scopes": self.scopes(),
            "credit_limit": limit,
            "limit_reset": self.reset.currentData() if limit is not None else None,
        }
        if self.key is None and self.expires.isChecked():
            moment = self.expiry.dateTime().toSecsSinceEpoch()
            fields["expires_at"] = datetime.fromtimestamp(moment, UTC)
        return fields

    def changes(self) -> dict[str, Any]:
        """For an edit, only the fields that differ from the key."""
        fields = self.fields()
        if self.key is None:
            return {k: v for k, v in fields.items() if v is not None}
        return {k: v for k, v in fields.items() if getattr(self.key, k) != v}

    def validate(self) -> str | None:
        if not self.name.text().strip():
            return self.tr("Give the key a name.")
        if not self.scopes():
            return self.tr("Choose at least one scope.")
        problem = limit_problem(self.limit.text())
        if problem:
            return problem
        if self.key is None and self.expires.isChecked():
            if self.expiry.dateTime().toSecsSinceEpoch() <= datetime.now(UTC).timestamp():
                return self.tr("The expiry must be in the future.")
        if self.key is not None and not self.changes():
            return self.tr("Nothing has changed.")
        self._update_guard()
        return self.guard.problem()

    def submit(self) -> None:
        super().submit()
        field = self._problem_field()
        if field is not None:  # typing goes where the problem is ("Give the key a name.")
            field.setFocus(Qt.FocusReason.OtherFocusReason)

    def _problem_field(self) -> QWidget | None:
        """The field the problem validate() found is about (None: no field, or none)."""
        if self.runner.busy:
            return None
        if not self.name.text().strip():
            return self.name
        if not self.scopes():
            return next(iter(self.scope_boxes.values()))
        if limit_problem(self.limit.text()):
            return self.limit
        if self.key is None and self.expires.isChecked() and (
                self.expiry.dateTime().toSecsSinceEpoch() <= datetime.now(UTC).timestamp()):
            return self.expiry
        return None

    def operation(self) -> Callable[[Any], Any]:
        if self.key is None:
            fields = self.changes()
            return lambda client: client.create_key(**fields)
        key_id, changes = self.key.id, self.changes()
        return lambda client: client.update_key(key_id, **changes)

    def progress_text(self) -> str:
        return self.tr("Creating the key…") if self.key is None else self.tr("Saving…")


class KeysDialog(QDialog):
    """A window listing the keys, with every key operation; changes need the 'manage' scope."""

    keysChanged = Signal()
    ownKeyRotated = Signal(str)  # the new secret of the key this app signs in with

    def __init__(
        self,
        connection: Connection | None,
        answers: CachedAnswers | None = None,  # the account's session: its cached answers
        currency: str = "",
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("keys_dialog")
        self.setWindowTitle(self.tr("API keys"))
        self.connection = connection
        self.runner = CallRunner(connection, self)
        self.child: QDialog | None = None  # the form / confirmation / secret shown last
        self.reason: str | None = None
        self.model = KeysTableModel(self)
        self.model.currency = currency
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self._build()
        if answers is not None:
            self._show_cached(answers)
        self._update_actions()
        self.resize(1240, 460)

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setObjectName("manage_note")
        self.note.setStyleSheet(
            "#manage_note { background: #fff4d6; color: #7a4b00; border: 1px solid #e0b050;"
            " border-radius: 4px; padding: 6px; }"
        )
        self.note.hide()
        layout.addWidget(self.note)
        bar = QHBoxLayout()

        def button(text: str, name: str, slot: Callable[[], Any]) -> QPushButton:
            btn = QPushButton(text, self)
            btn.setAccessibleName(name)
            btn.clicked.connect(lambda _=False: slot())
            bar.addWidget(btn)
            return btn

        self.new_button = button(self.tr("New key…"), self.tr("Create a new key"), self.new_key)
        self.edit_button = button(
            self.tr("Edit…"), self.tr("Edit the selected key"), self.edit_selected
        )
        self.toggle_button = button(
            self.tr("Disable"), self.tr("Disable or enable the key"), self.toggle_selected
        )
        self.rotate_button = button(
            self.tr("Rotate…"), self.tr("Rotate the selected key"), self.rotate_selected
        )
        self.revoke_button = button(
            self.tr("Revoke…"), self.tr("Revoke the selected key"), self.revoke_selected
        )
        self.bulk_button = button(
            self.tr("Bulk edit…"), self.tr("Edit the selected keys"), self.bulk_edit
        )
        bar.addStretch(1)
        self.refresh_button = button(self.tr("Refresh"), self.tr("Reload the keys"), self.refresh)
        layout.addLayout(bar)
        self.table = QTableView(self)
        self.table.setObjectName("keys_table")
        self.table.setAccessibleName(self.tr("API keys"))
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        tab_leaves(self.table)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((190, 110, 160, 75, 95, 70, 95, 85, 95, 140, 120)):
            header.resizeSection(column, width)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        layout.addWidget(self.table, 1)
        self.status = OperationStatus(self)
        layout.addWidget(self.status)
        self.manage_buttons = (
            self.new_button,
            self.edit_button,
            self.toggle_button,
            self.rotate_button,
            self.revoke_button,
            self.bulk_button,
        )

    def _show_cached(self, answers: CachedAnswers) -> None:
        keys = answers.keys()
        if keys is not None:
            self._set_keys(keys)
        if not self.model.currency:
            self.model.currency = answers.currency()

    # -- state -----------------------------------------------------------------------------
    def _set_keys(self, keys: list[Key]) -> None:
        api_key = self.connection.api_key if self.connection else None
        mine = current_key(keys, api_key) if api_key else None
        self.model.current_prefix = mine.prefix if mine else None
        self.model.set_keys(keys)
        self.table.resizeColumnsToContents()
        self.set_manage_reason(manage_reason(keys, api_key))

    def set_manage_reason(self, reason: str | None) -> None:
        """Disable the manage actions and say why (None enables them)."""
        self.reason = reason
        self.note.setText(reason or "")
        self.note.setVisible(bool(reason))
        self._update_actions()

    def selected_keys(self) -> list[Key]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.proxy.index(r, 0).data(KeyRole) for r in rows]

    def select_keys(self, key_ids: list[str]) -> None:
        """Select rows by key id (for keyboard-free flows and tests)."""
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        for key_id in key_ids:
            row = self.model.row_of(key_id)
            if row >= 0:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                selection.select(index, index)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.selectionModel().select(selection, flags)

    def _update_actions(self) -> None:
        selected = self.selected_keys()
        busy = self.runner.busy
        allowed = self.reason is None and self.connection is not None and not busy
        one = len(selected) == 1
        self.new_button.setEnabled(allowed)
        self.edit_button.setEnabled(allowed and one)
        self.rotate_button.setEnabled(allowed and one)
        self.revoke_button.setEnabled(allowed and one)
        self.toggle_button.setEnabled(allowed and one)
        self.bulk_button.setEnabled(allowed and len(selected) >= 1)
        self.refresh_button.setEnabled(self.connection is not None and not busy)
        if one and selected[0].disabled:
            self.toggle_button.setText(self.tr("Enable"))
        else:
            self.toggle_button.setText(self.tr("Disable"))
        for btn in self.manage_buttons:
            btn.setToolTip(self.reason or "")

    def _own(self, key: Key) -> bool:
        return self.model.current_prefix is not None and key.prefix == self.model.current_prefix

    def _key_from_environment(self) -> bool:
        """Lowdash's key comes from LOWDASH_API_KEY, which it cannot update after a rotation."""
        import os

        env = os.environ.get(API_KEY_ENV)
        return bool(env) and self.connection is not None and env == self.connection.api_key

    # -- reading -----------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Reload the keys from the platform (off the UI thread)."""
        started = self.runner.run(lambda c: c.keys(), self._loaded, self._load_failed)
        if started:
            self.status.busy(self.tr("Loading keys…"))
            self._update_actions()
        return started

    def _loaded(self, keys: list[Key]) -> None:
        self._set_keys(keys)
        self.status.done(self.tr("{0} keys").format(len(keys)))

    def _load_failed(self, exc: BaseException) -> None:
        from ...api import errors

        if isinstance(exc, errors.ScopeError):
            self.set_manage_reason(
                self.tr("This API key may not read or change keys: {0}").format(exc.message)
            )
        elif isinstance(exc, errors.AuthError):
            self._key_refused(exc)
        self.status.fail(error_text(exc))
        self._update_actions()

    def _key_refused(self, exc: BaseException) -> None:
        """The platform refused this app's own key: the list is the last cached one (its
        statuses may be out of date) and nothing that needs the key can work."""
        message = str(getattr(exc, "message", "") or "").rstrip()
        if message and message[-1] not in ".!?…":
            message += "."
        self.set_manage_reason(self.tr(
            "Shown as last cached; the platform refused this app's key: {0} Statuses may be "
            "out of date, and changes are disabled: sign in with another key (“Sign in with "
            "another key…” in the main window's banner) to make them."
        ).format(message or self.tr("no reason given.")))

    # -- operations ------------------------------------------------------------------------------
    def _open(self, dialog: QDialog) -> QDialog:
        if self.child is not None:
            self.child.close()
        self.child = dialog
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()
        return dialog

    def new_key(self) -> KeyFormDialog:
        form = KeyFormDialog(self.connection, None, self, currency=self.model.currency)
        form.succeeded.connect(lambda made: self._show_secret(made, rotated=False))
        return self._open(form)  # type: ignore[return-value]

    def edit_selected(self) -> KeyFormDialog | None:
        keys = self.selected_keys()
        if len(keys) != 1 or not self.edit_button.isEnabled():
            return None
        form = KeyFormDialog(
            self.connection, keys[0], self, own=self._own(keys[0]), currency=self.model.currency
        )
        form.succeeded.connect(self._key_updated)
        return self._open(form)  # type: ignore[return-value]

    def _key_updated(self, key: Key) -> None:
        self.model.replace_key(key)
        self.status.done(self.tr("Saved “{0}”.").format(key.name))
        self.keysChanged.emit()
        self._update_actions()

    def _show_secret(self, made: KeyWithSecret, rotated: bool) -> None:
        self.model.replace_key(made.key)
        own = rotated and self._rotating_own_id == made.key.id
        text = self.tr("Rotated “{0}”.") if rotated else self.tr("Created “{0}”.")
        self.status.done(text.format(made.key.name))
        self.keysChanged.emit()
        self._update_actions()
        if own and self.connection is not None:
            # the old secret stopped working: this window's next calls use the new one
            import dataclasses

            self.connection = dataclasses.replace(self.connection, api_key=made.secret)
            self.runner.connection = self.connection
            self.ownKeyRotated.emit(made.secret)
        self._open(KeySecretDialog(made, rotated=rotated, own_key=own, parent=self))

    _rotating_own_id: str | None = None

    def toggle_selected(self) -> bool:
        keys = self.selected_keys()
        if len(keys) != 1 or not self.toggle_button.isEnabled():
            return False
        key = keys[0]
        disable = not key.disabled
        warning = lockout_text(key, {"disabled": True}) if disable and self._own(key) else None
        if warning is not None:
            # the one click that would lock the app out asks first, in words
            confirm = ConfirmDialog(
                self.connection,
                self.tr("Disable the key Lowdash uses"),
                warning,
                self.tr("Disable and lose access"),
                lambda c: c.update_key(key.id, disabled=True),
                parent=self,
                danger=True,
            )
            confirm.succeeded.connect(self._toggled)
            self._open(confirm)
            return False
        started = self.runner.run(
            lambda c: c.update_key(key.id, disabled=disable), self._toggled, self._write_failed
        )
        if started:
            verb = self.tr("Disabling “{0}”…") if disable else self.tr("Enabling “{0}”…")
            self.status.busy(verb.format(key.name))
            self._update_actions()
        return started

    def _toggled(self, key: Key) -> None:
        self.model.replace_key(key)
        text = self.tr("Disabled “{0}”.") if key.disabled else self.tr("Enabled “{0}”.")
        self.status.done(text.format(key.name))
        self.keysChanged.emit()
        self._update_actions()

    def _write_failed(self, exc: BaseException) -> None:
        from ...api import errors

        if isinstance(exc, errors.AuthError):
            self._key_refused(exc)
        self.status.fail(error_text(exc))
        self._update_actions()

    def rotate_selected(self) -> ConfirmDialog | None:
        keys = self.selected_keys()
        if len(keys) != 1 or not self.rotate_button.isEnabled():
            return None
        key = keys[0]
        text = self.tr(
            "Rotating “{0}” ({1}…) issues a new secret and the current one stops working at once."
            " Every program using it must be given the new secret."
        ).format(key.name, key.prefix)
        own = self._own(key)
        if own and self._key_from_environment():
            text += " " + self.tr(
                "Lowdash itself signs in with this key, read from LOWDASH_API_KEY: it switches "
                "to the new secret for this session only, and the next start is refused until "
                "you put the new secret in LOWDASH_API_KEY."
            )
        elif own:
            text += " " + self.tr(
                "Lowdash itself signs in with this key: it switches to the new secret at once "
                "and keeps it where it kept the old one."
            )
        self._rotating_own_id = key.id if own else None
        confirm = ConfirmDialog(
            self.connection,
            self.tr("Rotate key"),
            text,
            self.tr("Rotate"),
            lambda c: c.rotate_key(key.id),
            parent=self,
            danger=True,  # the current secret stops working: Enter cancels, as for Disable
        )
        confirm.succeeded.connect(lambda made: self._show_secret(made, rotated=True))
        return self._open(confirm)  # type: ignore[return-value]

    def revoke_selected(self) -> ConfirmDialog | None:
        keys = self.selected_keys()
        if len(keys) != 1 or not self.revoke_button.isEnabled():
            return None
        key = keys[0]
        text = self.tr(
            "Revoking “{0}” ({1}…) is permanent: the key stops working at once and cannot be "
            "restored. Its past generations keep their key id."
        ).format(key.name, key.prefix)
        warning = lockout_text(key, None, revoke=True) if self._own(key) else None
        if warning is not None:
            text += " " + warning
        confirm = ConfirmDialog(
            self.connection,
            self.tr("Revoke key"),
            text,
            self.tr("Revoke"),
            lambda c: c.revoke_key(key.id),
            require=key.name,
            parent=self,
        )
        confirm.succeeded.connect(lambda _v: self._revoked(key))
        return self._open(confirm)  # type: ignore[return-value]

    def _revoked(self, key: Key) -> None:
        self.model.remove_key(key.id)
        self.status.done(self.tr("Revoked “{0}”.").format(key.name))
        self.keysChanged.emit()
        self._update_actions()

    def bulk_edit(self):
        from .bulk_edit_dialog import BulkEditDialog

        keys = self.selected_keys()
        if not keys or not self.bulk_button.isEnabled():
            return None
        dialog = BulkEditDialog(
            self.connection,
            keys,
            self.model.currency,
            own_prefix=self.model.current_prefix,
            parent=self,
        )
        dialog.applied.connect(self._bulk_applied)
        return self._open(dialog)

    def _bulk_applied(self, results: list) -> None:
        for key_id, outcome, _message in results:
            if outcome == "revoked":
                self.model.remove_key(key_id)
            elif isinstance(outcome, Key):
                self.model.replace_key(outcome)
        self.keysChanged.emit()
        self._update_actions()

    def status_of(self, key_id: str) -> str:
        """'active', 'disabled' or 'expired' as shown (for tests and accessibility)."""
        row = self.model.row_of(key_id)
        return key_status(self.model.keys[row]) if row >= 0 else ""

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if self.child is not None and self.child.isVisible():
            self.child.close()
        super().closeEvent(event)
