"""The tray / menu-bar icon: there while the app runs; also how native notifications appear."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMenu, QStyle, QSystemTrayIcon


class TrayIcon(QSystemTrayIcon):
    """Icon with a menu; `notify()` shows a native notification where the platform has one."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        icon = QApplication.windowIcon()
        if icon.isNull():
            icon = window.style().standardIcon(QStyle.StandardPixmap.SP_ComputerIcon)
        self.setIcon(QIcon(icon))
        self.setToolTip("Lowdash")
        self.menu = QMenu()
        self.open_action = self.menu.addAction(self.tr("Open Lowdash"), window.raise_and_show)
        self.sync_action = self.menu.addAction(self.tr("Sync now"), window.sync_now)
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction(self.tr("Quit"), QApplication.quit)
        self.setContextMenu(self.menu)
        self.notifications: list[tuple[str, str]] = []  # what was shown, newest last

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def notify(self, title: str, text: str) -> None:
        """One native notification (recorded, so the window and tests can see it)."""
        self.notifications.append((title, text))
        if self.available() and self.supportsMessages():
            self.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 10_000)
