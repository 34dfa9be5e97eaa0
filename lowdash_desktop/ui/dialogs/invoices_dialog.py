"""The Invoices window: cached invoices, the platform's PDF, or a PDF rendered locally."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...api.connection import Connection
from ...export.atomic import write_bytes_atomically
from ...export.invoice_pdf import PAGE_SIZES, parse_invoice, render_invoice_pdf
from ...store.rows import to_ms
from .. import formatting
from ..background import BackgroundCall
from ..widgets.list_table import list_table

if TYPE_CHECKING:
    from ...session.session import Session


def _day(value: Any) -> str:
    return value.date().isoformat() if hasattr(value, "date") else value.isoformat()


class InvoicesDialog(QDialog):
    """Invoices from the cache (works offline); download or render one as PDF."""

    downloadFinished = Signal(str)  # noqa: N815 (Qt naming) the path written
    downloadFailed = Signal(str)  # noqa: N815

    COLUMNS = ("number", "period", "issued", "status", "total")

    def __init__(
        self, session: Session, connection: Connection | None, parent: QWidget | None = None,
        is_offline: Callable[[], bool] | None = None,
    ):
        """`is_offline`: whether the platform could not be reached at the last try (the
        platform's PDF then needs the network: said before a file name is asked for)."""
        super().__init__(parent)
        self.is_offline = is_offline or (lambda: False)
        self.setObjectName("invoices_dialog")
        self.setWindowTitle(self.tr("Invoices"))
        self.connection = connection
        # a few dozen cached rows: a short read on the session's UI-thread reader
        self.bodies: list[dict[str, Any]] = session.invoices()
        self._calls: list[BackgroundCall] = []
        layout = QVBoxLayout(self)
        headers = [self.tr("Number"), self.tr("Period"), self.tr("Issued"), self.tr("Status"),
                   self.tr("Total")]
        self.table = list_table(self, headers, self.tr("Invoices"))
        self.table.setObjectName("invoices")
        layout.addWidget(self.table, 1)
        self.empty_label = QLabel(
            self.tr("No invoices cached yet. Sync to fetch them from the platform."), self
        )
        layout.addWidget(self.empty_label)
        row = QHBoxLayout()
        self.download_button = QPushButton(self.tr("Download platform PDF…"), self)
        self.export_button = QPushButton(self.tr("Export as PDF…"), self)
        self.page_size = QComboBox(self)
        self.page_size.setAccessibleName(self.tr("Page size"))
        self.page_size.addItems(list(PAGE_SIZES))
        close = QPushButton(self.tr("Close"), self)
        close.clicked.connect(self.reject)
        self.download_button.clicked.connect(self._ask_download)
        self.export_button.clicked.connect(self._ask_export)
        row.addWidget(self.download_button)
        row.addWidget(self.export_button)
        row.addWidget(QLabel(self.tr("Page size:"), self))
        row.addWidget(self.page_size)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        if connection is None:
            self.download_button.setToolTip(
                self.tr("Not signed in: the platform's PDF cannot be downloaded offline.")
            )
        self._fill()
        self.table.itemSelectionChanged.connect(self._update_buttons)
        if self.bodies:
            self.table.selectRow(0)
        self._update_buttons()
        self.resize(760, 420)

    def _fill(self) -> None:
        self.table.setRowCount(len(self.bodies))
        self.empty_label.setVisible(not self.bodies)
        for row, body in enumerate(self.bodies):
            inv = parse_invoice(body)
            status = {"paid": self.tr("Paid"), "open": self.tr("Open"), "void": self.tr("Void")}
            cells = [
                inv.number,
                f"{_day(inv.period_start)} – {_day(inv.period_end)}",
                formatting.local_time(to_ms(inv.issued_at), with_zone=True),
                status.get(inv.status, inv.status),
                f"{inv.total:,f} {inv.currency}",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == len(cells) - 1:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                item.setData(Qt.ItemDataRole.UserRole, body["id"])
                self.table.setItem(row, column, item)

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)

    def _body(self, invoice_id: str) -> dict[str, Any]:
        return next(b for b in self.bodies if b["id"] == invoice_id)

    def _update_buttons(self) -> None:
        chosen = self.selected_id() is not None
        self.export_button.setEnabled(chosen)
        self.download_button.setEnabled(chosen and self.connection is not None)

    def _suggested(self, invoice_id: str, suffix: str) -> str:
        number = self._body(invoice_id)["number"]
        return str(Path.home() / f"{number}{suffix}.pdf")

    def _ask_path(self, invoice_id: str, suffix: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Save invoice"),
            self._suggested(invoice_id, suffix),
            self.tr("PDF files (*.pdf)"),
        )
        return path or None

    def _ask_download(self) -> None:
        invoice_id = self.selected_id()
        if invoice_id and self.is_offline():
            self.status.setText(self.tr(
                "Downloading the platform's PDF needs the network, and the platform cannot be "
                "reached right now. \"Export as PDF…\" renders this invoice from the cache "
                "offline."))
            self.downloadFailed.emit("offline")
            return
        if invoice_id and (path := self._ask_path(invoice_id, "-platform")):
            self.download_pdf(invoice_id, path)

    def _ask_export(self) -> None:
        invoice_id = self.selected_id()
        if invoice_id and (path := self._ask_path(invoice_id, "")):
            self.export_pdf(invoice_id, path)

    def download_pdf(self, invoice_id: str, path: str) -> None:
        """Fetch the platform's PDF in the background and write it to `path` atomically."""
        connection = self.connection
        if connection is None:
            return

        def fetch_and_write() -> str:
            with connection.client() as client:
                data = client.invoice_pdf(invoice_id)
            write_bytes_atomically(path, data)
            return path

        call = BackgroundCall(fetch_and_write, self)
        call.done.connect(self._on_downloaded)
        call.error.connect(self._on_download_error)
        self._calls.append(call)
        self.download_button.setEnabled(False)
        self.status.setText(self.tr("Downloading the platform's PDF…"))
        call.start()

    def _on_downloaded(self, path: str) -> None:
        self._update_buttons()
        self.status.setText(self.tr("Saved the platform's PDF to {0}.").format(path))
        self.downloadFinished.emit(path)

    def _on_download_error(self, exc: Exception) -> None:
        self._update_buttons()
        message = getattr(exc, "message", None) or str(exc)
        self.status.setText(self.tr("Download failed: {0}").format(message))
        self.downloadFailed.emit(message)

    def export_pdf(self, invoice_id: str, path: str, page_size: str | None = None) -> int:
        """Render the cached invoice locally to `path`; returns the page count (0 on error)."""
        size = page_size or self.page_size.currentText()
        try:
            pages = render_invoice_pdf(self._body(invoice_id), path, size)
        except (OSError, ValueError) as exc:
            self.status.setText(self.tr("Export failed: {0}").format(exc))
            return 0
        self.status.setText(self.tr("Wrote {0} ({1} pages, {2}).").format(path, pages, size))
        return pages
