"""Spend over time: daily cost over 7/30/90 days, stacked or split by model; hover for figures.

Days holding a spend spike (insight.spikes) of the page's key or model (of any, unfiltered)
carry a red triangle above their bar; hovering the day names the spikes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDockWidget, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...store.rows import nanos_to_money
from .. import formatting
from ..widgets import chart_style
from .usage_dock import day_mode_text

if TYPE_CHECKING:
    import pyqtgraph as pg

    from ...store.aggregates import DailySpend, DashboardFigures

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
        self.scope = None  # the page's HistoryFilter the figures were made for
        self.spikes: list = []  # insight.spikes.Spike of the window
        self.spike_marks = None  # the chart's triangles (a pyqtgraph ScatterPlotItem) if any
        self._spike_label = lambda spike: spike.id  # how a spike is named (set with the spikes)

    def show_spikes(self, spikes: list, label=None) -> None:
        """Mark the days of these spikes (insight.spikes.Spike); `label(spike)` says one."""
        self.spikes = list(spikes)
        if label is not None:
            self._spike_label = label
        self._draw()

    def spike_days(self) -> dict[int, list]:
        """Chart day index -> the spikes that start on that day and belong to the page's
        scope: its key or model when it has one; every spike when it has no filter; none
        when only a provider or region is chosen (a key's or model's spike is not theirs)."""
        from ...store.aggregates import day_of  # loaded with the figures, after the first paint

        spend = self.spend
        if spend is None or not self.spikes:
            return {}
        scope = self.scope
        wanted = None
        if scope is not None and (scope.key_id or scope.model):
            wanted = {("key", scope.key_id), ("model", scope.model)}
        elif scope is not None and (scope.provider or scope.region):
            return {}
        index = {day: i for i, day in enumerate(spend.days)}
        out: dict[int, list] = {}
        for spike in self.spikes:
            if wanted is not None and (spike.scope, spike.id) not in wanted:
                continue
            i = index.get(day_of(spike.start_ms, self._utc))
            if i is not None:
                out.setdefault(i, []).append(spike)
        return out

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
        self.scope = figures.query.scope
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
        text = head + (" — " + "; ".join(parts) if parts else "")
        spikes = self.spike_days().get(index, [])
        if spikes:
            text += "\n" + self.tr("Spend spike: {0}").format("; ".join(
                self.tr("{0} {1}–{2}, {3} (expected {4})").format(
                    self._spike_label(s), formatting.local_time(s.start_ms)[11:16],
                    formatting.local_time(s.end_ms)[11:16],
                    formatting.money(nanos_to_money(s.spend), self.currency),
                    formatting.money(nanos_to_money(s.expected), self.currency))
                for s in spikes))
        return text

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
        self.spike_marks = None
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
            [(i, formatting.day_month(spend.days[i])) for i in range(len(xs) - 1, -1, -step)]
        ])
        top = max(base) if self.mode == "stacked" else max(
            (v / 1e9 for values in spend.series.values() for v in values), default=0
        )
        marks = self.spike_days()
        if marks:
            heights = base if self.mode == "stacked" else [
                max((v[i] / 1e9 for v in spend.series.values()), default=0) for i in xs]
            lift = (top or 1e-6) * 0.04
            spikes = pg.ScatterPlotItem(
                x=sorted(marks), y=[heights[i] + lift for i in sorted(marks)], symbol="t",
                size=11, brush=pg.mkBrush("#d32f2f"), pen=pg.mkPen("#7f0000", width=1))
            spikes.setZValue(20)
            item.addItem(spikes)
            self.spike_marks = spikes
            legend.append('<span style="color:#d32f2f">▼</span>&nbsp;' + escape(
                self.tr("spend spike (hover the day)")))
            self.legend.setText("&nbsp;&nbsp; ".join(legend))
        item.setXRange(-0.6, len(xs) - 0.4, padding=0)
        item.setYRange(0, (top or 1e-6) * 1.16 if marks else (top or 1e-6) * 1.1, padding=0)

    def _on_mouse_moved(self, pos) -> None:
        if self.spend is None or not self.plot.getPlotItem().sceneBoundingRect().contains(pos):
            return
        point = self.plot.getPlotItem().getViewBox().mapSceneToView(pos)
        self.show_day(round(point.x()))
