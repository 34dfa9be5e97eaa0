"""Top models (last 30 days): horizontal bars ranked by tokens; click a bar to filter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPointF, Signal
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget

from .. import formatting
from ..widgets import chart_style
from ..widgets.model_name_delegate import fit_model_name
from .usage_dock import day_mode_text

if TYPE_CHECKING:
    import pyqtgraph as pg

    from ...store.aggregates import DashboardFigures, ModelFigures

MAX_BARS = 8
BAR_HEIGHT = 0.8
BAR_SPAN = 0.86  # the longest bar's share of the width; values to its right


class TopModelsDock(QDockWidget):
    """A bar per model, most tokens on top, the token count at the end of each bar."""

    modelClicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(self.tr("Top models (last 30 days)"), parent)
        self.setObjectName("dock_top_models")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.caption = QLabel(self.tr("Ranked by tokens"), body)
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        self.chart_slot = chart_style.ChartSlot(body, self._build_plot, 140)
        layout.addWidget(self.chart_slot, 1)
        self.setWidget(body)
        self.models: list[ModelFigures] = []
        self._active: str | None = None
        self._bars: pg.BarGraphItem | None = None
        self.labels: list[pg.TextItem] = []
        self.name_labels: list[pg.TextItem] = []

    @property
    def plot(self) -> pg.PlotWidget:
        return self.chart_slot.plot()

    def _build_plot(self, parent: QWidget) -> pg.PlotWidget:
        import pyqtgraph as pg

        plot = pg.PlotWidget(parent)
        plot.setObjectName("top_models_chart")
        plot.setAccessibleName(self.tr("Top models by tokens; click a bar to filter"))
        chart_style.style_plot(plot, self)
        item = plot.getPlotItem()
        item.hideAxis("bottom")
        item.hideAxis("left")
        item.getViewBox().invertY(True)
        item.scene().sigMouseClicked.connect(self._on_scene_click)
        plot.installEventFilter(self)  # names are shortened again when the chart resizes
        return plot

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Resize and self.name_labels:
            self._fit_names(event.size().width())  # before the chart lays itself out again
        return super().eventFilter(watched, event)

    def _fit_names(self, width: int | None = None) -> None:
        """Shorten model names (as Usage today does) so none runs into the value column."""
        if not self.name_labels or not self.chart_slot.has_plot():
            return
        plot = self.plot
        metrics = QFontMetrics(plot.font())
        values = max(metrics.horizontalAdvance(v.toPlainText()) for v in self.value_labels)
        width = plot.viewport().width() if width is None else width
        room = max(24, width - values - metrics.averageCharWidth() * 3)
        for label, model in zip(self.name_labels, self.models, strict=False):
            # Usage today's rule: the vendor and a shared '-instruct' go before the middle,
            # so 'llama-3.1-8b' and 'llama-3.3-70b' never both read 'meta-llam…-instruct'
            label.setText(fit_model_name(model.model, metrics, room))

    def show_figures(self, figures: DashboardFigures) -> None:
        self.caption.setText(self.tr("Ranked by tokens, {0} days to today ({1})").format(
            figures.query.top_models_days, day_mode_text(self, figures.query.utc)
        ))
        self.models = figures.top_models[:MAX_BARS]
        self._draw()

    def set_active_model(self, model: str | None) -> None:
        self._active = model
        if self.models:  # before the first figures there is nothing to redraw
            self._draw()

    def bar_center(self, index: int) -> QPointF:
        """Middle of a bar in view coordinates (for tests and keyboard-free checks)."""
        biggest = max(m.tokens for m in self.models) or 1
        return QPointF(self.models[index].tokens / biggest * BAR_SPAN / 2, index)

    def _brush(self, model: str) -> QColor:
        colour = QColor(chart_style.accent(self))
        colour.setAlpha(110 if self._active is None or model == self._active else 35)
        return colour

    def _draw(self) -> None:
        if not self.chart_slot.ready(self._draw):
            return
        import pyqtgraph as pg

        item = self.plot.getPlotItem()
        item.clear()
        self.labels = []
        self.name_labels = []
        self.value_labels = []
        if not self.models:
            empty = pg.TextItem(self.tr("No usage in this window"),
                                color=chart_style.text_colour(self), anchor=(0.5, 0.5))
            item.addItem(empty)
            empty.setPos(0.5, 0.5)
            item.setXRange(0, 1)
            item.setYRange(0, 1)
            self.labels.append(empty)
            return
        count = len(self.models)
        widths = [m.tokens for m in self.models]
        biggest = max(widths) or 1
        # names sit on translucent bars (full width for bars), values in a right-hand column
        self._bars = pg.BarGraphItem(
            x0=[0] * count, y=list(range(count)), height=BAR_HEIGHT,
            width=[w / biggest * BAR_SPAN for w in widths],
            brushes=[self._brush(m.model) for m in self.models], pens=[None] * count,
        )
        item.addItem(self._bars)
        text = chart_style.text_colour(self)
        for i, m in enumerate(self.models):
            tip = self.tr("{0}: {1} tokens").format(m.model, f"{m.tokens:,}")
            name = pg.TextItem(m.model, color=text, anchor=(0, 0.5))
            value = pg.TextItem(formatting.compact(m.tokens), color=text, anchor=(1, 0.5))
            for label, x in ((name, 0.005), (value, 1.0)):
                label.setToolTip(tip)
                item.addItem(label)
                label.setPos(x, i)
                self.labels.append(label)
            self.name_labels.append(name)
            self.value_labels.append(value)
        item.setXRange(0, 1.0, padding=0)
        item.setYRange(-0.5, count - 0.5, padding=0.02)
        self._fit_names()

    def _on_scene_click(self, event) -> None:
        view_box = self.plot.getPlotItem().getViewBox()
        pos = event.scenePos()
        if not self.models or not self.plot.getPlotItem().sceneBoundingRect().contains(pos):
            return
        point = view_box.mapSceneToView(pos)
        index = round(point.y())
        if 0 <= index < len(self.models) and abs(point.y() - index) <= BAR_HEIGHT / 2 + 0.1:
            self.modelClicked.emit(self.models[index].model)
