"""Colours and set-up shared by the pyqtgraph charts: follow the OS palette."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

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


def style_plot(plot: pg.PlotWidget, owner: QWidget) -> None:
    """Background and axes from the palette, no mouse zoom (the charts are read-only)."""
    palette = owner.palette()
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    plot.setBackground(base)
    item = plot.getPlotItem()
    item.setMenuEnabled(False)
    item.hideButtons()
    item.getViewBox().setMouseEnabled(x=False, y=False)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
        axis.setStyle(tickFont=owner.font())


def text_colour(owner: QWidget) -> QColor:
    return owner.palette().color(QPalette.ColorRole.Text)


def accent(owner: QWidget) -> QColor:
    return owner.palette().color(QPalette.ColorRole.Highlight)
