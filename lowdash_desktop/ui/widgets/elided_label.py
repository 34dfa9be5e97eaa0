"""A one-line label that ends in '…' when it is too narrow, with the whole text on hover."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


class ElidedLabel(QLabel):
    """Shows as much of its text as fits, then '…'; `text()` is always the whole text.

    A plain QLabel cuts a long status line off mid-word under the widgets beside it.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)  # status lines quote the platform's words
        # a plain label's minimum is its whole text: a long line would widen the window
        # instead of ending in '…'
        self.setMinimumWidth(60)

    def text(self) -> str:  # the whole text, whatever is shown
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        self._full = text
        self._show_fitting()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._show_fitting()

    def shown_text(self) -> str:
        """What the label draws now."""
        return super().text()

    def _show_fitting(self) -> None:
        room = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, room)
        super().setText(shown)
        cut = shown != self._full
        self.setToolTip(_plain_tooltip(self._full) if cut else "")
        self.setAccessibleDescription(self._full if cut else "")


def _plain_tooltip(text: str) -> str:
    """A tooltip that shows `text` as written: Qt reads a tooltip with a tag as HTML."""
    if "<" not in text and "&" not in text:
        return text
    import html

    return "<p style='white-space:pre-wrap'>" + html.escape(text) + "</p>"
