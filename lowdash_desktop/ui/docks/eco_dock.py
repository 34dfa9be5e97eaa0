"""Eco impact: 30-day energy and carbon, a baseline comparison, confidence and caveats."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QBoxLayout,
    QDockWidget,
    QFrame,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ...store.cache import Cache
from .. import formatting
from ..background import BackgroundCall
from ..keyboard import link_button
from ..widgets.chart_style import ChartSlot, style_plot

if TYPE_CHECKING:
    import pyqtgraph as pg

    from ...eco.impact import EcoReport

ACTUAL_COLOUR = "#009E73"
BASELINE_COLOUR = "#E69F00"


def compute_report(
    cache_path: Path, days: int = 30, scope: dict[str, str] | None = None
) -> EcoReport:
    """Open a reader on the cache and compute the report (runs on a worker thread)."""
    from ...eco.impact import report_from_cache  # ecologits loads off the UI thread

    cache = Cache.open_reader(cache_path)
    try:
        return report_from_cache(cache, days, scope=scope)
    finally:
        cache.close()


# the page's filters the panel follows: HistoryFilter attribute -> how the title names it
SCOPE_NAMES = (("model", "model"), ("provider", "provider"), ("region", "region"),
               ("key_id", "key"))


def scope_of(flt) -> dict[str, str]:
    """The model, provider, region and key filters of a HistoryFilter (or None) as a scope."""
    if flt is None:
        return {}
    return {attr: value for attr, _n in SCOPE_NAMES if (value := getattr(flt, attr, None))}


def _finite(values: list[float]) -> list[float]:
    """Non-finite values (a damaged cache, an overflow) as gaps, never as a range to draw."""
    return [v if math.isfinite(v) else math.nan for v in values]


class EcoDock(QDockWidget):
    """The Eco panel: actual vs baseline over the last 30 days, computed off the UI thread."""

    reportReady = Signal(object)
    baselineRequested = Signal()

    def __init__(self, parent=None, days: int = 30):
        super().__init__(parent)
        self.setObjectName("dock_eco")
        self.days = days
        self.report: EcoReport | None = None
        self.scope: dict[str, str] = {}
        self.key_labels = None  # KeyLabels: a key in the title by name, never by its id
        self._call: BackgroundCall | None = None
        self._pending_path: Path | None = None
        self._cache_path: Path | None = None
        # every report shown counts one generation; the chart only ever draws the latest one
        # (a draw queued while pyqtgraph loaded must not paint an older report over it)
        self._generation = 0
        self.drawn_generation = 0
        self.drawn_report: EcoReport | None = None
        self._set_title()
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setSpacing(4)
        self.actual_label = QLabel(body)
        self.actual_label.setObjectName("eco_actual")
        self.actual_label.setWordWrap(True)
        self.actual_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.baseline_label = QLabel(body)
        self.baseline_label.setObjectName("eco_baseline")
        self.baseline_label.setWordWrap(True)
        self.verdict_label = QLabel(body)
        self.verdict_label.setObjectName("eco_verdict")
        self.verdict_label.setWordWrap(True)
        font = self.verdict_label.font()
        font.setBold(True)
        self.verdict_label.setFont(font)
        layout.addWidget(self.actual_label)
        layout.addWidget(self.baseline_label)
        layout.addWidget(self.verdict_label)
        # the confidence on a line of its own (it wraps), the two links below it: side by side
        # they ran into each other in a narrow dock ("Reduced con" under "Show 7 caveats")
        self.confidence_label = QLabel(body)
        self.confidence_label.setObjectName("eco_confidence")
        self.confidence_label.setWordWrap(True)
        self.confidence_label.setAccessibleName(self.tr("Confidence of the eco estimate"))
        layout.addWidget(self.confidence_label)
        row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.links_row = row
        self.caveats_toggle = link_button("", body)
        self.caveats_toggle.setObjectName("eco_caveats_toggle")
        self.caveats_toggle.clicked.connect(lambda _c=False: self._toggle_caveats())
        self.caveats_toggle.hide()
        self.caveats_toggle.setAccessibleName(self.tr("Show or hide the caveats"))
        self.baseline_link = link_button(self.tr("Change baseline…"), body)
        self.baseline_link.setObjectName("eco_baseline_link")
        self.baseline_link.setAccessibleName(self.tr("Change the eco baseline model"))
        self.baseline_link.clicked.connect(lambda _c=False: self.baselineRequested.emit())
        row.addWidget(self.caveats_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        row.addStretch(1)
        row.addWidget(self.baseline_link, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(row)
        self.caveats_label = QLabel(body)
        self.caveats_label.setObjectName("eco_caveats")
        self.caveats_label.setWordWrap(True)
        self.caveats_label.setTextFormat(Qt.TextFormat.RichText)
        self.caveats_label.hide()
        layout.addWidget(self.caveats_label)
        # the legend above the chart, wrapping to the dock's width (seen with the chart's top
        # when the panel scrolls): drawn inside the plot it ran past the right edge of a
        # narrow dock and over the curves
        self.legend = QLabel(body)
        self.legend.setObjectName("eco_legend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAccessibleName(self.tr("Chart legend"))
        self.legend.hide()
        layout.addWidget(self.legend)
        self.chart_slot = ChartSlot(body, self._build_plot, 110)
        layout.addWidget(self.chart_slot, 1)
        # the sentences wrap to the dock's width (a fixed 300 px minimum cut them at the right
        # edge of a 250 px dock at 900x700); the panel scrolls down when they need more lines
        # than there is room, and sideways only when narrower than its widest link
        body.installEventFilter(self)  # the links go one under the other when narrow
        scroll = QScrollArea(self)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # its links and chart are the stops
        self.body = body
        self.setWidget(scroll)
        self.actual_label.setText(self.tr("No eco figures yet: sync to fill the cache."))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Resize and watched is getattr(self, "body", None):
            self._place_links(event.size().width())
        return super().eventFilter(watched, event)

    def _place_links(self, width: int) -> None:
        """'Show 7 caveats' and 'Change baseline…' side by side when both fit, else stacked."""
        margins = self.body.layout().contentsMargins()
        links = [w for w in (self.caveats_toggle, self.baseline_link) if not w.isHidden()]
        need = sum(w.sizeHint().width() for w in links) + self.links_row.spacing() * 2
        fits = need <= width - margins.left() - margins.right()
        direction = QBoxLayout.Direction.LeftToRight if fits else QBoxLayout.Direction.TopToBottom
        if self.links_row.direction() != direction:
            self.links_row.setDirection(direction)

    # -- scope ----------------------------------------------------------------------------------
    def _set_title(self) -> None:
        """'Eco impact (last 30 days)', or which slice it shows: '…, model X'."""
        names = dict(SCOPE_NAMES)
        parts = [f"{self.tr(names[k])} {self._shown(k, v)}" for k, v in self.scope.items()]
        if parts:
            self.setWindowTitle(self.tr("Eco impact (last {0} days, {1})").format(
                self.days, ", ".join(parts)))
        else:
            self.setWindowTitle(self.tr("Eco impact (last {0} days)").format(self.days))

    def _shown(self, attr: str, value: str) -> str:
        """A scope value as the user knows it: a key by its name (its id only when the
        cached key list does not hold it)."""
        if attr == "key_id" and self.key_labels is not None:
            return self.key_labels.name(value) or value
        return value

    def _key_tooltip(self) -> str:
        key_id = self.scope.get("key_id")
        if key_id is None or self.key_labels is None:
            return ""
        return self.key_labels.tooltip(key_id) or ""

    def set_key_labels(self, labels) -> None:
        """The cached key list changed: the title and the figures name keys from it."""
        self.key_labels = labels
        self._set_title()
        if self.report is not None:
            self.show_report(self.report)

    def set_scope(self, flt) -> None:
        """Follow the page's model, provider, region and key filters (a HistoryFilter)."""
        scope = scope_of(flt)
        if scope == self.scope:
            return
        self.scope = scope
        self._set_title()
        if self._cache_path is not None:
            self.refresh(self._cache_path)

    def show_loading(self, text: str) -> None:
        """The first sync is filling an empty cache: say so, and show no report of the empty
        cache meanwhile ('0 Wh', 'No comparison available', 'Show 3 caveats'); the report
        computed once the sync has ended (refresh) shows."""
        self.loading = True
        self.actual_label.setText(text)
        for label in (self.baseline_label, self.verdict_label, self.confidence_label):
            label.clear()
        self.caveats_toggle.hide()
        self.caveats_label.hide()
        self.legend.hide()

    # -- computing ------------------------------------------------------------------------------
    loading = False

    stopped = False

    def stop(self) -> None:
        """The window is closing: no computation starts from now on (one waiting for the one
        in flight is dropped; that one is ended by the window)."""
        self.stopped = True
        self._pending_path = None

    def refresh(self, cache_path: Path) -> None:
        """Recompute from the cache on a worker thread; `reportReady` fires when shown."""
        if self.stopped:
            return
        self.loading = False
        self._cache_path = cache_path
        if self._call is not None:
            self._pending_path = cache_path  # one at a time; run again when this one ends
            return
        self.verdict_label.setText(self.tr("Computing…") if self.report is None else "")
        scope = dict(self.scope)
        call = BackgroundCall(lambda: compute_report(cache_path, self.days, scope), self)
        call.done.connect(self._on_done)
        call.error.connect(self._on_error)
        self._call = call
        call.start()

    def _finish_call(self) -> None:
        if self._call is not None:
            self._call.deleteLater()
        self._call = None
        if self._pending_path is not None:
            path, self._pending_path = self._pending_path, None
            self.refresh(path)

    def _on_done(self, report: EcoReport) -> None:
        if self._pending_path is not None or self.loading:
            # a newer request (another filter, a sync, a baseline) is waiting, or a first sync
            # began meanwhile: this report is already out of date, so it is never shown; the
            # newer one follows
            self._finish_call()
            return
        self.show_report(report)
        self._finish_call()
        self.reportReady.emit(report)

    def _on_error(self, exc: Exception) -> None:
        self.verdict_label.setText(formatting.sentence(
            self.tr("Could not compute the eco figures: {0}").format(exc)))
        self._finish_call()
        self.reportReady.emit(None)

    # -- showing ---------------------------------------------------------------------------------
    def show_report(self, report: EcoReport) -> None:
        """Fill the labels and the chart from a report."""
        self.report = report
        self._generation += 1
        a = report.actual
        scope = report.scope or {}
        what = self.tr("Actual") if not scope else self.tr("Actual ({0})").format(
            ", ".join(self._shown(k, v) for k, v in scope.items()))
        self.actual_label.setToolTip(self._key_tooltip())
        self.actual_label.setText(
            self.tr("{0}: {1} · {2}\n{3} generations, {4} completion tokens").format(
                what,
                formatting.energy_range(a.energy_wh.value, a.energy_wh.low, a.energy_wh.high),
                formatting.carbon_range(a.carbon_g.value, a.carbon_g.low, a.carbon_g.high),
                formatting.count(report.generations), formatting.tokens(report.tokens),
            )
        )
        b = report.baseline
        if b is None:
            self.baseline_label.setText(self.tr("Baseline: none computed (see caveats)."))
        else:
            self.baseline_label.setText(
                self.tr("Same usage on {0}: {1} · {2}").format(
                    report.baseline_name or report.baseline_model,
                    formatting.energy_range(b.energy_wh.value, b.energy_wh.low,
                                            b.energy_wh.high),
                    formatting.carbon_range(b.carbon_g.value, b.carbon_g.low, b.carbon_g.high),
                )
            )
        self.verdict_label.setText(self.verdict_text(report))
        self._show_confidence(report)
        self._draw()

    def verdict_text(self, report: EcoReport) -> str:
        """Energy and carbon judged apart: 'You saved …' only when both are below the baseline
        beyond the overlap of the ranges; a metric that rose is said to have risen."""
        from ...eco.wording import verdict_text

        return verdict_text(report, formatting.eco_writer())

    def _show_confidence(self, report: EcoReport) -> None:
        from html import escape  # after the first paint: html loads its entity tables (3 ms)

        items = report.confidence_reasons + report.caveats
        if report.confidence == "reduced":
            self.confidence_label.setText("⚠ " + self.tr("Reduced confidence"))
            self.confidence_label.setToolTip(" ".join(report.confidence_reasons))
        else:
            self.confidence_label.setText(self.tr("Confidence: normal"))
            self.confidence_label.setToolTip("")
        self.caveats_label.setText(
            "<ul style='margin-left:-20px'>"
            + "".join(f"<li>{escape(text)}</li>" for text in items)
            + "</ul>"
        )
        self._update_toggle(len(items))

    def _update_toggle(self, count: int) -> None:
        if not count:
            self.caveats_toggle.setText("")
            self.caveats_toggle.hide()
            self.caveats_label.hide()
            return
        text = (
            self.tr("Hide caveats") if self.caveats_label.isVisible()
            else self.tr("Show {0} caveats").format(count)
        )
        self.caveats_toggle.setText(text)
        self.caveats_toggle.show()
        self._place_links(self.body.width())

    def _toggle_caveats(self, _link: str = "") -> None:
        """Show or hide the caveats list inline."""
        self.caveats_label.setVisible(not self.caveats_label.isVisible())
        report = self.report
        if report is not None:
            self._update_toggle(len(report.confidence_reasons) + len(report.caveats))

    def caveats_visible(self) -> bool:
        """True when the caveats list is shown (not just when its parent is)."""
        return not self.caveats_label.isHidden()

    # -- chart -------------------------------------------------------------------------------------
    @property
    def plot(self) -> pg.PlotWidget:
        return self.chart_slot.plot()

    def _build_plot(self, parent: QWidget) -> pg.PlotWidget:
        import pyqtgraph as pg

        plot = pg.PlotWidget(parent)
        plot.setObjectName("eco_chart")
        plot.setAccessibleName(self.tr("Energy per day, actual and baseline"))
        style_plot(plot, self)
        item = plot.getPlotItem()
        item.setLabel("left", self.tr("Wh per day"))
        item.setLabel("bottom", self.tr("UTC day"))
        return plot

    def _draw(self) -> None:
        """Draw the latest report. A draw put off while pyqtgraph loads runs later, when a
        newer report may have been drawn already: it draws whatever is latest then, and a draw
        of a generation already on the chart is skipped."""
        if not self.chart_slot.ready(self._draw):
            return
        report = self.report
        if report is None or self.drawn_generation == self._generation:
            return
        from html import escape

        import pyqtgraph as pg

        item = self.plot.getPlotItem()
        item.clear()
        legend = [f'<span style="color:{ACTUAL_COLOUR}">━</span>&nbsp;'
                  + escape(self.tr("Actual"))]
        xs = list(range(len(report.day_labels)))
        actual = _finite(report.actual_per_day_wh)
        item.plot(xs, actual, name=self.tr("Actual"),
                  pen=pg.mkPen(QColor(ACTUAL_COLOUR), width=2), fillLevel=0,
                  brush=QColor(0, 158, 115, 50), connect="finite")
        shown = [v for v in actual if math.isfinite(v)]
        if report.baseline_per_day_wh is not None:
            baseline = _finite(report.baseline_per_day_wh)
            item.plot(xs, baseline,
                      name=self.tr("Baseline ({0})").format(report.baseline_name or ""),
                      pen=pg.mkPen(QColor(BASELINE_COLOUR), width=2,
                                   style=Qt.PenStyle.DashLine), connect="finite")
            shown += [v for v in baseline if math.isfinite(v)]
            legend.append(f'<span style="color:{BASELINE_COLOUR}">╍</span>&nbsp;' + escape(
                self.tr("Baseline ({0})").format(report.baseline_name or "")))
        self.legend.setText("&nbsp;&nbsp; ".join(legend))
        self.legend.show()
        top = max(shown, default=0.0)
        if not math.isfinite(top * 1.3) or top <= 0:
            top = 1.0
        step = max(1, len(xs) // 5)
        item.getAxis("bottom").setTicks([[
            (i, formatting.day_month(report.day_labels[i]))
            for i in range(len(xs) - 1, -1, -step)
        ]])
        item.setXRange(-0.5, max(0, len(xs) - 0.5), padding=0)
        item.setYRange(0, top * 1.3, padding=0)
        self.drawn_generation = self._generation
        self.drawn_report = report
        self.plot.setToolTip(self.tr("Energy per day (UTC days): actual and baseline"))

    def busy(self) -> bool:
        """True while a computation runs."""
        return self._call is not None or self._pending_path is not None
