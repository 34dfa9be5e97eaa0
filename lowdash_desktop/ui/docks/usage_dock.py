"""Usage today: total tokens and cost so far today, per model; click a model to filter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...store.rows import nanos_to_money
from .. import formatting, keyboard
from ..qt_types import viewport
from ..widgets.model_name_delegate import ModelNameDelegate

if TYPE_CHECKING:
    from ...store.aggregates import DashboardFigures

MODEL_ROLE = Qt.ItemDataRole.UserRole + 1
# columns given up, in this order, when the dock is too narrow for every figure whole (the
# row's tooltip still has them): a figure is never cut ("0.0017(") nor the names crushed to "…"
OPTIONAL_COLUMNS = (1, 2)  # Requests, then Tokens
MODEL_ROOM = "llama-3.1-405b"  # the model column's minimum: a name that tells variants apart


def day_mode_text(widget: QWidget, utc: bool) -> str:
    """'UTC days' or 'local days (CET)': said next to every day-based figure."""
    if utc:
        return widget.tr("UTC days")
    return widget.tr("local days, {0}").format(formatting.local_zone_name())


class UsageDock(QDockWidget):
    """Today's tokens and cost, big; a row per model below; `modelClicked` on a row click."""

    modelClicked = Signal(str)

    def __init__(self, utc_action: QAction, parent=None):
        super().__init__(self.tr("Usage today"), parent)
        self.setObjectName("dock_usage")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        top = QHBoxLayout()
        self.day_label = QLabel(self.tr("Today"), body)
        self.day_label.setAccessibleName(self.tr("Day shown"))
        self.day_label.setWordWrap(True)
        self.utc_check = QCheckBox(self.tr("UTC days"), body)
        self.utc_check.setToolTip(self.tr("Count days in UTC instead of the local time zone."))
        self.utc_check.setAccessibleName(self.tr("Use UTC days"))
        self.utc_check.setChecked(utc_action.isChecked())
        self.utc_check.toggled.connect(utc_action.setChecked)
        utc_action.toggled.connect(self.utc_check.setChecked)
        top.addWidget(self.day_label, 1)
        top.addWidget(self.utc_check)
        layout.addLayout(top)
        self.totals = QLabel("—", body)
        self.totals.setObjectName("usage_totals")
        self.totals.setAccessibleName(self.tr("Tokens and cost today"))
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.totals.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.totals.setFont(font)
        self.totals.setWordWrap(True)
        layout.addWidget(self.totals)
        self.table = QTableWidget(0, 4, body)
        self.table.setObjectName("usage_models")
        self.table.setAccessibleName(self.tr("Usage today by model; click a model to filter"))
        self.table.setHorizontalHeaderLabels(
            [self.tr("Model"), self.tr("Requests"), self.tr("Tokens"), self.tr("Cost")]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        keyboard.tab_leaves(self.table)
        # model ids share long prefixes (meta-llama/llama-3.1-…, -3.3-…)
        self.table.setItemDelegateForColumn(0, ModelNameDelegate(self.table))
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.cellClicked.connect(self._on_clicked)
        self.table.cellActivated.connect(self._on_clicked)
        viewport(self.table).installEventFilter(self)  # columns fitted again on a resize
        layout.addWidget(self.table, 1)
        self.setWidget(body)
        self._active: str | None = None

    def show_figures(self, figures: DashboardFigures) -> None:
        utc = figures.query.utc
        self.day_label.setText(
            self.tr("Today, {0} ({1})").format(formatting.local_date(figures.today),
                                               day_mode_text(self, utc))
        )
        currency = figures.currency
        # the currency once, in the header: the cost column stays narrow, the names get the room
        self.table.setHorizontalHeaderItem(3, QTableWidgetItem(
            self.tr("Cost ({0})").format(currency) if currency else self.tr("Cost")))
        self.totals.setText(self.tr("{0} tokens · {1}").format(
            formatting.tokens(figures.today_tokens),
            formatting.money(figures.today_cost, currency),
        ))
        self.table.setRowCount(len(figures.usage_today))
        for row, usage in enumerate(figures.usage_today):
            cells = [
                usage.model, f"{usage.requests:,}", formatting.tokens(usage.tokens),
                formatting.money(nanos_to_money(usage.cost_nanos), currency)
                .removesuffix(currency).rstrip("\u00a0 "),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(MODEL_ROLE, usage.model)
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                item.setToolTip(self.tr("{0}: {1} requests, {2} tokens, {3}\nShow only {0}")
                                .format(usage.model, cells[1], cells[2], formatting.money(
                                    nanos_to_money(usage.cost_nanos), currency)))
                self.table.setItem(row, column, item)
        if not figures.usage_today:
            self.table.setRowCount(1)
            item = QTableWidgetItem(self.tr("No generations yet today"))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.table.setItem(0, 0, item)
        self.set_active_model(self._active)
        self.fit_columns()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Resize and watched is viewport(self.table):
            self.fit_columns()
        return super().eventFilter(watched, event)

    def column_need(self, column: int) -> int:
        """Pixels a figure column needs to show its title and every figure whole."""
        header = self.table.horizontalHeader()
        return max(self.table.sizeHintForColumn(column), header.sectionSizeHint(column))

    def fit_columns(self) -> None:
        """Give up Requests, then Tokens, while the names and the figures do not all fit."""
        room = viewport(self.table).width()
        model = self.table.fontMetrics().horizontalAdvance(MODEL_ROOM) + 2 * 4
        for column in OPTIONAL_COLUMNS:  # a hidden section's title has no size hint
            self.table.setColumnHidden(column, False)
        shown = [1, 2, 3]
        for column in OPTIONAL_COLUMNS:
            if model + sum(self.column_need(c) for c in shown) <= room:
                break
            shown.remove(column)
        for column in (1, 2, 3):
            self.table.setColumnHidden(column, column not in shown)

    def show_loading(self) -> None:
        """Before the first sync has brought anything: say so (not "0 tokens · 0.00")."""
        self.totals.setText(self.tr("Loading…"))
        self.table.setRowCount(0)

    def set_active_model(self, model: str | None) -> None:
        """Highlight the model the window is filtered to (nothing when None)."""
        self._active = model
        self.table.blockSignals(True)
        self.table.clearSelection()
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if model is not None and item is not None and item.data(MODEL_ROLE) == model:
                self.table.selectRow(row)
        self.table.blockSignals(False)

    def model_at(self, row: int) -> str | None:
        item = self.table.item(row, 0)
        return item.data(MODEL_ROLE) if item is not None else None

    def _on_clicked(self, row: int, _column: int) -> None:
        model = self.model_at(row)
        if model:
            self.modelClicked.emit(model)
