"""The history table: a lazy model over the SQLite cache, sorted and filtered in SQL."""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from ...eco import wording
from ...store import queries
from ...store.queries import HistoryFilter
from .. import formatting
from ..key_labels import KeyLabels

PAGE_SIZE = 256
MAX_PAGES = 64

# (key in queries.SORT_KEYS, index in queries.ROW_COLUMNS, header, right-aligned)
COLUMNS: list[tuple[str, int, str, bool]] = [
    ("created_at", 1, "Time", False),
    ("model", 2, "Model", False),
    ("provider", 3, "Provider", False),
    ("region", 4, "Region", False),
    ("key_id", 5, "Key", False),
    ("prompt_tokens", 6, "Prompt tok.", True),
    ("completion_tokens", 7, "Completion tok.", True),
    ("total_tokens", 8, "Total tok.", True),
    ("cost", 9, "Cost", True),
    ("carbon_g", 11, "Carbon (g CO₂e)", True),
]

ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
# plain ints: data() is called once per role per visible cell, so it must answer cheaply
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_ID = int(ID_ROLE)
_SORT = int(SORT_ROLE)
_ROLES = frozenset({_DISPLAY, _ALIGN, _TOOLTIP, _ID, _SORT})
_HEADER_ROLES = frozenset({_DISPLAY, _ALIGN, _TOOLTIP})
_HORIZONTAL = Qt.Orientation.Horizontal
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
KEY_COLUMN = next(i for i, c in enumerate(COLUMNS) if c[0] == "key_id")


class TransactionTableModel(QAbstractTableModel):
    """Reads windows of rows on demand; never holds the whole history in Python."""

    countChanged = Signal(int)

    def __init__(self, conn: sqlite3.Connection, parent=None, *, count: int | None = None):
        """`count`: the number of rows, if already known (counted ahead at start-up)."""
        super().__init__(parent)
        self._conn = conn
        self._filter = HistoryFilter()
        self._sort_key = "created_at"
        self._descending = True
        self._count = 0
        self._pages: OrderedDict[int, list[tuple]] = OrderedDict()
        self._zone = formatting.local_zone_name()
        self._titles: list[str] | None = None  # the column titles, made on first use
        self._keys = KeyLabels()  # names of the cached key list; ids until it is read
        self.reload(count)

    # -- state ----------------------------------------------------------------------------
    @property
    def history_filter(self) -> HistoryFilter:
        return self._filter

    def set_filter(self, flt: HistoryFilter) -> None:
        if flt != self._filter:
            self._filter = flt
            self.reload()

    @property
    def sort_state(self) -> tuple[int, Qt.SortOrder]:
        column = next(i for i, c in enumerate(COLUMNS) if c[0] == self._sort_key)
        order = Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder
        return column, order

    def set_key_labels(self, labels: KeyLabels) -> None:
        """Show keys by the names of the cached key list (built once per change of it)."""
        self._keys = labels
        if self._count:
            self.dataChanged.emit(self.index(0, KEY_COLUMN),
                                  self.index(self._count - 1, KEY_COLUMN),
                                  [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])

    @property
    def key_labels(self) -> KeyLabels:
        return self._keys

    @property
    def loaded_pages(self) -> int:
        """How many windows of rows are held in memory (at most MAX_PAGES)."""
        return len(self._pages)

    def reload(self, count: int | None = None) -> None:
        """Re-count and drop cached windows (after a sync or a filter change)."""
        self.beginResetModel()
        self._pages.clear()
        self._count = queries.count(self._conn, self._filter) if count is None else count
        self.endResetModel()
        self.countChanged.emit(self._count)

    def refresh_after_sync(self, changed: int) -> None:
        """Pick up new or revised rows; keeps the view as it is when nothing changed."""
        if changed:
            self.reload()

    # -- Qt model API --------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        # as cheap as data(): the header asks ~1,000 times before the window's first paint
        # (each Qt enum compared or combined here cost microseconds)
        role = int(role)
        if role not in _HEADER_ROLES or orientation != _HORIZONTAL:
            return None
        if not 0 <= section < len(COLUMNS):
            return None
        if role == _ALIGN:
            return _RIGHT if COLUMNS[section][3] else None
        # the title; as the tooltip, the whole title where a narrow one is elided
        if self._titles is None:
            self._titles = [
                f"{self.tr(c[2])} ({self._zone})" if c[0] == "created_at" else self.tr(c[2])
                for c in COLUMNS
            ]
        return self._titles[section]

    def _row(self, row: int) -> tuple | None:
        page_no = row // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            page = queries.window(
                self._conn, self._filter, self._sort_key, self._descending,
                page_no * PAGE_SIZE, PAGE_SIZE, total=self._count,
            )
            self._pages[page_no] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        offset = row - page_no * PAGE_SIZE
        return page[offset] if offset < len(page) else None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        role = int(role)
        if role not in _ROLES or not index.isValid():
            return None
        column = COLUMNS[index.column()]
        if role == _ALIGN:
            return _RIGHT if column[3] else None
        record = self._row(index.row())
        if record is None:
            return None
        value = record[column[1]]
        if role == _DISPLAY:
            if column[0] == "key_id":  # by name (one dict read); the id if not in the list
                return "—" if value is None else self._keys.name(value)
            return self._display(column[0], value, record)
        if role == _ID:
            return record[0]
        if role == _SORT:
            return value
        if column[0] == "created_at":  # the tooltip
            return f"{record[0]}\n{formatting.local_time(value, with_zone=True)}"
        if column[0] == "key_id":  # name, id and prefix
            return self._keys.tooltip(value)
        return None

    @staticmethod
    def _display(key: str, value: Any, record: tuple) -> str:
        if value is None:
            return "—"
        if key == "created_at":
            return formatting.local_time(value)
        if key == "cost":  # six decimals keep the column aligned; the locale's separators
            return formatting.money(value, record[10], places=6)
        if key == "carbon_g":  # three significant digits: 0.000412, never a flat '0.000'
            return formatting.number(value, min(wording.decimals_for(value), 9))
        if key.endswith("_tokens"):
            return formatting.count(value)
        return str(value)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self.layoutAboutToBeChanged.emit()
        self._sort_key = COLUMNS[column][0]
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._pages.clear()
        self.layoutChanged.emit()

    def generation_id(self, row: int) -> str | None:
        record = self._row(row)
        return record[0] if record else None
