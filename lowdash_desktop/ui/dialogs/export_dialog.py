"""Export the history as CSV: current filters or everything, in a worker thread, cancellable."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ...export.csv_export import ExportCancelled, export_csv
from ...store import queries
from ...store.cache import Cache
from ...store.queries import HistoryFilter

if TYPE_CHECKING:
    from ...session.session import Session


class CsvExportWorker(QObject):
    """Runs one export on its own SQLite connection; speaks only through signals."""

    progress = Signal(int, int)  # rows written, rows in total
    finished = Signal(int, str)  # rows, path
    cancelled = Signal()
    failed = Signal(str)

    def __init__(self, open_reader: Callable[[], Cache], target: Path, flt: HistoryFilter):
        """`open_reader` runs in the worker thread (`Session.open_worker_reader`)."""
        super().__init__()
        self.open_reader = open_reader
        self.target = target
        self.flt = flt
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        try:
            cache = self.open_reader()
            try:
                rows = export_csv(
                    cache.conn,
                    self.target,
                    self.flt,
                    progress=self.progress.emit,
                    cancelled=self._cancel.is_set,
                )
            finally:
                cache.close()
        except ExportCancelled:
            self.cancelled.emit()
        except Exception as exc:  # reported to the dialog, never lost
            self.failed.emit(str(exc))
        else:
            self.finished.emit(rows, str(self.target))


class ExportDialog(QDialog):
    """File → Export CSV…: choose what and where; a progress bar and Cancel while it runs."""

    exportFinished = Signal(int, str)  # noqa: N815 (Qt naming)
    exportCancelled = Signal()  # noqa: N815
    exportFailed = Signal(str)  # noqa: N815

    def __init__(self, session: Session, flt: HistoryFilter | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("export_dialog")
        self.setWindowTitle(self.tr("Export CSV"))
        self.session = session
        self.current_filter = flt or HistoryFilter()
        self._thread: QThread | None = None
        self._worker: CsvExportWorker | None = None
        filtered, total = self._counts()
        layout = QVBoxLayout(self)
        self.filtered_radio = QRadioButton(
            self.tr("Rows matching the current filters ({0})").format(f"{filtered:,}"), self
        )
        self.all_radio = QRadioButton(self.tr("Everything ({0})").format(f"{total:,}"), self)
        self.scope = QButtonGroup(self)
        self.scope.addButton(self.filtered_radio)
        self.scope.addButton(self.all_radio)
        # filtered (a search alone too, even one matching nothing) means the filtered rows:
        # the table shows them, and "Everything" must be chosen, never assumed
        (
            self.filtered_radio if self.current_filter != HistoryFilter() else self.all_radio
        ).setChecked(True)
        layout.addWidget(self.filtered_radio)
        layout.addWidget(self.all_radio)
        row = QHBoxLayout()
        self.path_edit = QLineEdit(self)
        self.path_edit.setPlaceholderText(self.tr("File to write…"))
        self.path_edit.setAccessibleName(self.tr("CSV file"))
        self.path_edit.setText(str(Path.home() / "lowdash-history.csv"))
        browse = QPushButton(self.tr("Browse…"), self)
        browse.clicked.connect(self._browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        layout.addLayout(row)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton(
            self.tr("Export"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.export_button.clicked.connect(lambda: self.export_clicked())
        self._confirmed_path: Path | None = None  # chosen in Browse, whose dialog asked
        self.cancel_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())
        app = QCoreApplication.instance()
        if app is not None:  # quitting mid-export: cancel and join, leave no file
            app.aboutToQuit.connect(self._abort)

    def _abort(self) -> None:
        if self.running:
            assert self._worker is not None and self._thread is not None
            self._worker.cancel()
            self._thread.quit()
            self._thread.wait()
            self._stop_thread()

    def _counts(self) -> tuple[int, int]:
        # on the session's UI-thread reader: the dialog opens no connection of its own
        cache = self.session.cache
        if cache is None:
            return 0, 0
        return queries.count(cache.conn, self.current_filter), cache.generation_count()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export CSV"), self.path_edit.text(), self.tr("CSV files (*.csv)")
        )
        if path:
            self.path_edit.setText(path)
            self._confirmed_path = Path(path).expanduser()

    def export_clicked(self):
        """Export: a file that exists is replaced only once the user says so (a second
        export to the same path overwrote the first without a word). Returns the question
        when one is asked, else whether the export started."""
        from PySide6.QtWidgets import QMessageBox

        target = Path(self.path_edit.text().strip()).expanduser()
        if self.running or not target.is_file() or target == self._confirmed_path:
            return self.start_export()
        box = QMessageBox(self)
        box.setObjectName("overwrite_question")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("Export CSV"))
        box.setText(self.tr("{0} already exists. Replace it?").format(target.name))
        box.setInformativeText(self.tr("Its contents are replaced by this export."))
        replace = box.addButton(self.tr("Replace"), QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)

        def answered(button) -> None:
            if button is replace:
                self._confirmed_path = target
                self.start_export(str(target))

        box.buttonClicked.connect(answered)
        box.finished.connect(box.deleteLater)
        box.open()
        self.overwrite_question = box
        return box

    @property
    def running(self) -> bool:
        return self._thread is not None

    def chosen_filter(self) -> HistoryFilter:
        return self.current_filter if self.filtered_radio.isChecked() else HistoryFilter()

    def start_export(self, path: str | None = None) -> bool:
        """Start writing (to `path` or the path field); False if it cannot start."""
        if self.running:
            return False
        target = Path(path or self.path_edit.text().strip()).expanduser()
        if not target.name or not target.parent.is_dir():
            self.status.setText(self.tr("Choose a file in an existing folder."))
            return False
        self.path_edit.setText(str(target))
        self._worker = CsvExportWorker(
            self.session.open_worker_reader, target, self.chosen_filter()
        )
        self._thread = QThread(self)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.cancelled.connect(self._on_cancelled)
        self._worker.failed.connect(self._on_failed)
        self.export_button.setEnabled(False)
        self.status.setText(self.tr("Exporting…"))
        self.progress.setValue(0)
        self._thread.start()
        return True

    def cancel_export(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.status.setText(self.tr("Cancelling…"))

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread.deleteLater()
        if self._worker is not None:
            self._worker.deleteLater()
        self._thread = None
        self._worker = None
        self.export_button.setEnabled(True)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setValue(1000 if total == 0 else int(done * 1000 / total))
        self.status.setText(self.tr("{0} of {1} rows written").format(f"{done:,}", f"{total:,}"))

    def _on_finished(self, rows: int, path: str) -> None:
        self._stop_thread()
        self.progress.setValue(1000)
        self.status.setText(self.tr("Wrote {0} rows to {1}.").format(f"{rows:,}", path))
        self.cancel_button.setText(self.tr("Close"))
        self.exportFinished.emit(rows, path)

    def _on_cancelled(self) -> None:
        self._stop_thread()
        self.progress.setValue(0)
        self.status.setText(self.tr("Export cancelled; no file was written."))
        self.exportCancelled.emit()

    def _on_failed(self, message: str) -> None:
        self._stop_thread()
        self.progress.setValue(0)
        self.status.setText(self.tr("Export failed: {0}").format(message))
        self.exportFailed.emit(message)

    def reject(self) -> None:
        """Cancel stops a running export first; a second Cancel (or Close) closes."""
        if self.running:
            self.cancel_export()
            return
        super().reject()

    def done(self, result: int) -> None:
        self._abort()  # closing the window mid-export: cancel and wait, leave no file
        super().done(result)
