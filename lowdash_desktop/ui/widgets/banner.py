"""A non-modal banner across the top of the window for offline and error states."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton


class Banner(QFrame):
    """One line of plain words with an optional action; hidden until there is news."""

    actionClicked = Signal()
    shownChanged = Signal(bool)  # shown or hidden (its bar at the top follows it)
    changed = Signal()  # shown, hidden, or another message put up

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAccessibleName(self.tr("Status banner"))
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        # messages quote the platform's own words: never read them as HTML
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.button = QPushButton(self)
        self.button.clicked.connect(self._clicked)
        self.handler = None  # the current message's own action, else actionClicked
        close = QPushButton("✕", self)
        close.setFlat(True)
        close.setAccessibleName(self.tr("Dismiss"))
        close.setFixedWidth(28)
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        layout.addWidget(close)
        self.kind = ""
        self.hide()

    def setVisible(self, visible: bool) -> None:  # noqa: N802 (Qt API)
        was = not self.isHidden()
        super().setVisible(visible)
        if was != visible:
            self.shownChanged.emit(visible)
            self.changed.emit()

    def _clicked(self) -> None:
        if self.handler is not None:
            self.handler()
        else:
            self.actionClicked.emit()

    def show_message(
        self, kind: str, text: str, action: str | None = None, handler=None
    ) -> None:
        """kind is 'offline', 'error' or 'info'; the colour follows it.

        The button reads `action`; a click calls `handler` if given, else emits actionClicked.
        """
        self.kind = kind
        self.handler = handler
        colours = {
            "offline": ("#7a4b00", "#fff4d6", "#e0b050"),
            "error": ("#8a1c1c", "#fde8e8", "#e08080"),
            "info": ("#1c4a8a", "#e8f0fd", "#80a0e0"),
        }
        fg, bg, border = colours.get(kind, colours["info"])
        self.setStyleSheet(
            f"#banner {{ background: {bg}; border: 1px solid {border}; border-radius: 4px; }}"
            f"#banner QLabel {{ color: {fg}; }}"
        )
        self.label.setText(text)
        self.button.setVisible(action is not None)
        if action:
            self.button.setText(action)
            self.button.setAccessibleName(action)
        self.show()
        self.changed.emit()

    def message(self) -> tuple[str, str] | None:
        """(kind, text) of the message on show; None while hidden."""
        return None if self.isHidden() else (self.kind, self.label.text())
