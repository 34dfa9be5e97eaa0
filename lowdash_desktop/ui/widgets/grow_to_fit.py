"""Grow a dialog to the height its layout needs at its current width."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def grow_to_fit(window: QWidget) -> None:
    """Make `window` tall enough for its layout at its width; never shrink it.

    A note or result that appears after the dialog was shown takes its room from the rows
    around it, which then lose their last line (word-wrapped labels): growing avoids the cut.
    """
    layout = window.layout()
    layout.activate()
    needed = layout.totalHeightForWidth(window.width())
    if needed < 0:  # no height-for-width item: the plain size hint is the height
        needed = layout.totalSizeHint().height()
    if needed > window.height():
        window.resize(window.width(), needed)
