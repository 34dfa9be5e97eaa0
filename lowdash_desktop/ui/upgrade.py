"""A window that says what is happening while an older cache is upgraded (once per cache)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QProgressDialog, QWidget

T = TypeVar("T")


def _tr(text: str) -> str:
    return QCoreApplication.translate("CacheUpgrade", text)


def run_with_progress(work: Callable[[], T], account_label: str,
                      parent: QWidget | None = None) -> T:
    """Run `work()` (opening an older cache: about a minute at a million generations) on a
    thread of its own while a busy window explains the wait; the event loop goes on meanwhile.
    Returns what `work` returned, or raises what it raised."""
    dialog = QProgressDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowTitle(_tr("Lowdash"))
    dialog.setLabelText(
        _tr("Upgrading the local history of {account} to a more compact format.\n"
            "This happens once and can take a minute for a large history. "
            "A copy of the old file is kept beside it.").format(account=account_label)
    )
    dialog.setRange(0, 0)  # busy: SQLite gives no progress of a migration
    dialog.setCancelButton(None)  # stopping half-way would only roll it back
    dialog.setMinimumDuration(0)
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    loop = QEventLoop()
    poll = QTimer(dialog)
    poll.setInterval(50)
    with ThreadPoolExecutor(1, thread_name_prefix="lowdash-upgrade") as pool:
        future = pool.submit(work)
        poll.timeout.connect(lambda: future.done() and loop.quit())
        poll.start()
        dialog.show()
        if not future.done():
            loop.exec()
        poll.stop()
    dialog.close()
    return future.result()
