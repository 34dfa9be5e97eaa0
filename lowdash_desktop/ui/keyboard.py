"""The app from the keyboard: shortcuts a text field must not swallow, Tab out of tables,
focus that shows on every stop."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QPushButton, QWidget

# Fusion marks the current cell of a focused table with a faint rectangle, and nothing at all
# while the table is empty: a focused table gets a frame in the highlight colour
TABLE_FOCUS_STYLE = (
    "QAbstractItemView:focus { border: 2px solid palette(highlight); }"
)


class ShortcutKeeper(QObject):
    """Lets the window's action shortcuts through a text field that would take the keys.

    A QLineEdit claims Ctrl+E (end of line, emacs-style on X11) and more in its
    ShortcutOverride: with the search field focused, File -> Export CSV... (Ctrl+E) never ran.
    The field keeps every other key; End still moves to the end of the line.

    `actions` lists the actions when a key first needs them, not when the keeper is made:
    listing a window's actions with `findChildren` makes PySide6 wrap every object of the
    window (and create the Python class of each kind met), 22 M instructions before the
    first paint of the main window.
    """

    def __init__(self, actions: Callable[[], list[QAction]], parent: QObject):
        super().__init__(parent)
        self._list_actions = actions
        self._actions: list[QAction] | None = None

    def _claimed(self, event) -> bool:
        if self._actions is None:
            self._actions = self._list_actions()
        combo = QKeySequence(event.keyCombination())
        return any(
            action.isEnabled() and combo.matches(sequence) == QKeySequence.SequenceMatch.ExactMatch
            for action in self._actions for sequence in action.shortcuts()
        )

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.ShortcutOverride and self._claimed(event):
            event.ignore()  # not overridden: the shortcut map runs the action
            return True
        return False


def keep_shortcuts(
    widgets: list[QWidget], actions: Callable[[], list[QAction]], parent: QObject
) -> None:
    """Install one ShortcutKeeper on each of `widgets` (text fields, date and spin boxes);
    `actions()` lists the actions whose shortcuts they let through."""
    keeper = ShortcutKeeper(actions, parent)
    for widget in widgets:
        widget.installEventFilter(keeper)


def tab_leaves(view: QAbstractItemView, styled: bool = True) -> None:
    """Tab moves focus out of the table (arrows move within); the focused table shows it.

    `styled=False`: the caller sets TABLE_FOCUS_STYLE later (a style sheet costs start-up
    time: the main window's table gets it right after the first paint).
    """
    view.setTabKeyNavigation(False)
    if styled:
        view.setStyleSheet(TABLE_FOCUS_STYLE)



LINK_STYLE = (
    "QPushButton { border: 1px solid transparent; color: palette(link);"
    " text-decoration: underline; padding: 0 2px; background: transparent; }"
    "QPushButton:focus { border: 1px solid palette(highlight); border-radius: 2px; }"
)


def link_button(text: str, parent: QWidget) -> QPushButton:
    """A button that reads as a link: one Tab stop, Space or Enter presses it, focus shows.

    (A QLabel's rich-text link takes two Tabs, the first of which shows nothing.)
    """
    button = QPushButton(text, parent)
    button.setStyleSheet(LINK_STYLE)
    button.setAutoDefault(True)  # Enter as well as Space
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button
