"""Spend over time: daily cost over 7/30/90 days, stacked or split by model; hover for figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDockWidget, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...store.aggregates import DailySpend, DashboardFigures
from ...store.rows import nanos_to_money
from .. import formatting
from ..widgets import chart_style
from .usage_dock import day_mode_text

if TYPE_CHECKING:
    import pyqtgraph as pg

RANGES = (7, 30, 90)


class SpendDock(QDockWidget):
    """Daily cost per model (top N + Other) as stacked bars or one line per model."""

    rangeChanged = Signal(int)

    def __init__(self, parent=None):
        super().__init__(self.tr("Spend over time"), parent)
        self.setObjectName("dock_spend")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        controls = QHBoxLayout()
        self.caption = QLabel(self.tr("Daily cost"), body)
        self.range_combo = QComboBox(body)
        self.range_combo.setAccessibleName(self.tr("Spend range"))
        for days in RANGES:
            self.range_combo.addItem(self.tr("Last {0} days").format(days), days)
        self.range_combo.setCurrentIndex(RANGES.index(30))
        self.range_combo.currentIndexChanged.connect(
            lambda _i: self.rangeChanged.emit(self.range_combo.currentData())
        )
        self.mode_combo = QComboBox(body)
        self.mode_combo.setAccessibleName(self.tr("Chart style"))
        self.mode_combo.addItem(self.tr("Stacked"), "stacked")
        self.mode_combo.addItem(self.tr("Split by model"), "split")
        self.mode_combo.currentIndexChanged.connect(lambda _i: self._draw())
        controls.addWidget(self.caption, 1)
        controls.addWidget(self.range_combo)
        controls.addWidget(self.mode_combo)
        layout.addLayout(controls)
        self.chart_slot = chart_style.ChartSlot(body, self._build_plot, 90)
        layout.addWidget(self.chart_slot, 1)
        self.legend = QLabel(body)
        self.legend.setObjectName("spend_legend")
        self.legend.setWordWrap(True)
        self.legend.setAccessibleName(self.tr("Chart legend"))
        layout.addWidget(self.legend)
        self.hover = QLabel(self.tr("Hover a day to see its figures."), body)
        self.hover.setObjectName("spend_hover")
        self.hover.setWordWrap(True)
        self.hover.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.hover)
        self.setWidget(body)
        self.spend: DailySpend | None = None
        self.currency = ""
        self._utc = False
        self._cursor: pg.InfiniteLine | None = None

    @property
    def plot(self) -> pg.PlotWidget:
        return self.chart_slot.plot()

    def _build_plot(self, parent: QWidget) -> pg.PlotWidget:
        import pyqtgraph as pg

        plot = pg.PlotWidget(parent)
        plot.setObjectName("spend_chart")
        plot.setAccessibleName(self.tr("Daily cost chart; hover a day for its figures"))
        chart_style.style_plot(plot, self)
        plot.getPlotItem().scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._cursor = pg.InfiniteLine(angle=90, movable=False,
                                       pen=pg.mkPen(chart_style.text_colour(self), width=1))
        return plot

    @property
    def mode(self) -> str:
        return self.mode_combo.currentData()

    def show_figures(self, figures: DashboardFigures) -> None:
        self.spend = figures.spend
        self.currency = figures.currency
        self._utc = figures.query.utc
        self.caption.setText(self.tr("Daily cost in {0} ({1})").format(
            figures.currency or "—", day_mode_text(self, self._utc)
        ))
        self._draw()

    def hover_text(self, index: int) -> str:
        """The figures of one day, as shown when the mouse is over it."""
        spend = self.spend
        if spend is None or not 0 <= index < len(spend.days):
            return ""
        parts = [
            f"{name} {formatting.money(nanos_to_money(values[index]), self.currency)}"
            for name, values in spend.series.items() if values[index]
        ]
        head = self.tr("{0} ({1}): {2} total, {3} tokens, {4} requests").format(
            spend.days[index].isoformat(), day_mode_text(self, self._utc),
            formatting.money(nanos_to_money(spend.day_total_nanos(index)), self.currency),
            formatting.tokens(spend.tokens[index]), f"{spend.requests[index]:,}",
        )
        return head + (" — " + "; ".join(parts) if parts else "")

    def show_day(self, index: int) -> None:
        text = self.hover_text(index)
        if text:
            self.hover.setText(text)
            self._cursor.setPos(index)
            self._cursor.show()

    def _draw(self) -> None:
        if not self.chart_slot.ready(self._draw):
            return
        from html import escape  # after the first paint, with the chart (html.entities: 3 ms)

        import pyqtgraph as pg

        item = self.plot.getPlotItem()
        item.clear()
        spend = self.spend
        if spend is None:
            return
        item.addItem(self._cursor, ignoreBounds=True)
        self._cursor.hide()
        xs = list(range(len(spend.days)))
        base = [0.0] * len(xs)
        legend: list[str] = []
        for k, (name, values) in enumerate(spend.series.items()):
            colour = chart_style.series_colour(k, name)
            amounts = [v / 1e9 for v in values]
            legend.append(f'<span style="color:{colour.name()}">■</span>&nbsp;{escape(name)}')
            if self.mode == "stacked":
                bars = pg.BarGraphItem(x=xs, height=amounts, y0=base, width=0.8,
                                       brush=colour, pen=None)
                item.addItem(bars)
                base = [a + b for a, b in zip(base, amounts, strict=True)]
            else:
                curve = item.plot(xs, amounts, pen=pg.mkPen(colour, width=2),
                                  symbol="o", symbolSize=4, symbolBrush=colour, symbolPen=None)
                curve.setZValue(10)
        self.legend.setText("&nbsp;&nbsp; ".join(legend))
        step = max(1, len(xs) // 6)
        item.getAxis("bottom").setTicks([
            [(i, spend.days[i].strftime("%m-%d")) for i in range(len(xs) - 1, -1, -step)]
        ])
        top = max(base) if self.mode == "stacked" else max(
            (v / 1e9 for values in spend.series.values() for v in values), default=0
        )
        item.setXRange(-0.6, len(xs) - 0.4, padding=0)
        item.setYRange(0, (top or 1e-6) * 1.1, padding=0)

    def _on_mouse_moved(self, pos) -> None:
        if self.spend is None or not self.plot.getPlotItem().sceneBoundingRect().contains(pos):
            return
        point = self.plot.getPlotItem().getViewBox().mapSceneToView(pos)
        self.show_day(round(point.x()))
