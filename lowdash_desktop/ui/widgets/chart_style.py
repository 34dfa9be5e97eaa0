"""Colours and set-up shared by the pyqtgraph charts: follow the OS palette."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

if TYPE_CHECKING:
    import pyqtgraph as pg

# Accent colours readable on both light and dark backgrounds (Okabe-Ito based).
SERIES_COLOURS = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999",
]
OTHER_COLOUR = "#8c8c8c"


def series_colour(index: int, name: str = "") -> QColor:
    """A stable accent colour for the index-th series ('Other' is grey)."""
    if name == "Other":
        return QColor(OTHER_COLOUR)
    return QColor(SERIES_COLOURS[index % len(SERIES_COLOURS)])


_warming = False
_deferred: weakref.WeakKeyDictionary[ChartSlot, Callable[[], None]] = weakref.WeakKeyDictionary()
_slots: weakref.WeakSet[ChartSlot] = weakref.WeakSet()
_queued: list[Callable[[], object]] = []  # the warm-up's chart pieces, one per loop turn


def begin_warm_up() -> None:
    """pyqtgraph is being imported off the UI thread: charts wait instead of blocking on it."""
    global _warming
    _warming = True


def warm_up_done() -> None:
    """pyqtgraph is loaded: draw whatever waited for it."""
    global _warming
    _warming = False
    # first every chart's plot (~30 ms each), then the draws that waited (~25 ms each): one
    # piece per turn of the event loop, each queued by the one before, so that input and
    # painting get their turn in between
    pieces: list[Callable[[], object]] = [s.plot for s in list(_slots) if not s.has_plot()]
    pieces += list(_deferred.values())
    _deferred.clear()
    running = bool(_queued)
    _queued.extend(pieces)
    if pieces and not running:
        QTimer.singleShot(0, _run_next_piece)


def charts_pending() -> bool:
    """True while a chart waits for pyqtgraph, or for its turn to be built and drawn."""
    return _warming or bool(_deferred) or bool(_queued)


def _run_next_piece() -> None:
    try:
        _run_deferred(_queued.pop(0))
    finally:
        if _queued:
            QTimer.singleShot(0, _run_next_piece)


def _run_deferred(draw: Callable[[], object]) -> None:
    try:
        draw()
    except RuntimeError:  # its dock was closed meanwhile
        pass


class ChartSlot(QWidget):
    """Holds a chart's place; the pyqtgraph widget is built on first use.

    pyqtgraph (with numpy) is the largest import of the app, so charts are made when their
    first figures arrive, after the window has painted, not during start-up.
    """

    def __init__(self, parent: QWidget, build: Callable[[QWidget], pg.PlotWidget], height: int):
        super().__init__(parent)
        self.setMinimumHeight(height)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._build = build
        self._plot: pg.PlotWidget | None = None
        _slots.add(self)

    def ready(self, draw: Callable[[], None]) -> bool:
        """False (and `draw` kept for later) while pyqtgraph still loads off the UI thread."""
        if _warming and self._plot is None:
            _deferred[self] = draw
            return False
        return True

    def has_plot(self) -> bool:
        return self._plot is not None

    def plot(self) -> pg.PlotWidget:
        if self._plot is None:
            self._plot = self._build(self)
            self._layout.addWidget(self._plot)
        return self._plot


def style_plot(plot: pg.PlotWidget, owner: QWidget) -> None:
    """Background and axes from the palette, no mouse zoom (the charts are read-only)."""
    import pyqtgraph as pg
    palette = owner.palette()
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    plot.setBackground(base)
    # nothing to do with keys in a chart: not a Tab stop (the filters do what a click does)
    plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    plot.viewport().setFocusPolicy(Qt.FocusPolicy.NoFocus)
    item = plot.getPlotItem()
    item.setMenuEnabled(False)
    # pyqtgraph builds the plot's options menu without a parent and something of its own
    # keeps the plot item alive: six hidden top-level menus stayed after each closed chart
    plot.destroyed.connect(item.ctrlMenu.deleteLater)
    item.hideButtons()
    item.getViewBox().setMouseEnabled(x=False, y=False)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
        axis.setStyle(tickFont=owner.font())
    item.getAxis("left").tickStrings = _locale_ticks  # '0,008' in German, as the text says


def _locale_ticks(values, scale: float, spacing: float) -> list[str]:
    """Axis numbers in the user's locale, with as many decimals as their spacing needs."""
    import math

    from .. import formatting

    step = abs(spacing * scale) or 1.0
    decimals = max(0, math.ceil(-math.log10(step))) if step < 1 else 0
    return [formatting.number(v * scale, decimals) for v in values]


def text_colour(owner: QWidget) -> QColor:
    return owner.palette().color(QPalette.ColorRole.Text)


def accent(owner: QWidget) -> QColor:
    return owner.palette().color(QPalette.ColorRole.Highlight)
