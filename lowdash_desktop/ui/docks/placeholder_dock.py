"""A dock frame reserved for a panel that a later part of the app fills."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel


class PlaceholderDock(QDockWidget):
    def __init__(self, title: str, object_name: str, text: str, parent=None):
        super().__init__(title, parent)
        self.setObjectName(object_name)
        label = QLabel(text, self)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        label.setEnabled(False)
        self.setWidget(label)
