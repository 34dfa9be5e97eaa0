"""A read-only list as a table: whole-row single selection, columns sized to their contents."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QWidget

from ..keyboard import tab_leaves


def list_table(parent: QWidget, headers: list[str], accessible_name: str) -> QTableWidget:
    """An empty read-only table with `headers`, for lists of receipts, invoices and the like."""
    table = QTableWidget(0, len(headers), parent)
    table.setAccessibleName(accessible_name)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    tab_leaves(table)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table
