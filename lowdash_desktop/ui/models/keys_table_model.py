"""The API keys of an account as a table (a handful of rows: kept in memory, never secrets)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from ...api.models import Key
from ...rules.key_limits import limit_used_percent
from .. import formatting

KeyRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2

COLUMNS = (
    "name",
    "prefix",
    "scopes",
    "status",
    "credit_limit",
    "limit_reset",
    "limit_remaining",
    "usage_today",
    "usage_month",
    "last_used_at",
    "expires_at",
)

Index = QModelIndex | QPersistentModelIndex


def key_status(key: Key, now: datetime | None = None) -> str:
    """'expired', 'disabled' or 'active'."""
    now = now or datetime.now(UTC)
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "disabled" if key.disabled else "active"


def _time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return formatting.local_time(int(moment.timestamp() * 1000))[:16]  # to the minute


class KeysTableModel(QAbstractTableModel):
    """One row per key; the Key itself is under KeyRole, a sortable value under SortRole."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.keys: list[Key] = []
        self.currency = ""
        self.current_prefix: str | None = None
        self._headers = (
            self.tr("Name"),
            self.tr("Prefix"),
            self.tr("Scopes"),
            self.tr("Status"),
            self.tr("Credit limit"),
            self.tr("Reset"),
            self.tr("Remaining"),
            self.tr("Today"),
            self.tr("This month"),
            self.tr("Last used"),
            self.tr("Expires"),
        )
        self._status_text = {
            "active": self.tr("Active"),
            "disabled": self.tr("Disabled"),
            "expired": self.tr("Expired"),
        }
        self._reset_text = {
            "daily": self.tr("daily"),
            "weekly": self.tr("weekly"),
            "monthly": self.tr("monthly"),
        }

    def set_keys(self, keys: list[Key], currency: str | None = None) -> None:
        self.beginResetModel()
        self.keys = list(keys)
        if currency is not None:
            self.currency = currency
        self.endResetModel()

    def replace_key(self, key: Key) -> None:
        """Update one row in place (after a PATCH or rotate), or append a new key."""
        for row, old in enumerate(self.keys):
            if old.id == key.id:
                self.keys[row] = key
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
                return
        self.beginInsertRows(QModelIndex(), len(self.keys), len(self.keys))
        self.keys.append(key)
        self.endInsertRows()

    def remove_key(self, key_id: str) -> None:
        for row, old in enumerate(self.keys):
            if old.id == key_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self.keys[row]
                self.endRemoveRows()
                return

    def row_of(self, key_id: str) -> int:
        return next((i for i, k in enumerate(self.keys) if k.id == key_id), -1)

    # -- Qt model API ------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.keys)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.keys):
            return None
        key = self.keys[index.row()]
        column = COLUMNS[index.column()]
        if role == KeyRole:
            return key
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(key, column)
        if role == SortRole:
            return self._sort_value(key, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(key, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            "credit_limit",
            "limit_remaining",
            "usage_today",
            "usage_month",
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            status = key_status(key)
            if column == "status" and status != "active":
                return QBrush(QColor("#b71c1c" if status == "expired" else "#8d6e63"))
            if column == "limit_remaining":
                used = limit_used_percent(key)
                if used is not None and used >= 100:
                    return QBrush(QColor("#b71c1c"))
        if role == Qt.ItemDataRole.FontRole and column == "name" and self._is_current(key):
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None

    def _is_current(self, key: Key) -> bool:
        return self.current_prefix is not None and key.prefix == self.current_prefix

    def _money(self, value: Decimal | None) -> str:
        return "" if value is None else formatting.money(value, self.currency, places=2)

    def _display(self, key: Key, column: str) -> str:
        if column == "name":
            return key.name + (self.tr(" (this app)") if self._is_current(key) else "")
        if column == "prefix":
            return key.prefix + "…"
        if column == "scopes":
            return ", ".join(key.scopes)
        if column == "status":
            return self._status_text[key_status(key)]
        if column == "credit_limit":
            return (
                self._money(key.credit_limit)
                if key.credit_limit is not None
                else self.tr("No limit")
            )
        if column == "limit_reset":
            return self._reset_text.get(
                key.limit_reset or "", "" if key.credit_limit is None else self.tr("never")
            )
        if column == "limit_remaining":
            return "—" if key.limit_remaining is None else self._money(key.limit_remaining)
        if column in ("usage_today", "usage_month"):
            value = getattr(key, column)
            # small amounts keep their digits (formatting.money picks the places)
            return "" if value is None else formatting.money(value, self.currency)
        if column == "last_used_at":
            return _time(key.last_used_at) or self.tr("never")
        if column == "expires_at":
            return _time(key.expires_at) or self.tr("never")
        return ""

    @staticmethod
    def _sort_value(key: Key, column: str) -> Any:
        value = getattr(key, column, None) if column != "status" else key_status(key)
        if isinstance(value, list):
            return ",".join(value)
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, datetime):
            return value.timestamp()
        if value is None:
            return -1.0 if column not in ("name", "prefix", "limit_reset") else ""
        return value

    def _tooltip(self, key: Key, column: str) -> str | None:
        if column == "limit_remaining":
            used = limit_used_percent(key)
            if used is not None:
                return self.tr("{0:.0f}% of the limit used this period.").format(used)
        if column == "name" and self._is_current(key):
            return self.tr("Lowdash signs in with this key.")
        if column == "expires_at" and key.expires_at is not None:
            return formatting.local_time(int(key.expires_at.timestamp() * 1000), with_zone=True)
        return None
