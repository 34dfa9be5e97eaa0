"""A small rounded label with a clear button: shows one active filter and removes it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton


class FilterChip(QFrame):
    """'Model: mistral/small ✕'; `cleared` fires when the ✕ is pressed."""

    cleared = Signal(str)  # the filter field this chip shows

    def __init__(self, field: str, caption: str, value: str, parent=None):
        super().__init__(parent)
        self.field = field
        self.value = value
        self.setObjectName(f"chip_{field}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "FilterChip { border: 1px solid palette(highlight); border-radius: 9px;"
            " background: palette(alternate-base); }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 1, 2, 1)
        layout.setSpacing(2)
        self.label = QLabel(f"{caption}: {value}", self)
        self.button = QToolButton(self)
        self.button.setText("✕")
        self.button.setAutoRaise(True)
        self.button.setToolTip(self.tr("Clear this filter"))
        self.button.setAccessibleName(self.tr("Clear filter {0}").format(caption))
        self.button.clicked.connect(lambda: self.cleared.emit(self.field))
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        self.setAccessibleName(self.tr("Active filter {0}: {1}").format(caption, value))
