"""Credits: the balance, a top-up in the platform's checkout, and the receipts of past top-ups."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...api.connection import Connection
from ...api.models import Credits, Topup
from ...session.answers import CachedAnswers
from .. import formatting
from ..widgets.list_table import list_table
from .operation_dialog import CallRunner, OperationStatus, error_text

STATUS_COLOURS = {"succeeded": "#1b5e20", "pending": "#8a4b00", "failed": "#b71c1c"}


class CopyUrlDialog(QDialog):
    """No browser opened an address: say so, and show it with a Copy button."""

    def __init__(self, url: str, what: str, parent: QWidget | None = None, *,
                 title: str | None = None, text: str | None = None):
        super().__init__(parent)
        self.setWindowTitle(title or self.tr("No browser opened"))
        layout = QVBoxLayout(self)
        self.text = QLabel(
            text or self.tr(
                "No web browser could be opened for {0}. Copy this address into a browser:"
            ).format(what),
            self,
        )
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        row = QHBoxLayout()
        self.url = QLineEdit(url, self)
        self.url.setReadOnly(True)
        self.url.setCursorPosition(0)  # its start: "https://billing…", not "tps://billing…"
        self.url.setAccessibleName(self.tr("Address to open"))
        self.copy_button = QPushButton(self.tr("Copy"), self)
        self.copy_button.setAccessibleName(self.tr("Copy the address"))
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.url, 1)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        close = QPushButton(self.tr("Close"), self)
        close.clicked.connect(self.accept)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(560, self.sizeHint().height())

    def copy(self) -> None:
        from PySide6.QtWidgets import QApplication

        QApplication.clipboard().setText(self.url.text())
        self.copy_button.setText(self.tr("Copied"))


def open_in_browser(url: QUrl, what: str, parent: QWidget | None) -> CopyUrlDialog | None:
    """Open `url` in the browser: None when one opened, else the dialog showing it to copy."""
    if QDesktopServices.openUrl(url):
        return None
    dialog = CopyUrlDialog(url.toString(), what, parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.show()
    return dialog


def _safe_url(url: str | None) -> QUrl | None:
    """Only web addresses leave the app (no file: or custom schemes from the network)."""
    if not url:
        return None
    qurl = QUrl(url)
    return qurl if qurl.isValid() and qurl.scheme() in ("https", "http") else None


class CreditsDialog(QDialog):
    """Balance and top-ups; everything that costs money happens in the platform's checkout."""

    loaded = Signal()

    def __init__(
        self,
        connection: Connection | None,
        answers: CachedAnswers | None = None,  # the account's session: its cached answers
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("credits_dialog")
        self.setWindowTitle(self.tr("Credits & receipts"))
        self.runner = CallRunner(connection, self)
        self.credits: Credits | None = None
        self.topups: list[Topup] = []
        self.copy_dialog: CopyUrlDialog | None = None  # an address no browser opened
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        self.balance = QLabel(self)
        self.balance.setAccessibleName(self.tr("Balance"))
        font = self.balance.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.balance.setFont(font)
        self.spent = QLabel(self)
        self.spent.setAccessibleName(self.tr("Spent this month"))
        self.topup_button = QPushButton(self.tr("Top up in browser…"), self)
        self.topup_button.setAccessibleName(self.tr("Open the platform's checkout to top up"))
        self.topup_button.clicked.connect(lambda _=False: self.open_topup())
        head.addWidget(self.balance)
        head.addWidget(self.spent, 1)
        head.addWidget(self.topup_button)
        layout.addLayout(head)
        headers = [self.tr("Date"), self.tr("Amount"), self.tr("Method"), self.tr("Status"),
                   self.tr("Receipt")]
        self.table = list_table(self, headers, self.tr("Top-up receipts"))
        self.table.itemSelectionChanged.connect(self._update_actions)
        self.table.cellDoubleClicked.connect(lambda row, _c: self.open_receipt(row))
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        self.status = OperationStatus(self)
        self.receipt_button = QPushButton(self.tr("Open receipt"), self)
        self.receipt_button.setAccessibleName(self.tr("Open the selected receipt in the browser"))
        self.receipt_button.clicked.connect(lambda _=False: self.open_receipt())
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.setAccessibleName(self.tr("Reload the balance and receipts"))
        self.refresh_button.clicked.connect(lambda _=False: self.refresh())
        close = QPushButton(self.tr("Close"), self)
        close.setAccessibleName(self.tr("Close"))
        close.clicked.connect(self.close)
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.receipt_button)
        bottom.addWidget(self.refresh_button)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        credits = answers.credits() if answers is not None else None
        if credits is not None:
            self._show_credits(credits)
        self._update_actions()
        self.resize(720, 460)

    def refresh(self) -> bool:
        """Fetch the balance and every page of top-ups."""

        def fetch(client) -> tuple[Credits, list[Topup]]:
            items: list[Topup] = []
            cursor = None
            while True:
                page = client.topups(cursor=cursor)
                items.extend(page.data)
                if not page.has_more or not page.next_cursor:
                    return client.credits(), items
                cursor = page.next_cursor

        started = self.runner.run(fetch, self._loaded, self._failed)
        if started:
            self.status.busy(self.tr("Loading receipts…"))
            self.refresh_button.setEnabled(False)
        return started

    def _loaded(self, value: tuple[Credits, list[Topup]]) -> None:
        credits, topups = value
        self._show_credits(credits)
        self.topups = sorted(topups, key=lambda t: t.created_at, reverse=True)
        self.table.setRowCount(len(self.topups))
        for row, topup in enumerate(self.topups):
            cells = [
                # with the zone: the receipts are read beside the platform's, in UTC
                formatting.local_time(int(topup.created_at.timestamp() * 1000), with_zone=True),
                formatting.money(topup.amount, topup.currency, places=2),
                self._method_text(topup.method),
                self._status_text(topup.status),
                self.tr("Open ↗") if _safe_url(topup.receipt_url) else self.tr("none"),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 1:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if column == 3:
                    item.setForeground(QBrush(QColor(STATUS_COLOURS.get(topup.status, "#333"))))
                self.table.setItem(row, column, item)
        self.status.done(self.tr("{0} top-ups").format(len(self.topups)))
        self.refresh_button.setEnabled(True)
        self._update_actions()
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.status.fail(error_text(exc))
        self.refresh_button.setEnabled(True)

    def _method_text(self, method: str) -> str:
        """'SEPA direct debit', not 'sepa_debit'; a method this version does not know is
        shown in words made from its id."""
        known = {
            "card": self.tr("Card"),
            "sepa_debit": self.tr("SEPA direct debit"),
            "bank_transfer": self.tr("Bank transfer"),
            "paypal": self.tr("PayPal"),
        }
        if method in known:
            return known[method]
        words = str(method or "").replace("_", " ").replace("-", " ").strip()
        return words[:1].upper() + words[1:] if words else "—"

    def _status_text(self, status: str) -> str:
        return {
            "succeeded": self.tr("Succeeded"),
            "pending": self.tr("Pending"),
            "failed": self.tr("Failed"),
        }.get(status, status)

    def _show_credits(self, credits: Credits) -> None:
        self.credits = credits
        self.balance.setText(
            self.tr("Balance: {0}").format(formatting.money(credits.balance, credits.currency, 2))
        )
        self.spent.setText(
            self.tr("spent this month: {0}").format(
                formatting.money(credits.spent_this_month, credits.currency, 2)
            )
        )
        self._update_actions()

    def _update_actions(self) -> None:
        url = _safe_url(self.credits.topup_url) if self.credits else None
        self.topup_button.setEnabled(url is not None)
        self.topup_button.setToolTip(
            "" if url else self.tr("The platform has not given a checkout address yet.")
        )
        row = self.table.currentRow()
        has_receipt = 0 <= row < len(self.topups) and bool(_safe_url(self.topups[row].receipt_url))
        self.receipt_button.setEnabled(has_receipt)

    def open_topup(self) -> bool:
        url = _safe_url(self.credits.topup_url) if self.credits else None
        if url is None:
            return False
        self.copy_dialog = open_in_browser(url, self.tr("the checkout"), self)
        if self.copy_dialog is None:
            self.status.done(self.tr("The checkout opened in your browser; refresh when done."))
            return True
        self.status.fail(self.tr("No browser opened: the checkout address is shown to copy."))
        return False

    def open_receipt(self, row: int | None = None) -> bool:
        row = self.table.currentRow() if row is None else row
        if not 0 <= row < len(self.topups):
            return False
        url = _safe_url(self.topups[row].receipt_url)
        if url is None:
            self.status.fail(self.tr("This top-up has no receipt."))
            return False
        self.copy_dialog = open_in_browser(url, self.tr("the receipt"), self)
        return self.copy_dialog is None

    def receipt_rows(self) -> list[dict[str, Any]]:
        """The table as text (for accessibility checks and tests)."""
        return [
            {
                self.table.horizontalHeaderItem(c).text(): self.table.item(r, c).text()
                for c in range(self.table.columnCount())
            }
            for r in range(self.table.rowCount())
        ]
