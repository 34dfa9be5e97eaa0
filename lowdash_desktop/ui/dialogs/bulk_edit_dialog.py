"""Bulk edit of several keys: one change, a summary before sending, a result per key after."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ...api.connection import Connection
from ...api.models import Key
from ...rules.money import parse_money
from .. import formatting, keyboard
from .operation_dialog import (
    INVALID_BORDER,
    LockoutGuard,
    OperationDialog,
    error_text,
    limit_problem,
    lockout_text,
    reset_combo,
)

ACTIONS = ("disable", "enable", "set_limit", "set_scopes", "revoke")
SCOPES = ("inference", "read", "manage")
KEEP = "keep"  # the reset choice that leaves each key's own period


class BulkEditDialog(OperationDialog):
    """Applies one change to every selected key, then lists what happened to each."""

    applied = Signal(list)  # [(key_id, Key | "revoked" | None, message)]

    def __init__(
        self,
        connection: Connection | None,
        keys: list[Key],
        currency: str = "",
        own_prefix: str | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(connection, parent)
        self.keys = list(keys)
        self.currency = currency
        self.own_prefix = own_prefix
        self.results: list[tuple[str, Any, str]] = []
        self.setWindowTitle(self.tr("Bulk edit {0} keys").format(len(keys)))
        form = QFormLayout()
        self.action = QComboBox(self)
        self.action.setAccessibleName(self.tr("Change to apply"))
        for action, text in zip(
            ACTIONS,
            (
                self.tr("Disable"),
                self.tr("Enable"),
                self.tr("Set credit limit"),
                self.tr("Change scopes"),
                self.tr("Revoke"),
            ),
            strict=True,
        ):
            self.action.addItem(text, action)
        # nothing chosen at first: Disable (or anything else) is picked, never assumed
        self.action.setPlaceholderText(self.tr("Choose a change…"))
        self.action.setCurrentIndex(-1)
        form.addRow(self.tr("Change"), self.action)
        self.options = QStackedWidget(self)
        self.options.addWidget(QWidget(self))  # disable / enable / revoke need nothing more
        limit_page = QWidget(self)
        limit_row = QHBoxLayout(limit_page)
        limit_row.setContentsMargins(0, 0, 0, 0)
        # nothing is chosen until the user types a limit or ticks "No limit" (an empty field
        # meaning "remove every limit" took the keys' limits away by default)
        self.limit = QLineEdit(limit_page)
        self.limit.setPlaceholderText(self.tr("e.g. 25.00"))
        self.limit.setAccessibleName(self.tr("New credit limit"))
        self.no_limit = QCheckBox(self.tr("No limit"), limit_page)
        self.no_limit.setAccessibleName(self.tr("Remove the credit limit"))
        self.no_limit.toggled.connect(lambda on: self.limit.setEnabled(not on))
        self.reset = reset_combo(limit_page, self.tr("New limit reset period"))
        self.reset.addItem(self.tr("as each key has it"), KEEP)
        self.reset.setCurrentIndex(self.reset.count() - 1)
        limit_row.addWidget(QLabel(self.tr("Limit"), limit_page))
        limit_row.addWidget(self.limit, 1)
        limit_row.addWidget(self.no_limit)
        limit_row.addWidget(QLabel(self.tr("resets"), limit_page))
        limit_row.addWidget(self.reset)
        self.options.addWidget(limit_page)
        # each scope starts half-ticked, "as each key has it"; ticked adds it to every key,
        # unticked removes it (ticking inference alone stripped read and manage from all)
        scope_page = QWidget(self)
        scope_row = QHBoxLayout(scope_page)
        scope_row.setContentsMargins(0, 0, 0, 0)
        self.scope_boxes: dict[str, QCheckBox] = {}
        for scope in SCOPES:
            box = QCheckBox(scope, scope_page)
            box.setTristate(True)
            box.setCheckState(Qt.CheckState.PartiallyChecked)
            box.setAccessibleName(self.tr("Scope {0}: keep, add or remove").format(scope))
            box.setToolTip(self.tr("Half-ticked: as each key has it; ticked: add; empty: remove."))
            box.stateChanged.connect(lambda _s: self._update_summary())
            self.scope_boxes[scope] = box
            scope_row.addWidget(box)
        scope_row.addWidget(QLabel(self.tr("(half-ticked: unchanged)"), scope_page))
        scope_row.addStretch(1)
        self.options.addWidget(scope_page)
        form.addRow(self.tr("Options"), self.options)
        self.confirm = QLineEdit(self)
        self.confirm.setAccessibleName(self.tr("Type the confirmation to revoke"))
        self.confirm_label = QLabel(self)
        form.addRow(self.confirm_label, self.confirm)
        self.body.addLayout(form)
        self.summary_title = QLabel(self.tr("<b>What will change</b>"), self)
        self.body.addWidget(self.summary_title)
        self.summary = QPlainTextEdit(self)
        self.summary.setReadOnly(True)
        self.summary.setAccessibleName(self.tr("Summary of the changes"))
        self.body.addWidget(self.summary, 1)
        self.result_table = QTableWidget(0, 2, self)
        self.result_table.setHorizontalHeaderLabels([self.tr("Key"), self.tr("Result")])
        self.result_table.setAccessibleName(self.tr("Result for each key"))
        self.result_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.result_table.horizontalHeader().resizeSection(0, 180)
        self.result_table.verticalHeader().hide()
        keyboard.tab_leaves(self.result_table)
        self.result_table.hide()
        self.body.addWidget(self.result_table, 1)
        self.guard = LockoutGuard(self)
        self.guard.box.toggled.connect(self._update_summary)
        self.body.addWidget(self.guard)
        self.action.currentIndexChanged.connect(self._action_changed)
        self.limit.textChanged.connect(self._update_summary)
        self.no_limit.toggled.connect(self._update_summary)
        self.reset.currentIndexChanged.connect(self._update_summary)
        self.confirm.textChanged.connect(self._update_summary)
        self.ok_button.setText(self.tr("Apply"))
        self._action_changed()
        self.resize(640, 480)

    # -- the change ------------------------------------------------------------------------
    @property
    def current_action(self) -> str:
        return self.action.currentData()

    def set_action(self, action: str) -> None:
        self.action.setCurrentIndex(ACTIONS.index(action))

    @property
    def revoke_phrase(self) -> str:
        return self.tr("revoke {0} keys").format(len(self.keys))

    def _action_changed(self) -> None:
        action = self.current_action
        page = {"set_limit": 1, "set_scopes": 2}.get(action, 0)
        self.options.setCurrentIndex(page)
        self.options.setVisible(page != 0)
        revoke = action == "revoke"
        self.confirm_label.setText(
            self.tr("Type “{0}” to confirm").format(self.revoke_phrase) if revoke else ""
        )
        self.confirm.setVisible(revoke)
        self.confirm_label.setVisible(revoke)
        self.reset.setEnabled(True)
        self._update_summary()

    def _money(self, value: Decimal | None, reset: str | None) -> str:
        if value is None:
            return self.tr("no limit")
        text = formatting.money(value, self.currency, places=2)
        return f"{text} {reset}" if reset else text

    def change_for(self, key: Key) -> tuple[dict[str, Any] | None, str]:
        """The PATCH fields for one key (None: no change, or revoke) and a line describing it."""
        action = self.current_action
        if action is None:
            return None, self.tr("no change chosen yet")
        if action in ("disable", "enable"):
            disabled = action == "disable"
            if key.disabled == disabled:
                return None, self.tr("already {0} — skipped").format(
                    self.tr("disabled") if disabled else self.tr("enabled")
                )
            return {"disabled": disabled}, (
                self.tr("enabled → disabled") if disabled else self.tr("disabled → enabled")
            )
        if action == "set_limit":
            if self.no_limit.isChecked():
                limit = None
            elif not self.limit.text().strip():
                return None, self.tr("unchanged (type a limit, or tick “No limit”)")
            elif limit_problem(self.limit.text()):  # never shown as if it would be applied
                return None, self.tr("unchanged (the limit typed cannot be used)")
            else:
                limit = parse_money(self.limit.text())
            chosen = self.reset.currentData()
            reset = key.limit_reset if chosen == KEEP else chosen
            reset = reset if limit is not None else None
            if key.credit_limit == limit and key.limit_reset == reset:
                return None, self.tr("limit unchanged — skipped")
            before = self._money(key.credit_limit, key.limit_reset)
            after = self._money(limit, reset)
            return {"credit_limit": limit, "limit_reset": reset}, f"{before} → {after}"
        if action == "set_scopes":
            scopes = self.scopes_for(key)
            if sorted(scopes) == sorted(key.scopes):
                return None, self.tr("scopes unchanged — skipped")
            before = ", ".join(key.scopes) or "—"
            return {"scopes": scopes}, f"{before} → {', '.join(scopes) or '—'}"
        return None, self.tr("revoked (permanent)")

    def scopes_for(self, key: Key) -> list[str]:
        """The key's scopes after the change: ticked added, unticked removed, others kept."""
        state = {s: box.checkState() for s, box in self.scope_boxes.items()}
        return [
            s for s in SCOPES
            if state[s] == Qt.CheckState.Checked
            or (state[s] == Qt.CheckState.PartiallyChecked and s in key.scopes)
        ]

    def _update_summary(self) -> None:
        lines = []
        for key in self.keys:
            _fields, text = self.change_for(key)
            mine = (
                self.tr(" [Lowdash signs in with this key]")
                if (self.own_prefix and key.prefix == self.own_prefix)
                else ""
            )
            lines.append(f"• {key.name} ({key.prefix}…): {text}{mine}")
        self.summary.setPlainText("\n".join(lines))
        typed = "" if self.no_limit.isChecked() else self.limit.text()
        limit_wrong = limit_problem(typed) if typed.strip() else None
        self.limit.setStyleSheet(INVALID_BORDER if limit_wrong else "")  # marked where typed
        self.limit.setToolTip(limit_wrong or "")
        self.guard.set_text(self.lockout())
        problem = self._problem()
        if problem and self.current_action not in ("revoke", None):  # None: said on Apply
            self.status.fail(problem)
        elif not self.runner.busy:
            self.status.clear()

    def own_key(self) -> Key | None:
        """The selected key Lowdash itself signs in with, if it is among them."""
        if not self.own_prefix:
            return None
        return next((k for k in self.keys if k.prefix == self.own_prefix), None)

    def lockout(self) -> str | None:
        """How this change would cut Lowdash's own access, in words (None: it would not)."""
        key = self.own_key()
        if key is None:
            return None
        if self.current_action == "revoke":
            return lockout_text(key, None, revoke=True)
        try:
            fields = self.change_for(key)[0]
        except ValueError:
            return None
        return lockout_text(key, fields)

    def _problem(self) -> str | None:
        action = self.current_action
        if action is None:
            return self.tr("Choose the change to apply.")
        if action == "set_limit" and not self.no_limit.isChecked():
            if not self.limit.text().strip():
                return self.tr("Type the new credit limit, or tick “No limit”.")
            problem = limit_problem(self.limit.text())
            if problem:  # here an empty field changes nothing: "No limit" is the tick
                return problem.replace(
                    self.tr("leave it empty for no limit"), self.tr("tick “No limit” for none"))
        if action == "set_scopes" and any(not self.scopes_for(k) for k in self.keys):
            return self.tr("Every key needs at least one scope.")
        if action == "revoke" and self.confirm.text().strip() != self.revoke_phrase:
            return self.tr("Type “{0}” to confirm revoking.").format(self.revoke_phrase)
        if action != "revoke" and all(self.change_for(k)[0] is None for k in self.keys):
            return self.tr("Nothing would change.")
        return self.guard.problem()

    def validate(self) -> str | None:
        return self._problem()

    def operation(self) -> Callable[[Any], Any]:
        revoke = self.current_action == "revoke"
        plan = [(key, None if revoke else self.change_for(key)[0]) for key in self.keys]

        def apply(client) -> list[tuple[Key, Any]]:
            outcomes: list[tuple[Key, Any]] = []
            for key, fields in plan:
                try:
                    if revoke:
                        client.revoke_key(key.id)
                        outcomes.append((key, "revoked"))
                    elif fields is None:
                        outcomes.append((key, "skipped"))
                    else:
                        outcomes.append((key, client.update_key(key.id, **fields)))
                except Exception as exc:  # one key's failure must not stop the others
                    outcomes.append((key, exc))
            return outcomes

        return apply

    def progress_text(self) -> str:
        return self.tr("Applying to {0} keys…").format(len(self.keys))

    def set_form_enabled(self, enabled: bool) -> None:
        for widget in (self.action, self.options, self.confirm, self.buttons, self.guard):
            widget.setEnabled(enabled)

    def _on_done(self, outcomes: list[tuple[Key, Any]]) -> None:
        """Stay open and show one line per key; tell the keys window what changed."""
        self.set_form_enabled(True)
        self.result_table.setRowCount(len(outcomes))
        results: list[tuple[str, Any, str]] = []
        failures = 0
        for row, (key, outcome) in enumerate(outcomes):
            if isinstance(outcome, Exception):
                failures += 1
                message, colour = error_text(outcome), "#b71c1c"
                results.append((key.id, None, message))
            elif outcome == "skipped":
                message, colour = self.tr("No change needed"), "#555555"
                results.append((key.id, None, message))
            elif outcome == "revoked":
                message, colour = self.tr("Revoked"), "#1b5e20"
                results.append((key.id, "revoked", message))
            else:
                message, colour = self.tr("Updated"), "#1b5e20"
                results.append((key.id, outcome, message))
            self.result_table.setItem(row, 0, QTableWidgetItem(key.name))
            item = QTableWidgetItem(message)
            item.setForeground(QBrush(QColor(colour)))
            item.setToolTip(message)
            self.result_table.setItem(row, 1, item)
        self.results = results
        self.summary_title.setText(self.tr("<b>Result</b>"))
        self.summary.hide()
        self.result_table.show()
        self.action.setEnabled(False)
        self.options.setEnabled(False)
        self.confirm.setEnabled(False)
        self.guard.hide()
        self.ok_button.hide()
        cancel = self.buttons.button(self.buttons.StandardButton.Cancel)
        cancel.setText(self.tr("Close"))
        if failures:
            self.status.fail(
                self.tr("{0} of {1} keys failed; the others were applied.").format(
                    failures, len(outcomes)
                )
            )
        else:
            self.status.done(self.tr("Done: {0} keys.").format(len(outcomes)))
        self.applied.emit(results)
        self.succeeded.emit(results)
